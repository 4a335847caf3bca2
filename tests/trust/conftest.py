"""Helpers shared by the trust tests."""


def one_of_each(organization) -> dict:
    """One of each object the API's paths name: connections, a model, a sync and its run,
    a bulk sync and its run, a webhook."""
    from console.bulk.models import BulkSync
    from console.connections.models import Connection
    from console.datamodels.models import DataModel
    from console.engine.models import Webhook
    from console.syncs.models import Execution, ExecutionStatus, Sync

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
