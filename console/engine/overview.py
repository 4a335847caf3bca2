"""What the lists and the home page show about runs: each sync's last run, its target by
name, and what needs attention (failing syncs, runs in progress, broken connections,
records rejected lately). Reads the database only; never asks a provider."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.utils import timezone

from console.bulk.models import BulkExecution
from console.connections.models import ConnectionStatus
from console.targets.models import DiscoveryCache
from console.targets.services import OBJECTS

from .models import ACTIVE_STATUSES, Execution, ExecutionStatus, RecordError

REJECTED_WINDOW = timedelta(hours=24)


def latest_run(execution_model, field="pk"):
    """A subquery: the newest real (not trial) run of the outer sync, one of its fields."""
    runs = execution_model.objects.filter(sync=OuterRef("pk"), **{execution_model.TRIAL_FLAG: False})
    return Subquery(runs.order_by("-created_at", "-id").values(field)[:1])


def with_last_runs(syncs, execution_model) -> list:
    """The syncs, each with `last_run` (its newest real run, or None)."""
    syncs = list(syncs.annotate(last_run_id=latest_run(execution_model)))
    runs = execution_model.objects.in_bulk([s.last_run_id for s in syncs if s.last_run_id])
    for sync in syncs:
        sync.last_run = runs.get(sync.last_run_id)
    return syncs


def with_target_names(syncs: list) -> list:
    """Each sync with `target_name`: its target object's name as the connection last listed
    its objects (discovery cache), or None when that list is unknown."""
    connection_ids = {s.target_connection_id for s in syncs}
    names = {}
    for entry in DiscoveryCache.objects.filter(connection_id__in=connection_ids, key=OBJECTS):
        names[entry.connection_id] = {o["id"]: o["name"] for o in entry.data}
    for sync in syncs:
        name = names.get(sync.target_connection_id, {}).get(sync.target_object)
        sync.target_name = name if name and name != sync.target_object else None
    return syncs


@dataclass
class Attention:
    failing: list  # syncs whose last run failed or rejected records
    failing_bulk: list  # bulk syncs whose last run failed
    running: list  # executions in progress
    running_bulk: list
    connections: list  # needing a reconnect or failing their check
    rejected: list  # {sync id, name, count} over the last 24 hours
    rejected_total: int

    @property
    def anything(self) -> bool:
        return any((self.failing, self.failing_bulk, self.running, self.running_bulk, self.connections, self.rejected))


def attention(syncs, bulk_syncs, connections, now=None) -> Attention:
    """What needs a look, among the syncs, bulk syncs and connections given (the visible ones)."""
    now = now or timezone.now()
    execution_model, bulk_execution_model = Execution, BulkExecution
    failing = with_last_runs(
        syncs.annotate(last_status=latest_run(execution_model, "status"),
                       last_errored=latest_run(execution_model, "errored"))
        .filter(Q(last_status=ExecutionStatus.FAILED) | Q(last_errored__gt=0)).select_related("target_connection"),
        execution_model,
    )
    failing_bulk = with_last_runs(
        bulk_syncs.annotate(last_status=latest_run(bulk_execution_model, "status"))
        .filter(last_status=ExecutionStatus.FAILED),
        bulk_execution_model,
    )
    running = list(
        execution_model.objects.filter(sync__in=syncs, status__in=ACTIVE_STATUSES, dry_run=False)
        .select_related("sync").order_by("created_at")
    )
    running_bulk = list(
        bulk_execution_model.objects.filter(sync__in=bulk_syncs, status__in=ACTIVE_STATUSES, is_test=False)
        .select_related("sync").order_by("created_at")
    )
    broken = list(
        connections.filter(status__in=[ConnectionStatus.NEEDS_RECONNECT, ConnectionStatus.UNHEALTHY]).order_by("name")
    )
    rejected = list(
        RecordError.objects.filter(execution__sync__in=syncs, created_at__gte=now - REJECTED_WINDOW)
        .values("execution__sync_id", "execution__sync__name")
        .annotate(count=Count("id"), latest=Max("created_at"))
        .order_by("-count")
    )
    return Attention(
        failing=failing,
        failing_bulk=failing_bulk,
        running=running,
        running_bulk=running_bulk,
        connections=broken,
        rejected=[{"sync_id": r["execution__sync_id"], "name": r["execution__sync__name"], "count": r["count"]}
                  for r in rejected],
        rejected_total=sum(r["count"] for r in rejected),
    )
