"""Bulk runs' Celery tasks: those of the run lifecycle (run, sweep, dispatch due)."""

from celery import shared_task

from console.engine.lifecycle import register_tasks

from . import runs
from .models import BulkExecution

run_execution, sweep, dispatch_due_syncs = register_tasks(runs.bulk_runs)


@shared_task(name="bulk.send_failure_email", ignore_result=True)
def send_failure_email(execution_id: str):
    runs.send_failure_email(BulkExecution.objects.select_related("sync__organization").get(pk=execution_id))
