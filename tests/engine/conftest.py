import contextlib

import pytest

from console.connections.models import Connection
from console.datamodels.models import DataModel
from console.engine import services
from console.syncs.models import Sync


@pytest.fixture
def warehouse(organization):
    return Connection.objects.create(organization=organization, name="Warehouse", type="postgresql")


@pytest.fixture
def data_model(organization, warehouse):
    return DataModel.objects.create(
        organization=organization, connection=warehouse, name="Users",
        configuration={"query": "SELECT * FROM users"},
    )


@pytest.fixture
def target_connection(organization):
    return Connection.objects.create(organization=organization, name="CRM", type="fake")


def field(model, column, target):
    return {"source": {"model_id": str(model.pk), "field": column}, "target": target}


@pytest.fixture
def make_sync(organization, data_model, target_connection):
    def make(mode="updateOrCreate", **extra):
        values = dict(
            organization=organization,
            name=f"Users to CRM ({mode})",
            mode=mode,
            model=data_model,
            target_connection=target_connection,
            target_object="people",
            identity={"source": {"model_id": str(data_model.pk), "field": "email"},
                      "target": "email", "function": "Equality"},
            fields=[field(data_model, "first_name", "first"), field(data_model, "plan", "plan")],
            schedule={"frequency": "manual"},
        )
        values.update(extra)
        return Sync.objects.create(**values)

    return make


@pytest.fixture
def run_in_process(monkeypatch):
    """Run an execution here, with fake rows and a fake target, without the heartbeat thread."""
    monkeypatch.setattr(services.sync_runs, "heartbeat", lambda *a: contextlib.nullcontext())

    def run(sync, rows, target, batch_size=3, **start):
        from tests.engine.fakes import batches

        monkeypatch.setattr(services, "open_rows", lambda s, n, *_: batches(rows, batch_size))
        monkeypatch.setattr(services, "open_writer", lambda s, *_: target)
        execution = services.start_execution(sync, **start)
        services.sync_runs.run(execution.pk)
        execution.refresh_from_db()
        return execution

    return run
