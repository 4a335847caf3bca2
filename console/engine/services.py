"""Executions: start, cancel, run, recover, schedule. Tasks and views call these."""

import logging
import socket
import threading
import uuid
from datetime import timedelta

from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from console.syncs.models import Sync
from integrations.base import ConnectorError, WriteSpec

from . import notifications, schedule
from .conf import setting
from .mapping import MappingError
from .models import ACTIVE_STATUSES, Event, Execution, ExecutionLog, ExecutionStatus, RecordError
from .runner import Canceled, LostClaim, Run, RunFailed

logger = logging.getLogger(__name__)

TERMINAL_STATUSES = (
    ExecutionStatus.COMPLETED,
    ExecutionStatus.FAILED,
    ExecutionStatus.CANCELED,
    ExecutionStatus.INTERRUPTED,
)
RUNNING_STATUSES = (ExecutionStatus.RUNNING, ExecutionStatus.PROCESSING, ExecutionStatus.CANCELING)


class AlreadyRunning(Exception):
    def __init__(self, execution):
        super().__init__("This sync already has an execution in progress.")
        self.execution = execution


class NotCancelable(Exception):
    pass


def log(execution, message: str, level: str = "info", payload: dict | None = None):
    ExecutionLog.objects.create(
        execution_id=execution.pk if hasattr(execution, "pk") else execution,
        level=level,
        message=message,
        payload=payload,
    )


# ---- starting and canceling ---------------------------------------------------


def start_execution(sync: Sync, *, trigger: str = "manual", resync: bool = False,
                    dry_run: bool = False, identities=None, retry_of=None,
                    allow_mass_removal: bool = False) -> Execution:
    """Create a queued execution and send it to a worker once the transaction commits.

    Raises AlreadyRunning when the sync has an active execution (the database's
    one-active-execution constraint decides; dry runs do not count).
    """
    try:
        with transaction.atomic():
            execution = Execution.objects.create(
                sync=sync,
                status=ExecutionStatus.QUEUED,
                trigger=trigger,
                resync=resync,
                dry_run=dry_run,
                identities=list(identities) if identities else None,
                retry_of=retry_of,
                allow_mass_removal=allow_mass_removal,
            )
    except IntegrityError:
        raise AlreadyRunning(active_execution(sync)) from None
    what = "Dry run" if dry_run else ("Full resync" if resync else "Run")
    log(execution, f"{what} queued (trigger: {trigger}).")
    enqueue(execution)
    return execution


def enqueue(execution: Execution):
    from .tasks import run_execution  # tasks import this module

    execution_id = str(execution.pk)

    def send():
        try:
            run_execution.apply_async([execution_id], queue=setting("ENGINE_QUEUE"))
        except Exception:  # noqa: BLE001 - the broker is down; the sweeper sends it again
            logger.warning("Could not queue execution %s; the sweeper will", execution_id, exc_info=True)

    transaction.on_commit(send)


def retry_failed_records(execution: Execution, trigger: str = "retry") -> Execution:
    return start_execution(execution.sync, trigger=trigger, retry_of=execution)


def active_execution(sync: Sync) -> Execution | None:
    return (
        sync.executions.filter(status__in=ACTIVE_STATUSES, dry_run=False)
        .order_by("-created_at")
        .first()
    )


def cancel_execution(execution: Execution) -> str:
    """Queued runs end now; running ones stop at the next batch boundary."""
    if execution.status in (ExecutionStatus.CREATED, ExecutionStatus.SCHEDULED, ExecutionStatus.QUEUED):
        ended = Execution.objects.filter(
            pk=execution.pk, status__in=(ExecutionStatus.CREATED, ExecutionStatus.SCHEDULED, ExecutionStatus.QUEUED)
        ).update(status=ExecutionStatus.CANCELED, completed_at=timezone.now())
        if ended:
            log(execution, "Canceled before it started.")
            execution.refresh_from_db()
            after_run(execution)
            return "Execution canceled."
        execution.refresh_from_db()
    if execution.status in (ExecutionStatus.RUNNING, ExecutionStatus.PROCESSING, ExecutionStatus.WAITING):
        Execution.objects.filter(pk=execution.pk, status=execution.status).update(
            status=ExecutionStatus.CANCELING
        )
        log(execution, "Cancel requested; the run stops after the batch in flight.")
        return "Execution is being canceled."
    if execution.status == ExecutionStatus.CANCELING:
        return "Execution is being canceled."
    raise NotCancelable(f"This execution is {execution.status}; only a queued or running one can be canceled.")


def cancel_sync(sync: Sync) -> str:
    execution = active_execution(sync)
    if execution is None:
        return "No execution is running."
    return cancel_execution(execution)


# ---- running --------------------------------------------------------------------


def open_rows(sync: Sync, batch_size: int):
    """The model's rows in batches (a generator: the warehouse streams, memory stays flat)."""
    from console.datamodels.services import stream_model_rows

    return stream_model_rows(sync.model, batch_size)


def write_spec(sync: Sync) -> WriteSpec:
    return WriteSpec(
        object_id=sync.target_object,
        mode=sync.mode,
        identity_field=(sync.identity or {}).get("target"),
        configuration=sync.target_configuration or {},
        create=sync.target_create or None,
    )


def open_writer(sync: Sync):
    from console.connections.sessions import provider_session
    from integrations.writers import make_writer

    from .ratelimit import limiter_for

    session = provider_session(sync.target_connection, limiter=limiter_for(sync.target_connection),
                               rate_wait=setting("ENGINE_MAX_RATE_WAIT_SECONDS"))
    return make_writer(sync.target_connection.type, session, write_spec(sync))


def prepare_writer(execution: Execution, writer):
    """The writer's one-off set-up (e.g. creating an audience), remembered on the sync."""
    state = writer.prepare() or {}
    object_id = state.get("object_id")
    sync = execution.sync
    if object_id and object_id != sync.target_object:
        Sync.objects.filter(pk=sync.pk).update(target_object=str(object_id))
        sync.target_object = str(object_id)
        log(execution, f"Created the target object {object_id}.", payload=state)


def run_execution(execution_id) -> Execution | None:
    """Claim a queued execution and run it. A no-op if another worker has it or it ended."""
    claim = uuid.uuid4().hex
    now = timezone.now()
    claimed = Execution.objects.filter(
        pk=execution_id, status__in=(ExecutionStatus.CREATED, ExecutionStatus.QUEUED)
    ).update(
        status=ExecutionStatus.RUNNING,
        claim=claim,
        attempt=F("attempt") + 1,
        heartbeat_at=now,
        worker=socket.gethostname()[:200],
    )
    if not claimed:
        return None
    Execution.objects.filter(pk=execution_id, started_at__isnull=True).update(started_at=now)
    execution = Execution.objects.select_related(
        "sync", "sync__model", "sync__target_connection", "sync__organization"
    ).get(pk=execution_id)
    if execution.attempt > 1:
        reset_for_resume(execution)
    else:
        log(execution, "Started.")
        if not execution.dry_run:
            notifications.emit_run_event(execution, "sync.running")
    with Heartbeat(execution.pk, claim):
        status, error, run = perform(execution, claim)
    if status is None:
        return None  # lost the claim: whoever holds it now finishes it
    reconnect_if_dropped()
    finish(execution, claim, status, error, run)
    return execution


def reconnect_if_dropped():
    """A run whose database connection dropped still records how it ended: Django
    reconnects on the next query once the dead connection is closed."""
    if connection.connection is not None and not connection.is_usable():
        connection.close()


def perform(execution: Execution, claim: str):
    """(status, error, run): the run's outcome; status None when the claim was lost."""
    run = None
    writer = None
    try:
        sync = execution.sync
        if not execution.dry_run:
            writer = open_writer(sync)
            prepare_writer(execution, writer)
        rows = open_rows(sync, setting("ENGINE_SOURCE_BATCH_SIZE"))
        run = Run(execution, rows, writer, claim)
        run.execute()
    except Canceled:
        return ExecutionStatus.CANCELED, "", run
    except LostClaim:
        logger.warning("Execution %s was taken over by another worker", execution.pk)
        return None, "", run
    except (RunFailed, MappingError, ConnectorError) as error:
        return ExecutionStatus.FAILED, str(error) or type(error).__name__, run
    except Exception as error:  # noqa: BLE001 - the run fails with a safe message; the log has the rest
        logger.exception("Execution %s stopped on an internal error", execution.pk)
        return (
            ExecutionStatus.FAILED,
            f"The run stopped on an internal error ({type(error).__name__}); the worker log has the details.",
            run,
        )
    finally:
        close_writer(writer)
    return ExecutionStatus.COMPLETED, "", run


def close_writer(writer):
    """Close the HTTP client the writer's session opened (its connections and sockets)."""
    http = getattr(writer, "http", None) or getattr(getattr(writer, "session", None), "http", None)
    if http is not None and hasattr(http, "close"):
        http.close()


def reset_for_resume(execution: Execution):
    """A retried attempt reads the model again from the start. What the earlier attempt
    wrote has its fingerprint saved, so it is counted, not sent again."""
    RecordError.objects.filter(execution=execution).delete()
    zero = dict(queried=0, invalid=0, unchanged=0, inserted=0, updated=0, removed=0, errored=0, vanished=0)
    Execution.objects.filter(pk=execution.pk).update(**zero)
    log(execution, f"Resuming (attempt {execution.attempt}): records already written are not sent again.",
        level="warning")


def finish(execution: Execution, claim: str, status: str, error: str, run: Run | None):
    fields = {"status": status, "completed_at": timezone.now(), "error": error[:5000], "claim": ""}
    if run is not None:
        fields.update(
            queried=run.counts.queried, invalid=run.counts.invalid, unchanged=run.counts.unchanged,
            inserted=run.counts.inserted, updated=run.counts.updated, removed=run.counts.removed,
            errored=run.counts.errored, vanished=run.counts.vanished,
        )
        if execution.dry_run:
            fields["plan"] = run.plan_summary()
    ended = Execution.objects.filter(pk=execution.pk, claim=claim).update(**fields)
    if not ended:
        return
    execution.refresh_from_db()
    for note in run.notes if run else []:
        log(execution, note)
    if status == ExecutionStatus.FAILED:
        log(execution, f"Failed: {error}", level="error")
    elif status == ExecutionStatus.CANCELED:
        log(execution, "Canceled.")
    else:
        log(execution, summary(execution))
    after_run(execution)


def summary(execution: Execution) -> str:
    e = execution
    text = (
        f"Completed: {e.queried} rows read; {e.inserted} inserted, {e.updated} updated, "
        f"{e.removed} removed, {e.unchanged} unchanged, {e.invalid} invalid, {e.errored} rejected."
    )
    if e.dry_run:
        text = "Dry run completed; nothing was written."
    return text


def after_run(execution: Execution):
    """Events, notifications and the follow-up runs of continuous and run-after syncs."""
    if execution.dry_run:
        return
    notifications.run_ended(execution)
    schedule.after_run(execution)


class Heartbeat:
    """Touches heartbeat_at in a side thread while the run works, so the sweeper can
    tell a long batch from a dead worker."""

    def __init__(self, execution_id, claim):
        self.execution_id = execution_id
        self.claim = claim
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.beat, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def beat(self):
        interval = setting("ENGINE_HEARTBEAT_SECONDS")
        try:
            while not self.stop.wait(interval):
                try:
                    Execution.objects.filter(pk=self.execution_id, claim=self.claim).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:  # noqa: BLE001 - a missed beat is retried on the next tick
                    logger.warning("Heartbeat of %s failed", self.execution_id, exc_info=True)
                    close_old_connections()
        finally:
            connection.close()


# ---- recovery ------------------------------------------------------------------


def sweep(now=None) -> dict:
    """Re-queue executions whose worker stopped beating; re-send queued ones whose
    message was lost. Safe to run from several beats at once: every change is conditional."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=setting("ENGINE_STALE_SECONDS"))
    done = {"requeued": 0, "failed": 0, "canceled": 0, "resent": 0}
    stale = Execution.objects.filter(status__in=RUNNING_STATUSES).filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True)
    )
    for execution in stale.select_related("sync"):
        unchanged = Q(pk=execution.pk, status=execution.status, heartbeat_at=execution.heartbeat_at)
        if execution.status == ExecutionStatus.CANCELING:
            if Execution.objects.filter(unchanged).update(
                status=ExecutionStatus.CANCELED, completed_at=now, claim=""
            ):
                log(execution, "Canceled (its worker had stopped).")
                done["canceled"] += 1
                execution.refresh_from_db()
                after_run(execution)
        elif execution.attempt >= setting("ENGINE_MAX_ATTEMPTS"):
            message = (
                f"The worker running this execution stopped responding {execution.attempt} times; "
                "giving up. Records written so far are kept and will not be sent again."
            )
            if Execution.objects.filter(unchanged).update(
                status=ExecutionStatus.FAILED, completed_at=now, error=message, claim=""
            ):
                log(execution, message, level="error")
                done["failed"] += 1
                execution.refresh_from_db()
                after_run(execution)
        elif Execution.objects.filter(unchanged).update(
            status=ExecutionStatus.QUEUED, claim="", heartbeat_at=now
        ):
            log(execution, "Its worker stopped responding; queued again to resume.", level="warning")
            enqueue(execution)
            done["requeued"] += 1
    purge(now)
    resend_before = now - timedelta(seconds=setting("ENGINE_QUEUED_RESEND_SECONDS"))
    lost = Execution.objects.filter(status=ExecutionStatus.QUEUED).filter(
        Q(heartbeat_at__lt=resend_before) | Q(heartbeat_at__isnull=True, created_at__lt=resend_before)
    )
    for execution in lost:
        if Execution.objects.filter(
            pk=execution.pk, status=ExecutionStatus.QUEUED, heartbeat_at=execution.heartbeat_at
        ).update(heartbeat_at=now):
            enqueue(execution)
            done["resent"] += 1
    return done


def purge(now):
    """Row-level results and events are kept for a while, not for ever."""
    errors_before = now - timedelta(days=setting("ENGINE_RECORD_ERROR_DAYS"))
    RecordError.objects.filter(execution__completed_at__lt=errors_before).delete()
    Event.objects.filter(created_at__lt=now - timedelta(days=setting("ENGINE_EVENT_DAYS"))).delete()
