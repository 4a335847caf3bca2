"""Helpers shared by the trust tests."""

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections


def one_of_each(organization) -> dict:
    """One of each object the API's paths name: connections, a model, a sync and its run,
    a bulk sync and its run, a webhook."""
    from console.bulk.models import BulkSync
    from console.connections.models import Connection
    from console.datamodels.models import DataModel
    from console.engine.models import Webhook
    from console.engine.models import Execution, ExecutionStatus
    from console.syncs.models import Sync

    warehouse = Connection.objects.create(organization=organization, name="Warehouse", type="postgresql")
    target = Connection.objects.create(organization=organization, name="CRM", type="salesloft")
    model = DataModel.objects.create(organization=organization, connection=warehouse, name="Users",
                                     configuration={"query": "SELECT 1"})
    sync = Sync.objects.create(
        organization=organization, name="Users to CRM", mode="updateOrCreate", model=model,
        target_connection=target, target_object="people",
        identity={"source": {"model_id": str(model.pk), "field": "email"}, "target": "email",
                  "function": "Equality"},
        fields=[], schedule={"frequency": "manual"},
    )
    execution = Execution.objects.create(sync=sync, status=ExecutionStatus.COMPLETED)
    salesforce = Connection.objects.create(organization=organization, name="SF", type="salesforce")
    bulk = BulkSync.objects.create(organization=organization, name="Copy", source_connection=salesforce,
                                   destination_connection=warehouse, schedule={"frequency": "manual"})
    return {"connection": warehouse.pk, "model": model.pk, "sync": sync.pk, "execution": execution.pk,
            "bulk": bulk.pk, "bulk_execution": bulk.executions.create(status=ExecutionStatus.COMPLETED).pk,
            "webhook": Webhook.objects.create(organization=organization, endpoint="https://example.com/hook").pk}


@pytest.fixture
def keep_test_connection():
    """As Django's test client does: requests must not close the test transaction's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def existing(keep_test_connection, organization, org_admin, settings):
    """One of each object the API's paths name, so that generated ids can hit them."""
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    ids = {kind: str(pk) for kind, pk in one_of_each(organization).items()}
    return {**ids, "user": str(org_admin.pk)}


# Which object an {id} in a path means, by the path's start (first match wins).
ID_BY_PATH = [("/api/syncs/{sync_id}/executions/", "execution"), ("/api/syncs/", "sync"),
              ("/api/bulk/syncs/", "bulk"), ("/api/models/", "model"), ("/api/connections/", "connection"),
              ("/api/webhooks/", "webhook")]


def known_path_parameters(path: str, ids: dict) -> dict:
    """Real ids for the path's parameters, by what the path is about."""
    params = {"user_id": ids["user"], "connection_id": ids["connection"], "sync_id": ids["sync"],
              "exec_id": ids["execution"], "type_id": "postgresql"}
    kind = next((kind for prefix, kind in ID_BY_PATH if path.startswith(prefix)), None)
    if kind:
        params["id"] = ids[kind]
    return params
