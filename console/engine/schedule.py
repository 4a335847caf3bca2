"""When syncs run: schedules to times (cron via croniter, UTC), the syncs that are due,
and the runs that follow a run (continuous, run-after). The lifecycle starts them."""

from datetime import datetime, timedelta

from croniter import croniter
from django.utils import timezone

from console.syncs.models import Sync

from .conf import setting
from .models import Execution, ExecutionStatus

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


def due(syncs, now: datetime, busy) -> list:
    """The active syncs (of the sync model `syncs`) whose next_run_at has come, for the
    caller to start; busy(sync) says whether a sync is running now.

    Each due sync's next_run_at moves on with a conditional update, and only the syncs
    whose update took are returned, so two beats never start a sync twice.
    """
    unplanned = syncs.objects.filter(active=True, next_run_at__isnull=True, schedule__frequency__in=DISPATCHED)
    for sync in unplanned.only("pk", "schedule"):
        if sync.schedule.get("frequency") == "continuous" and busy(sync):
            continue  # a running continuous sync is planned again when its run ends
        syncs.objects.filter(pk=sync.pk, next_run_at__isnull=True).update(
            next_run_at=next_run_time(sync.schedule, now))
    taken = []
    ready = syncs.objects.filter(active=True, next_run_at__lte=now, schedule__frequency__in=DISPATCHED)
    for sync in ready.select_related("organization"):
        following = None if sync.schedule.get("frequency") == "continuous" else next_run_time(sync.schedule, now)
        if syncs.objects.filter(pk=sync.pk, next_run_at=sync.next_run_at).update(next_run_at=following):
            taken.append(sync)
    return taken


def next_continuous_run(execution) -> datetime:
    """When a continuous sync runs again after this run: a pause after it started, a
    longer one after a failure, so a failing sync does not hammer the other side."""
    pause = setting("ENGINE_CONTINUOUS_SECONDS")
    if execution.status == ExecutionStatus.FAILED:
        pause = max(pause, 300)
    start = execution.started_at or execution.created_at
    return max(timezone.now(), start + timedelta(seconds=pause))


def followers(execution: Execution) -> list[Sync]:
    """The active syncs set to run after this execution's sync, as it ended."""
    if execution.status == ExecutionStatus.CANCELED:
        return []
    succeeded = execution.status == ExecutionStatus.COMPLETED
    found = []
    candidates = Sync.objects.filter(
        organization_id=execution.sync.organization_id, active=True, schedule__frequency="runafter"
    )
    for follower in candidates:
        run_after = follower.schedule.get("run_after") or {}
        if str(execution.sync_id) not in {str(i) for i in run_after.get("sync_ids") or []}:
            continue
        if follower.schedule.get("run_after_success_only") and not succeeded:
            continue
        found.append(follower)
    return found
