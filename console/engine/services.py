"""Model-sync executions: start, cancel, run, recover, schedule. Tasks and views call these.

The lifecycle (lifecycle.py) is the one bulk syncs share; this module adds what a
model-sync run does: its runner (the model's rows through the engine's Run to the
target's writer), its log, its events and notifications, and the runs that follow it.
"""

import logging
from datetime import timedelta

from django.utils import timezone

from console.syncs.models import Sync
from integrations.base import ConnectorError, WriteSpec
from integrations.clock import SYSTEM_CLOCK, Clock

from . import lifecycle, notifications, schedule
from .conf import setting
from .lifecycle import AlreadyRunning, NotCancelable  # noqa: F401  (raised to api.py and views)
from .mapping import MappingError
from .models import Event, Execution, ExecutionLog, ExecutionStatus, RecordError
from .runner import Canceled, LostClaim, Run, RunFailed

logger = logging.getLogger(__name__)

COUNTS = ("queried", "invalid", "unchanged", "inserted", "updated", "removed", "errored", "vanished")


def log(execution, message: str, level: str = "info", payload: dict | None = None):
    ExecutionLog.objects.create(
        execution_id=execution.pk if hasattr(execution, "pk") else execution,
        level=level,
        message=message,
        payload=payload,
    )


# ---- the runner ---------------------------------------------------------------------


def open_rows(sync: Sync, batch_size: int, clock: Clock = SYSTEM_CLOCK):
    """The model's rows in batches (a generator: the source streams, memory stays flat). A SaaS
    source is read within its connection's shared API budget, and may apply the sync's filters."""
    from console.datamodels.services import stream_model_rows

    from .filters import FilterError, conditions_of
    from .ratelimit import limiter_for

    try:
        conditions, logic = conditions_of(sync)
    except FilterError:
        conditions, logic = [], ""  # the run reports it when it filters
    connection = sync.model.connection
    return stream_model_rows(sync.model, batch_size, [] if logic.strip() else conditions,
                             limiter=limiter_for(connection, clock), rate_wait=setting("ENGINE_MAX_RATE_WAIT_SECONDS"),
                             clock=clock)


def write_spec(sync: Sync) -> WriteSpec:
    return WriteSpec(
        object_id=sync.target_object,
        mode=sync.mode,
        identity_field=(sync.identity or {}).get("target"),
        configuration=sync.target_configuration or {},
        create=sync.target_create or None,
    )


def open_writer(sync: Sync, clock: Clock = SYSTEM_CLOCK):
    from console.connections.sessions import provider_session
    from integrations.writers import make_writer

    from .ratelimit import limiter_for

    session = provider_session(sync.target_connection, limiter=limiter_for(sync.target_connection, clock),
                               rate_wait=setting("ENGINE_MAX_RATE_WAIT_SECONDS"), clock=clock)
    writer = make_writer(sync.target_connection.type, session, write_spec(sync))
    writer.clock = clock
    return writer


def prepare_writer(execution: Execution, writer):
    """The writer's one-off set-up (e.g. creating an audience), remembered on the sync. A writer
    that keeps jobs of its own or guards its deletions (Salesloft) learns the run's id, whether
    the run is resumed, the wipe guard (None when the run allows mass removal), and where
    to put requests the audit log keeps (redactions)."""
    writer.run_key, writer.resumed = str(execution.pk), execution.attempt > 1
    guard = (setting("ENGINE_WIPE_GUARD_MIN"), setting("ENGINE_WIPE_GUARD_RATIO"))
    writer.wipe_guard = None if execution.allow_mass_removal else guard
    writer.audit = audit_for(execution)
    state = writer.prepare() or {}
    object_id = state.get("object_id")
    sync = execution.sync
    if object_id and object_id != sync.target_object:
        Sync.objects.filter(pk=sync.pk).update(target_object=str(object_id))
        sync.target_object = str(object_id)
        log(execution, f"Created the target object {object_id}.", payload=state)


def audit_for(execution: Execution):
    """An audit event for each request of a run the writer reports (one per redaction)."""
    from console.audit.models import AuditEvent

    sync = execution.sync

    def audit(action: str, object_type: str, object_id: str, path: str, status: int):
        AuditEvent.objects.create(
            organization_id=sync.organization_id, actor=f"Sync {sync.name}"[:300], via="sync", action=action,
            object_type=object_type, object_id=object_id[:64], object_name=f"run {execution.pk}"[:300],
            method="POST", path=path[:500], status=status,
        )

    return audit


def close_writer(writer):
    """Close the HTTP client the writer's session opened (its connections and sockets)."""
    http = getattr(writer, "http", None) or getattr(getattr(writer, "session", None), "http", None)
    if http is not None and hasattr(http, "close"):
        http.close()


class SyncRunner:
    """One execution's pass: the model's rows, through a Run, to the target's writer."""

    def __init__(self, execution: Execution, claim: str):
        self.execution = execution
        self.claim = claim
        self.engine_run = None

    def run(self):
        writer = None
        try:
            sync = self.execution.sync
            clock = getattr(self.execution, "clock", SYSTEM_CLOCK)  # lifecycle.Heartbeat's: a cancel ends waits
            if not self.execution.dry_run:
                writer = open_writer(sync, clock)
                prepare_writer(self.execution, writer)
            rows = open_rows(sync, setting("ENGINE_SOURCE_BATCH_SIZE"), clock)
            self.engine_run = Run(self.execution, rows, writer, self.claim)
            self.engine_run.execute()
        finally:
            close_writer(writer)

    def results(self) -> dict:
        """The counts, whatever the outcome; a dry run's plan."""
        if self.engine_run is None:
            return {}
        fields = {name: getattr(self.engine_run.counts, name) for name in COUNTS}
        if self.execution.dry_run:
            fields["plan"] = self.engine_run.plan_summary()
        return fields

    @property
    def notes(self) -> list[str]:
        return self.engine_run.notes if self.engine_run else []


# ---- the lifecycle --------------------------------------------------------------------


class SyncRuns(lifecycle.Lifecycle):
    model = Execution
    runner = SyncRunner
    name = "engine"
    related = ("sync", "sync__model", "sync__target_connection", "sync__organization")
    canceled = (Canceled,)
    lost = (LostClaim,)
    failures = (RunFailed, MappingError, ConnectorError)
    kept_when_given_up = "Records written so far are kept and will not be sent again."

    def note(self, execution, message, level="info"):
        log(execution, message, level=level)

    def queued(self, execution):
        what = "Dry run" if execution.dry_run else ("Full resync" if execution.resync else "Run")
        log(execution, f"{what} queued (trigger: {execution.trigger}).")

    def started(self, execution):
        if execution.attempt > 1:
            reset_for_resume(execution)
            return
        log(execution, "Started.")
        if not execution.dry_run:
            notifications.emit_run_event(execution, "sync.running")

    def finished(self, execution, runner):
        for note in runner.notes if runner else []:
            log(execution, note)
        if execution.status == ExecutionStatus.FAILED:
            log(execution, f"Failed: {execution.error}", level="error")
        elif execution.status == ExecutionStatus.CANCELED:
            log(execution, "Canceled.")
        else:
            log(execution, summary(execution))

    def ended(self, execution):
        """Events, notifications and the follow-up runs of continuous and run-after syncs."""
        if execution.dry_run:
            return
        notifications.run_ended(execution)
        sync = self.plan_next_run(execution)
        if not sync.active or execution.trigger == "retry":
            return
        for follower in schedule.followers(execution):
            try:
                self.start(follower, trigger="runafter")
            except AlreadyRunning:
                logger.info("Sync %s follows %s but is still running", follower.pk, execution.sync_id)

    def sweep(self, now=None) -> dict:
        now = now or timezone.now()
        done = super().sweep(now)
        purge(now)
        return done


sync_runs = SyncRuns()


def start_execution(sync: Sync, *, trigger: str = "manual", resync: bool = False,
                    dry_run: bool = False, identities=None, retry_of=None,
                    allow_mass_removal: bool = False) -> Execution:
    """Queue a run of the sync. Raises AlreadyRunning when it has one (dry runs do not count)."""
    return sync_runs.start(sync, trigger=trigger, resync=resync, dry_run=dry_run,
                           identities=list(identities) if identities else None, retry_of=retry_of,
                           allow_mass_removal=allow_mass_removal)


def retry_failed_records(execution: Execution, trigger: str = "retry") -> Execution:
    return start_execution(execution.sync, trigger=trigger, retry_of=execution)


def reset_for_resume(execution: Execution):
    """A retried attempt reads the model again from the start. What the earlier attempt
    wrote has its fingerprint saved, so it is counted, not sent again."""
    RecordError.objects.filter(execution=execution).delete()
    Execution.objects.filter(pk=execution.pk).update(**dict.fromkeys(COUNTS, 0))
    log(execution, f"Resuming (attempt {execution.attempt}): records already written are not sent again.",
        level="warning")


def summary(execution: Execution) -> str:
    e = execution
    text = (
        f"Completed: {e.queried} rows read; {e.inserted} inserted, {e.updated} updated, "
        f"{e.removed} removed, {e.unchanged} unchanged, {e.invalid} invalid, {e.errored} rejected."
    )
    if e.dry_run:
        text = "Dry run completed; nothing was written."
    return text


def purge(now):
    """Row-level results and events are kept for a while, not for ever."""
    errors_before = now - timedelta(days=setting("ENGINE_RECORD_ERROR_DAYS"))
    RecordError.objects.filter(execution__completed_at__lt=errors_before).delete()
    Event.objects.filter(created_at__lt=now - timedelta(days=setting("ENGINE_EVENT_DAYS"))).delete()
