"""Bulk runs' Celery tasks: those of the run lifecycle (run, sweep, dispatch due)."""

from console.engine.lifecycle import register_tasks

from . import runs

run_execution, sweep, dispatch_due_syncs = register_tasks(runs.bulk_runs)
