"""The demo warehouse (fakesnow, DuckDB underneath) runs on the console's machine: a query
sent to it straight, past the console's own SQL check, still reads and writes no file."""

import pytest
from django.conf import settings
from snowflake.connector.errors import ProgrammingError

from integrations.warehouses.snowflake import SnowflakeSource
from tests.warehouses.conftest import SEED_CONFIG


@pytest.fixture
def duck(fakesnow_endpoint):
    connection = SnowflakeSource(SEED_CONFIG, endpoint=fakesnow_endpoint)._connect()
    yield connection.cursor()
    connection.close()


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("top-secret,value\n")
    return path


@pytest.mark.parametrize("query", [
    "SELECT * FROM read_text('{secret}')",
    "SELECT * FROM read_csv('{secret}')",
    "SELECT * FROM read_blob('{secret}')",
    "SELECT * FROM read_text('{var}/secret_key')",
    "SELECT * FROM sqlite_scan('{var}/console.sqlite3', 'django_session')",
    "COPY INTO users FROM 'file://{secret}'",
    "CREATE DATABASE leaked",
    "LOAD sqlite",
])
def test_duckdb_file_functions_extensions_and_attach_are_refused(duck, secret, query):
    with pytest.raises(ProgrammingError) as refused:
        duck.execute(query.format(secret=secret, var=settings.VAR_DIR))
    assert "top-secret" not in str(refused.value)
    assert any(text in str(refused.value) for text in ("Permission Error", "extension"))


def test_the_demo_tables_still_answer(duck):
    duck.execute("SELECT count(*) FROM users")
    assert duck.fetchone()[0] > 0
