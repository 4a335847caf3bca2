import sqlite3

import pytest

from console.connections.models import Connection
from console.connections.services import create_connection
from console.syncs.models import Sync
from integrations.demo import warehouse as demo
from tests.conftest import allow_egress

ROWS = 40  # rows per demo table
SEED_SNOWFLAKE = {"account": "uc193736182", "username": "user", "password": "secret", "dbname": "database"}


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory):
    """The seeded demo warehouse (fakesnow) in a child process."""
    with demo.running_fakesnow(tmp_path_factory.mktemp("models-fakesnow"), rows=ROWS) as endpoint:
        allow_egress(endpoint)
        yield endpoint


@pytest.fixture
def snowflake(organization, demo_warehouse, settings):
    settings.SNOWFLAKE_ENDPOINT = demo_warehouse
    return create_connection(organization, name="Snowflake Connection", type_id="snowflake",
                             configuration=SEED_SNOWFLAKE, validate=False)


@pytest.fixture
def sqlite_file(tmp_path):
    """A small SQLite warehouse whose `people` table a test may change."""
    path = tmp_path / "warehouse.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (email TEXT, first_name TEXT, score INTEGER)")
        db.executemany("INSERT INTO people VALUES (?, ?, ?)",
                       [(f"p{i}@example.com", f"First{i}", i) for i in range(5)])
    return path


@pytest.fixture
def sqlite_warehouse(organization, sqlite_file, settings) -> Connection:
    settings.FILE_CONNECTIONS_DIR = str(sqlite_file.parent)
    return create_connection(organization, name="Local SQLite", type_id="sqlite",
                             configuration={"path": sqlite_file.name}, validate=False)


@pytest.fixture
def sync_using(organization):
    """sync_using(model, "email", "first_name") -> a sync whose identity and fields use those columns."""
    def make(model, identity, *fields):
        target = Connection.objects.create(organization=organization, name="CRM", type="salesloft")
        source = lambda name: {"model_id": str(model.pk), "field": name}  # noqa: E731
        return Sync.objects.create(
            organization=organization, name=f"{model.name} to CRM", mode="updateOrCreate", model=model,
            target_connection=target, target_object="people",
            identity={"source": source(identity), "target": "email_address", "function": "Equality"},
            fields=[{"source": source(name), "target": name} for name in fields],
            schedule={"frequency": "manual"},
        )

    return make
