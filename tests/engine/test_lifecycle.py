"""The run lifecycle's Celery tasks: services send them by name, so each name must be a registered task."""

from django.conf import settings

from console.bulk.runs import bulk_runs
from console.engine import queue
from console.engine.lifecycle import Lifecycle
from console.engine.services import sync_runs


def test_every_task_sent_by_name_or_named_by_the_beat_is_registered():
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    names |= {f"{runs.name}.run_execution" for runs in (sync_runs, bulk_runs)}
    names |= {"engine.deliver_event", "engine.send_failure_email", "bulk.send_failure_email"}
    assert {"engine.sweep", "bulk.sweep", "engine.dispatch_due_syncs", "bulk.dispatch_due_syncs"} <= names
    assert {name: queue.task(name).name for name in names} == {name: name for name in names}


def test_model_and_bulk_runs_are_one_lifecycle_over_their_own_models():
    assert isinstance(sync_runs, Lifecycle) and isinstance(bulk_runs, Lifecycle)
    assert (sync_runs.model.__name__, sync_runs.syncs.__name__) == ("Execution", "Sync")
    assert (bulk_runs.model.__name__, bulk_runs.syncs.__name__) == ("BulkExecution", "BulkSync")
