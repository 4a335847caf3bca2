"""Thin Celery tasks: ids in, runs out."""

from celery import shared_task

from . import runs


@shared_task(name="bulk.run_execution", acks_late=True, reject_on_worker_lost=True)
def run_execution(execution_id: str):
    runs.run_execution(execution_id)


@shared_task(name="bulk.dispatch_due_syncs", ignore_result=True)
def dispatch_due_syncs():
    return runs.dispatch_due()


@shared_task(name="bulk.sweep", ignore_result=True)
def sweep():
    return runs.sweep()
