"""When syncs run: schedules to times (cron via croniter, UTC), due syncs to executions,
and the runs that follow a run (continuous, run-after)."""

import logging
from datetime import datetime, timedelta

from croniter import croniter
from django.utils import timezone

from console.engine.models import ACTIVE_STATUSES, Execution, ExecutionStatus
from console.syncs.models import Sync

from .conf import setting

logger = logging.getLogger(__name__)

TIMED = ("hourly", "daily", "weekly", "custom", "builder")
DISPATCHED = TIMED + ("continuous",)


def cron_expression(schedule: dict) -> str | None:
    """The five cron fields a timed schedule stands for; None for untimed frequencies."""
    frequency = (schedule or {}).get("frequency") or "manual"

    def part(name, default="*"):
        value = schedule.get(name)
        return str(value).strip() if value not in (None, "") else default

    if frequency == "hourly":
        return f"{part('minute', '0')} * * * *"
    if frequency == "daily":
        return f"{part('minute', '0')} {part('hour', '0')} * * *"
    if frequency == "weekly":
        return f"{part('minute', '0')} {part('hour', '0')} * * {part('day_of_week', '0')}"
    if frequency in ("custom", "builder"):
        return " ".join(
            part(name) for name in ("minute", "hour", "day_of_month", "month", "day_of_week")
        )
    return None


def validate(schedule: dict) -> str | None:
    """Why a schedule cannot run, or None. For sync validation."""
    expression = cron_expression(schedule)
    if expression and not croniter.is_valid(expression):
        return f"'{expression}' is not a valid schedule (minute hour day-of-month month day-of-week, UTC)."
    return None


def next_run_time(schedule: dict, after: datetime | None = None) -> datetime | None:
    """The first time after `after` a sync with this schedule is due (UTC); None if it
    only runs by hand or after something else."""
    after = after or timezone.now()
    frequency = (schedule or {}).get("frequency")
    if frequency == "continuous":
        return after
    expression = cron_expression(schedule or {})
    if not expression or not croniter.is_valid(expression):
        return None
    return croniter(expression, after).get_next(datetime)


def dispatch_due(now: datetime | None = None) -> int:
    """Start every active sync whose next_run_at has come, then move next_run_at on.

    next_run_at moves with a conditional update, so two beats never start a sync twice.
    """
    from .services import AlreadyRunning, start_execution

    now = now or timezone.now()
    unplanned = Sync.objects.filter(
        active=True, next_run_at__isnull=True, schedule__frequency__in=DISPATCHED
    )
    for sync in unplanned.only("pk", "schedule"):
        if sync.schedule.get("frequency") == "continuous" and sync.executions.filter(
            status__in=ACTIVE_STATUSES, dry_run=False
        ).exists():
            continue  # a running continuous sync is planned again when its run ends
        Sync.objects.filter(pk=sync.pk, next_run_at__isnull=True).update(
            next_run_at=next_run_time(sync.schedule, now)
        )
    started = 0
    due = Sync.objects.filter(active=True, next_run_at__lte=now, schedule__frequency__in=DISPATCHED)
    for sync in due.select_related("organization"):
        following = None if sync.schedule.get("frequency") == "continuous" else next_run_time(sync.schedule, now)
        if not Sync.objects.filter(pk=sync.pk, next_run_at=sync.next_run_at).update(next_run_at=following):
            continue
        try:
            start_execution(sync, trigger="schedule")
            started += 1
        except AlreadyRunning:
            logger.info("Sync %s is due but still running; skipped this time", sync.pk)
    return started


def after_run(execution: Execution):
    """A continuous sync is planned again; syncs set to run after this one start."""
    sync = Sync.objects.get(pk=execution.sync_id)
    if not sync.active:
        return
    if (sync.schedule or {}).get("frequency") == "continuous":
        pause = setting("ENGINE_CONTINUOUS_SECONDS")
        if execution.status == ExecutionStatus.FAILED:
            pause = max(pause, 300)  # a failing continuous sync must not hammer the target
        start = execution.started_at or execution.created_at
        Sync.objects.filter(pk=sync.pk).update(
            next_run_at=max(timezone.now(), start + timedelta(seconds=pause))
        )
    if execution.trigger == "retry":
        return
    start_followers(execution)


def start_followers(execution: Execution):
    from .services import AlreadyRunning, start_execution

    succeeded = execution.status == ExecutionStatus.COMPLETED
    followers = Sync.objects.filter(
        organization_id=execution.sync.organization_id, active=True, schedule__frequency="runafter"
    )
    for follower in followers:
        run_after = follower.schedule.get("run_after") or {}
        if str(execution.sync_id) not in {str(i) for i in run_after.get("sync_ids") or []}:
            continue
        if follower.schedule.get("run_after_success_only") and not succeeded:
            continue
        if execution.status == ExecutionStatus.CANCELED:
            continue
        try:
            start_execution(follower, trigger="runafter")
        except AlreadyRunning:
            logger.info("Sync %s follows %s but is still running", follower.pk, execution.sync_id)
