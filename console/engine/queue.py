"""Celery tasks sent by name once the transaction commits.

The modules that send tasks are the ones the task modules call, so they name a
task instead of importing it.
"""

import logging

from django.db import transaction

from console.celery import app

logger = logging.getLogger(__name__)


def task(name: str):
    """The registered task of this name (the apps' task modules are imported on first use)."""
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


def send_on_commit(name: str, *args, queue: str = ""):
    """Send the task once the current transaction commits; a broker that is down is logged."""

    def send():
        try:
            task(name).apply_async(args, **({"queue": queue} if queue else {}))
        except Exception:  # noqa: BLE001 - the broker is down; the sweeper sends runs again
            logger.warning("Could not send %s%r", name, args, exc_info=True)

    transaction.on_commit(send)
