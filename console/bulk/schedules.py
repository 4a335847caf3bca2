"""A bulk sync's schedules besides its default one (/api/bulk/syncs/{id}/schedules): checked
as model-sync schedules are, answered as BulkBulkSyncSchedule (camelCase), and fired by the
beat like the default schedule, each run reading as its sync mode says."""

from console.api.errors import ApiError, field_error
from console.engine.schedule import DISPATCHED, cron_expression, next_run_time
from console.syncs.services import clean_schedule

from .models import BulkSchedule, BulkSync

SYNC_MODES = ("normal", "refetch", "resync", "rebuild")
SELECTIVE_MODES = ("none", "incrementalFields", "nonincrementalFields")
CAMEL = {"day_of_week": "dayOfWeek", "day_of_month": "dayOfMonth", "sync_mode": "syncMode",
         "selective_mode": "selectiveMode"}
SNAKE = {camel: snake for snake, camel in CAMEL.items()}
RUN_SETTINGS = ("sync_mode", "selective_mode", "schemas")


def clean(sync: BulkSync, body) -> dict:
    """BulkSchedule fields for a {"schedule": {...}} body, or a field_error named as the body names it."""
    given = body.get("schedule") if isinstance(body, dict) else None
    if not isinstance(given, dict):
        raise field_error("schedule", 'is required, e.g. {"frequency": "hourly", "minute": "0"}')
    given = {SNAKE.get(key, key): value for key, value in given.items()}
    if given.get("frequency") in ("runafter", "continuous", "manual", None):
        raise field_error("schedule.frequency", "must be one of hourly, daily, weekly, custom, builder")
    try:
        timing = clean_schedule(sync.organization, {k: v for k, v in given.items() if k not in RUN_SETTINGS})
    except ApiError as error:
        raise camel_cased(error) from None
    try:
        next_run_time(timing)
    except ValueError:
        raise field_error("schedule", f"'{cron_expression(timing)}' never comes due") from None
    sync_mode = given.get("sync_mode") or "normal"
    if sync_mode not in SYNC_MODES:
        raise field_error("schedule.syncMode", f"must be one of {', '.join(SYNC_MODES)}")
    selective_mode = given.get("selective_mode") or "none"
    if selective_mode not in SELECTIVE_MODES:
        raise field_error("schedule.selectiveMode", f"must be one of {', '.join(SELECTIVE_MODES)}")
    schemas = given.get("schemas") or []
    enabled = {s["id"] for s in sync.enabled_schemas()}
    if not isinstance(schemas, list):
        raise field_error("schedule.schemas", "must be a list of schema ids")
    for i, schema_id in enumerate(schemas):
        if schema_id not in enabled:
            raise field_error(f"schedule.schemas[{i}]", f"'{schema_id}' is not an enabled schema of this bulk sync")
    timing.pop("id", None)
    return {"schedule": timing, "sync_mode": sync_mode, "selective_mode": selective_mode, "schemas": schemas}


def camel_cased(error: ApiError) -> ApiError:
    def name(field):
        head, _, tail = field.partition(".")
        return f"{head}.{CAMEL.get(tail, tail)}" if tail else field

    errors = [{**e, "field": name(e["field"])} for e in error.metadata.get("errors", [])]
    message = f"{errors[0]['field']}: {errors[0]['message']}" if errors else error.message
    return ApiError(error.status, message, key=error.key, metadata={"errors": errors})


def save(sync: BulkSync, values: dict, schedule: BulkSchedule | None = None, user=None) -> BulkSchedule:
    schedule = schedule or BulkSchedule(sync=sync, created_by=user)
    for name, value in values.items():
        setattr(schedule, name, value)
    schedule.updated_by = user
    schedule.next_run_at = next_run_time(schedule.schedule) if sync.active else None
    schedule.save()
    return schedule


def replan(sync: BulkSync):
    """Plan each schedule's next run again (none while the sync is paused)."""
    for schedule in sync.additional_schedules.all():
        schedule.next_run_at = next_run_time(schedule.schedule) if sync.active else None
        schedule.save(update_fields=["next_run_at"])


def out(schedule: BulkSchedule) -> dict:
    """BulkBulkSyncSchedule."""
    return {
        **timing_out(schedule.schedule), "isDefault": False, "syncId": str(schedule.sync_id),
        "syncMode": schedule.sync_mode, "selectiveMode": schedule.selective_mode, "schemas": schedule.schemas,
        "createdAt": schedule.created_at, "updatedAt": schedule.updated_at,
        "createdBy": schedule.created_by.email if schedule.created_by else None,
        "updatedBy": schedule.updated_by.email if schedule.updated_by else None,
    }


def default_out(sync: BulkSync) -> dict:
    """The sync's default schedule as BulkBulkSyncSchedule."""
    return {**timing_out(sync.schedule), "isDefault": True, "syncId": str(sync.pk), "syncMode": "normal",
            "selectiveMode": "none", "schemas": [], "createdAt": sync.created_at, "updatedAt": sync.updated_at}


def timing_out(timing: dict) -> dict:
    return {CAMEL.get(key, key): value for key, value in timing.items()}


def additional_out(sync: BulkSync) -> list[dict]:
    """BulkSyncAdditionalScheduleResponse of each schedule, for the sync's own answer."""
    return [{"id": str(s.pk), **s.schedule, "resync_mode": s.sync_mode, "selective_mode": s.selective_mode,
             "schemas": s.schemas, "created_at": s.created_at, "updated_at": s.updated_at}
            for s in sync.additional_schedules.all()]


def next_execution_time(sync: BulkSync):
    """The soonest planned run of the sync, by any of its schedules."""
    if not sync.active:
        return None
    planned = [t for t in [sync.next_run_at] + [s.next_run_at for s in sync.additional_schedules.all()] if t]
    return min(planned) if planned else None


def due(now) -> list[BulkSchedule]:
    """The schedules whose time has come; each moves on with a conditional update, so two
    beats never take one twice."""
    unplanned = BulkSchedule.objects.filter(sync__active=True, next_run_at__isnull=True,
                                            schedule__frequency__in=DISPATCHED)
    for schedule in unplanned:
        BulkSchedule.objects.filter(pk=schedule.pk, next_run_at__isnull=True).update(
            next_run_at=next_run_time(schedule.schedule, now))
    taken = []
    ready = BulkSchedule.objects.filter(sync__active=True, next_run_at__lte=now).select_related("sync__organization")
    for schedule in ready:
        following = next_run_time(schedule.schedule, now)
        if BulkSchedule.objects.filter(pk=schedule.pk, next_run_at=schedule.next_run_at).update(
                next_run_at=following):
            taken.append(schedule)
    return taken


def run_options(schedule: BulkSchedule) -> dict:
    """How a run this schedule starts reads: incrementally, or resynced as its sync mode says."""
    options = {"schemas": schedule.schemas}
    if schedule.sync_mode == "normal":
        options["fetch_mode"] = "incremental"
    else:
        options["resync_mode"] = schedule.sync_mode
    return options
