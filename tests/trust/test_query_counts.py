"""No N+1: list pages and list endpoints run as many queries for 20 rows as for 2.

Each case renders the URL with 2 objects of its kind, then adds 18 more and
renders again, allowing no more queries than the first time.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from console.bulk.models import BulkExecution, BulkSync
from console.connections.models import Connection
from console.datamodels.models import DataModel
from console.engine.models import Execution, ExecutionLog, ExecutionStatus, RecordError
from console.syncs.models import Sync

pytestmark = pytest.mark.django_db


class World:
    """One organization's objects, grown on demand: syncs with their models and
    connections, and runs, errors and logs on the first sync."""

    def __init__(self, organization, user):
        self.organization, self.user = organization, user
        self.syncs, self.bulk_syncs = [], []
        self.warehouse = self.connection("Warehouse", "postgresql")
        self.sync = self.add_sync()
        self.execution = Execution.objects.create(sync=self.sync, status=ExecutionStatus.COMPLETED,
                                                  inserted=3, errored=1)
        self.bulk = self.add_bulk_sync()

    def connection(self, name, type):
        return Connection.objects.create(organization=self.organization, name=name, type=type,
                                         created_by=self.user)

    def add_sync(self):
        n = len(self.syncs)
        model = DataModel.objects.create(organization=self.organization, connection=self.warehouse,
                                         name=f"Model {n}", configuration={"query": "SELECT 1"})
        target = self.connection(f"CRM {n}", "salesloft")
        sync = Sync.objects.create(
            organization=self.organization, name=f"Sync {n}", mode="updateOrCreate", model=model,
            target_connection=target, target_object="people",
            identity={"source": {"model_id": str(model.pk), "field": "email"}, "target": "email",
                      "function": "Equality"},
            fields=[{"source": {"model_id": str(model.pk), "field": "name"}, "target": "name"}],
            schedule={"frequency": "manual"}, created_by=self.user, updated_by=self.user,
        )
        Execution.objects.create(sync=sync, status=ExecutionStatus.COMPLETED, inserted=1)
        self.syncs.append(sync)
        return sync

    def add_bulk_sync(self):
        n = len(self.bulk_syncs)
        source = self.connection(f"Salesforce {n}", "salesforce")
        bulk = BulkSync.objects.create(organization=self.organization, name=f"Bulk {n}", source_connection=source,
                                       destination_connection=self.warehouse, schedule={"frequency": "manual"},
                                       created_by=self.user, updated_by=self.user)
        BulkExecution.objects.create(sync=bulk, status=ExecutionStatus.COMPLETED)
        self.bulk_syncs.append(bulk)
        return bulk

    def grow(self, n):
        """Up to n of everything."""
        while len(self.syncs) < n:
            self.add_sync()
        while len(self.bulk_syncs) < n:
            self.add_bulk_sync()
        runs = Execution.objects.filter(sync=self.sync).count()
        for i in range(runs, n):
            Execution.objects.create(sync=self.sync, status=ExecutionStatus.FAILED, error="boom",
                                     retry_of=self.execution, inserted=i, errored=1)
        errors = RecordError.objects.filter(execution=self.execution).count()
        RecordError.objects.bulk_create(
            RecordError(execution=self.execution, identity=f"p{i}@example.com", kind="rejected",
                        action="insert", message="Nope", payload={"email": f"p{i}@example.com"})
            for i in range(errors, n)
        )
        logs = ExecutionLog.objects.filter(execution=self.execution).count()
        ExecutionLog.objects.bulk_create(
            ExecutionLog(execution=self.execution, message=f"line {i}") for i in range(logs, n)
        )


@pytest.fixture
def world(organization, org_admin, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    return World(organization, org_admin)


def queries_for(client, url) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return len(captured), [q["sql"] for q in captured.captured_queries]


def assert_constant(client, world, url_of):
    small, _ = queries_for(client, url_of(world))
    world.grow(20)
    large, sql = queries_for(client, url_of(world))
    assert large <= small, f"{large} queries for 20 rows, {small} for 2:\n" + "\n".join(sql)


PAGES = {
    "sync list": lambda w: "/syncs",
    "sync detail": lambda w: f"/syncs/{w.sync.pk}",
    "run history": lambda w: f"/syncs/{w.sync.pk}/runs",
    "run history table": lambda w: f"/syncs/{w.sync.pk}/runs?part=table",
    "run": lambda w: f"/syncs/{w.sync.pk}/runs/{w.execution.pk}",
    "run progress": lambda w: f"/syncs/{w.sync.pk}/runs/{w.execution.pk}/progress",
    "run errors": lambda w: f"/syncs/{w.sync.pk}/runs/{w.execution.pk}/errors",
    "connections": lambda w: "/connections",
    "models": lambda w: "/models",
    "model detail": lambda w: f"/models/{w.sync.model_id}",
    "bulk syncs": lambda w: "/bulk",
}

API_LISTS = {
    "syncs": lambda w: "/api/syncs",
    "executions": lambda w: f"/api/syncs/{w.sync.pk}/executions",
    "sync status": lambda w: f"/api/syncs/{w.sync.pk}/status",
    "connections": lambda w: "/api/connections",
    "models": lambda w: "/api/models",
    "bulk syncs": lambda w: "/api/bulk/syncs",
    "bulk status": lambda w: "/api/bulk/syncs/status",
    "bulk executions": lambda w: f"/api/bulk/syncs/{w.bulk.pk}/executions",
    "record errors": lambda w: f"/api/syncs/{w.sync.pk}/executions/{w.execution.pk}/record-errors",
    "record logs": lambda w: f"/api/syncs/{w.sync.pk}/executions/{w.execution.pk}/logs",
    "console log": lambda w: f"/api/syncs/{w.sync.pk}/executions/{w.execution.pk}/consolelog",
}


@pytest.mark.parametrize("name", PAGES)
def test_console_page_queries_do_not_grow_with_rows(name, world, console):
    if name == "run history table":
        console.defaults["HTTP_HX_REQUEST"] = "true"
    assert_constant(console, world, PAGES[name])


@pytest.mark.parametrize("name", API_LISTS)
def test_api_list_queries_do_not_grow_with_rows(name, world, api):
    assert_constant(api, world, API_LISTS[name])


def test_the_world_really_grows(world):
    world.grow(20)
    assert Sync.objects.filter(organization=world.organization).count() == 20
    assert BulkSync.objects.filter(organization=world.organization).count() == 20
    assert world.sync.executions.count() == 20
    assert world.execution.record_errors.count() == 20
