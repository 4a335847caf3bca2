"""The engine's knobs: environment first, then Django settings, then these defaults."""

import os

from django.conf import settings

DEFAULTS = {
    "ENGINE_SOURCE_BATCH_SIZE": 1000,  # rows read from the model at a time
    "ENGINE_WRITE_AHEAD": 2,  # chunks in flight at once while earlier ones are recorded (0: in turn)
    "ENGINE_HEARTBEAT_SECONDS": 5,
    "ENGINE_STALE_SECONDS": 60,  # no heartbeat for this long: the worker died
    "ENGINE_QUEUED_RESEND_SECONDS": 300,  # queued this long: the task message was lost
    "ENGINE_MAX_ATTEMPTS": 3,
    "ENGINE_WIPE_GUARD_RATIO": 0.5,  # refuse to remove more than this share of written records
    "ENGINE_WIPE_GUARD_MIN": 10,  # ... once the sync has written at least this many
    "ENGINE_CONTINUOUS_SECONDS": 60,  # a continuous sync starts at most this often
    "ENGINE_FAILED_TARGET_BATCHES": 3,  # consecutive failed batches that stop a run
    "ENGINE_MAX_RATE_WAIT_SECONDS": 600,  # longer than this waiting on a budget fails the run
    "ENGINE_INTERACTIVE_SHARE": 0.1,  # share of each budget runs leave to interactive calls (discovery, checks)
    "ENGINE_INTERACTIVE_WAIT_SECONDS": 8.0,  # an interactive call waits this long for the budget, then 429
    "ENGINE_REDIS_OUTAGE_SECONDS": 20,  # Redis (the shared budgets) unreachable this long fails the run
    "ENGINE_QUEUE": "celery",  # the Celery queue long runs (model and bulk syncs) are sent to
    "ENGINE_SHORT_QUEUE": "interactive",  # every other task: discovery, webhooks, schedule ticks, queries
    "ENGINE_RECORD_ERROR_DAYS": 14,  # per-record errors of finished runs are kept this long
    "ENGINE_EVENT_DAYS": 7,  # run events (and their webhook deliveries)
}


def setting(name: str):
    default = DEFAULTS[name]
    raw = os.environ.get(name)
    if raw is None:
        return getattr(settings, name, default)
    return type(default)(raw)
