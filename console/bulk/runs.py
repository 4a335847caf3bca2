"""Bulk executions: start, cancel, run, recover, schedule. Tasks, views and the API call these.

A run claims its execution the way model-sync runs do (a conditional update, a
heartbeat while it works, the sweeper re-queueing it when the heartbeat stops),
then copies each enabled object in turn: the object's fields are described
afresh, its table created or evolved, the records changed since the object's
cursor read page by page and written in batches (in a thread of its own, while
the next pages are read), and the cursor moved on once the object is done. A
failed object does not stop the others. Objects that appear in the source are
selected first when automatically_add_new_objects says so.
"""

import logging
import socket
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from console.engine import services as engine
from console.engine.conf import setting
from console.engine.models import ACTIVE_STATUSES, ExecutionStatus
from console.engine.notifications import emit
from console.engine.schedule import DISPATCHED, next_run_time
from console.targets.services import cached
from integrations.base import ConnectorError
from integrations.warehouses.destinations import BackgroundWriter

from .models import BulkExecution, BulkSchemaExecution, BulkSync
from .services import open_destination, selected_columns, source_module

logger = logging.getLogger(__name__)

AlreadyRunning = engine.AlreadyRunning
NotCancelable = engine.NotCancelable
TERMINAL_STATUSES = engine.TERMINAL_STATUSES
RUNNING_STATUSES = engine.RUNNING_STATUSES
WAITING_STATUSES = (ExecutionStatus.CREATED, ExecutionStatus.SCHEDULED, ExecutionStatus.QUEUED)
FETCH_MODES = ("incremental", "full", "none")
RESYNC_MODES = ("refetch", "resync", "rebuild")


class Canceled(Exception):
    pass


class LostClaim(Exception):
    """Another worker took this execution over (the sweeper thought this one dead)."""


# ---- starting and canceling ---------------------------------------------------


def start_execution(sync: BulkSync, *, trigger: str = "manual", fetch_mode: str = "incremental",
                    resync_mode: str = "", test: bool = False, schemas=None) -> BulkExecution:
    """Create a queued execution and send it to a worker once the transaction commits.
    Raises AlreadyRunning when the sync has an active execution (test runs do not count)."""
    try:
        with transaction.atomic():
            execution = BulkExecution.objects.create(
                sync=sync, status=ExecutionStatus.QUEUED, trigger=trigger, fetch_mode=fetch_mode,
                resync_mode=resync_mode, is_test=test, only_schemas=list(schemas or []),
            )
    except IntegrityError:
        raise AlreadyRunning(active_execution(sync)) from None
    enqueue(execution)
    return execution


def enqueue(execution: BulkExecution):
    from .tasks import run_execution  # tasks import this module

    execution_id = str(execution.pk)

    def send():
        try:
            run_execution.apply_async([execution_id], queue=setting("ENGINE_QUEUE"))
        except Exception:  # noqa: BLE001 - the broker is down; the sweeper sends it again
            logger.warning("Could not queue bulk execution %s; the sweeper will", execution_id, exc_info=True)

    transaction.on_commit(send)


def active_execution(sync: BulkSync) -> BulkExecution | None:
    return sync.executions.filter(status__in=ACTIVE_STATUSES, is_test=False).order_by("-created_at").first()


def cancel_execution(execution: BulkExecution) -> str:
    """Queued runs end now; running ones stop after the batch in flight."""
    if BulkExecution.objects.filter(pk=execution.pk, status__in=WAITING_STATUSES).update(
        status=ExecutionStatus.CANCELED, completed_at=timezone.now()
    ):
        execution.refresh_from_db()
        after_run(execution)
        return "Execution canceled."
    execution.refresh_from_db()
    if execution.status in (ExecutionStatus.RUNNING, ExecutionStatus.PROCESSING, ExecutionStatus.WAITING):
        BulkExecution.objects.filter(pk=execution.pk, status=execution.status).update(
            status=ExecutionStatus.CANCELING)
        return "Execution is being canceled."
    if execution.status == ExecutionStatus.CANCELING:
        return "Execution is being canceled."
    raise NotCancelable(f"This execution is {execution.status}; only a queued or running one can be canceled.")


def cancel_sync(sync: BulkSync) -> str:
    execution = active_execution(sync)
    return cancel_execution(execution) if execution else "No execution is running."


# ---- running --------------------------------------------------------------------


class Heartbeat(engine.Heartbeat):
    """The engine's heartbeat thread, beating on a bulk execution."""

    def beat(self):
        from django.db import close_old_connections, connection

        interval = setting("ENGINE_HEARTBEAT_SECONDS")
        try:
            while not self.stop.wait(interval):
                try:
                    BulkExecution.objects.filter(pk=self.execution_id, claim=self.claim).update(
                        heartbeat_at=timezone.now())
                except Exception:  # noqa: BLE001 - a missed beat is retried on the next tick
                    logger.warning("Heartbeat of bulk execution %s failed", self.execution_id, exc_info=True)
                    close_old_connections()
        finally:
            connection.close()


def run_execution(execution_id) -> BulkExecution | None:
    """Claim a queued execution and run it. A no-op if another worker has it or it ended."""
    claim = uuid.uuid4().hex
    now = timezone.now()
    claimed = BulkExecution.objects.filter(pk=execution_id, status__in=WAITING_STATUSES).update(
        status=ExecutionStatus.RUNNING, claim=claim, attempt=F("attempt") + 1, heartbeat_at=now,
        worker=socket.gethostname()[:200],
    )
    if not claimed:
        return None
    BulkExecution.objects.filter(pk=execution_id, started_at__isnull=True).update(started_at=now)
    execution = BulkExecution.objects.select_related(
        "sync__organization", "sync__source_connection", "sync__destination_connection").get(pk=execution_id)
    if execution.attempt == 1 and not execution.is_test:
        emit_event(execution, "bulk_sync.running")
    with Heartbeat(execution.pk, claim):
        status, message = perform(execution, claim)
    if status is None:
        return None  # lost the claim: whoever holds it now finishes it
    finish(execution, claim, status, message)
    return execution


def perform(execution: BulkExecution, claim: str) -> tuple[str | None, str]:
    copy = Copy(execution, claim)
    try:
        copy.run()
    except Canceled:
        return ExecutionStatus.CANCELED, ""
    except LostClaim:
        logger.warning("Bulk execution %s was taken over by another worker", execution.pk)
        return None, ""
    except ConnectorError as error:
        return ExecutionStatus.FAILED, str(error) or type(error).__name__
    except Exception as error:  # noqa: BLE001 - the run fails with a safe message; the log has the rest
        logger.exception("Bulk execution %s stopped on an internal error", execution.pk)
        return ExecutionStatus.FAILED, (f"The run stopped on an internal error ({type(error).__name__}); "
                                        "the worker log has the details.")
    if copy.failed:
        return ExecutionStatus.FAILED, "; ".join(copy.failed)
    return ExecutionStatus.COMPLETED, ""


class Copy:
    """One execution's pass over the sync's objects."""

    def __init__(self, execution: BulkExecution, claim: str):
        self.execution = execution
        self.sync = execution.sync
        self.claim = claim
        self.module = source_module(self.sync.source_connection)
        self.failed = []  # "Contact: what went wrong", per failed object

    def schemas(self) -> list[dict]:
        only = set(self.execution.only_schemas or [])
        return [s for s in self.sync.enabled_schemas() if not only or s["id"] in only]

    def run(self):
        session = run_session(self.sync.source_connection)
        try:
            with open_destination(self.sync) as destination:
                destination.check()
                if not self.execution.only_schemas and not self.execution.is_test:
                    add_new_objects(self.sync, self.module, session)
                for schema in self.schemas():
                    self.check_in()
                    self.copy_object(session, destination, schema)
        finally:
            session.http.close()

    def copy_object(self, session, destination, schema: dict):
        execution, sync, object_id = self.execution, self.sync, schema["id"]
        item = BulkSchemaExecution.objects.create(execution=execution, schema=object_id,
                                                  status=ExecutionStatus.RUNNING, started_at=timezone.now())
        try:
            described = self.module.fields(session, object_id)  # afresh: new source fields show up now
            cached(sync.source_connection, f"bulk-source:fields:{object_id}", lambda: described, refresh=True)
            columns = selected_columns(sync, schema, described)
            if execution.is_test:
                item.status = ExecutionStatus.COMPLETED
                return
            rebuild = execution.resync_mode == "rebuild" or sync.mode == "snapshot"
            table = destination.prepare(object_id, columns, self.module.KEY, rebuild=rebuild,
                                        table_name=schema.get("user_output_name"))
            item.output_name = table.name
            if execution.fetch_mode != "none":
                self.copy_records(session, destination, table, item, schema, columns, rebuild)
            item.status = ExecutionStatus.COMPLETED
        except (Canceled, LostClaim):
            item.status = ExecutionStatus.CANCELED
            raise
        except ConnectorError as error:
            item.status, item.status_message = ExecutionStatus.FAILED, str(error)[:5000]
            self.failed.append(f"{object_id}: {error}")
        finally:
            item.completed_at = timezone.now()
            item.save()

    def copy_records(self, session, destination, table, item, schema, columns, rebuild):
        # a column just added to the table is empty in every row copied before: read them all again
        new_columns = any(column in table.added for column in table.columns.values())
        full = rebuild or new_columns or bool(self.execution.resync_mode) or self.execution.fetch_mode == "full"
        since = None if full else self.sync.cursors.get(schema["id"])
        options = dict(self.sync.source_configuration)  # include_deleted, and Salesforce's query_api
        options.setdefault("include_deleted", True)
        read = self.module.Read(session, schema["id"], [c.name for c in columns], since=since, **options)
        pending = []
        with BackgroundWriter(destination, table) as writer:  # the next pages are read while a batch is written
            try:
                for batch in read:
                    pending.extend(batch)
                    if len(pending) >= destination.batch_size:
                        self.count(item, writer.submit(pending))
                        pending = []
                        self.check_in()
                if pending:
                    self.count(item, writer.submit(pending))
            finally:
                self.count(item, writer.wait())  # the batch in flight counts even when the run stops here
        if read.cursor and read.cursor != since:
            save_cursor(self.sync, schema["id"], read.cursor)

    def count(self, item, written):
        """Add a written batch to the object's and the execution's counts."""
        if written is None:
            return
        count = written.upserted + written.deleted
        item.record_count += count
        item.deleted_count += written.deleted
        item.error_count += written.errors
        if written.first_error and not item.status_message:
            item.status_message = f"Skipped records whose values do not fit their columns, e.g. {written.first_error}"
        item.save(update_fields=["record_count", "deleted_count", "error_count", "status_message", "updated_at"])
        if not BulkExecution.objects.filter(pk=self.execution.pk, claim=self.claim).update(
                record_count=F("record_count") + count, error_count=F("error_count") + written.errors):
            raise LostClaim()

    def check_in(self):
        """Stop here when the run was canceled or taken over."""
        status, claim = BulkExecution.objects.values_list("status", "claim").get(pk=self.execution.pk)
        if claim != self.claim:
            raise LostClaim()
        if status == ExecutionStatus.CANCELING:
            raise Canceled()


def add_new_objects(sync: BulkSync, module, session):
    """Select the source's objects that appeared since the sync was saved, as its
    automatically_add_new_objects says: all of them, or only those with (or without) a
    tracking field. Objects the sync already lists, selected or not, are left as they are."""
    rule = sync.automatically_add_new_objects
    if rule == "none":
        return
    known = {s["id"] for s in sync.schemas}
    added = []
    for obj in module.objects(session):
        if obj["id"] in known:
            continue
        if rule != "all":
            incremental = module.tracking_field(obj["id"], [f["id"] for f in module.fields(session, obj["id"])])
            if bool(incremental) != (rule == "onlyIncremental"):
                continue
        added.append({"id": obj["id"], "enabled": True, "fields": []})
    if not added:
        return
    with transaction.atomic():
        locked = BulkSync.objects.select_for_update().get(pk=sync.pk)
        listed = {s["id"] for s in locked.schemas}
        locked.schemas = locked.schemas + [s for s in added if s["id"] not in listed]
        locked.save(update_fields=["schemas"])
    sync.schemas = locked.schemas


def run_session(connection):
    """The source's API session for a run: the connection's API budget is shared with the other
    runs on it, and a 429 is waited out as long as a model-sync run would."""
    from console.connections.sessions import provider_session
    from console.engine.ratelimit import limiter_for

    return provider_session(connection, limiter=limiter_for(connection),
                            rate_wait=setting("ENGINE_MAX_RATE_WAIT_SECONDS"))


def save_cursor(sync: BulkSync, object_id: str, cursor: str):
    with transaction.atomic():
        locked = BulkSync.objects.select_for_update().get(pk=sync.pk)
        locked.cursors = {**locked.cursors, object_id: cursor}
        locked.save(update_fields=["cursors"])
    sync.cursors = locked.cursors


def finish(execution: BulkExecution, claim: str, status: str, message: str):
    ended = BulkExecution.objects.filter(pk=execution.pk, claim=claim).update(
        status=status, completed_at=timezone.now(), status_message=message[:5000], claim="")
    if ended:
        execution.refresh_from_db()
        after_run(execution)


def after_run(execution: BulkExecution):
    """The run's event; a continuous sync is planned again."""
    if execution.is_test:
        return
    if execution.status == ExecutionStatus.COMPLETED:
        emit_event(execution, "bulk_sync.completed_with_error" if execution.error_count else "bulk_sync.completed")
    elif execution.status == ExecutionStatus.FAILED:
        emit_event(execution, "bulk_sync.failed")
    elif execution.status == ExecutionStatus.CANCELED:
        emit_event(execution, "bulk_sync.canceled")
    sync = BulkSync.objects.get(pk=execution.sync_id)
    if sync.active and sync.schedule.get("frequency") == "continuous":
        pause = setting("ENGINE_CONTINUOUS_SECONDS")
        if execution.status == ExecutionStatus.FAILED:
            pause = max(pause, 300)  # a failing continuous sync must not hammer the source
        start = execution.started_at or execution.created_at
        BulkSync.objects.filter(pk=sync.pk).update(next_run_at=max(timezone.now(), start + timedelta(seconds=pause)))


def emit_event(execution: BulkExecution, event_type: str):
    sync = execution.sync
    emit(sync.organization_id, event_type, {
        "sync_id": str(sync.pk), "sync_name": sync.name, "execution_id": str(execution.pk),
        "organization_id": str(sync.organization_id), "status": execution.status, "trigger": execution.trigger,
        "record_count": execution.record_count, "error_count": execution.error_count,
        "error": execution.status_message,
    })


# ---- schedules and recovery ------------------------------------------------------------


def dispatch_due(now=None) -> int:
    """Start every active bulk sync whose next_run_at has come, then move next_run_at on.
    next_run_at moves with a conditional update, so two beats never start a sync twice."""
    now = now or timezone.now()
    unplanned = BulkSync.objects.filter(active=True, next_run_at__isnull=True, schedule__frequency__in=DISPATCHED)
    for sync in unplanned.only("pk", "schedule"):
        if sync.schedule.get("frequency") == "continuous" and active_execution(sync):
            continue  # planned again when its run ends
        BulkSync.objects.filter(pk=sync.pk, next_run_at__isnull=True).update(
            next_run_at=next_run_time(sync.schedule, now))
    started = 0
    due = BulkSync.objects.filter(active=True, next_run_at__lte=now, schedule__frequency__in=DISPATCHED)
    for sync in due:
        following = None if sync.schedule.get("frequency") == "continuous" else next_run_time(sync.schedule, now)
        if not BulkSync.objects.filter(pk=sync.pk, next_run_at=sync.next_run_at).update(next_run_at=following):
            continue
        try:
            start_execution(sync, trigger="schedule")
            started += 1
        except AlreadyRunning:
            logger.info("Bulk sync %s is due but still running; skipped this time", sync.pk)
    return started


def sweep(now=None) -> dict:
    """Re-queue runs whose worker stopped beating (a resumed run reads again from the
    cursors, which move only when an object is done); re-send queued ones whose message
    was lost."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=setting("ENGINE_STALE_SECONDS"))
    done = {"requeued": 0, "failed": 0, "canceled": 0, "resent": 0}
    stale = BulkExecution.objects.filter(status__in=RUNNING_STATUSES).filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True))
    for execution in stale:
        unchanged = BulkExecution.objects.filter(pk=execution.pk, status=execution.status,
                                                 heartbeat_at=execution.heartbeat_at)
        if execution.status == ExecutionStatus.CANCELING:
            outcome, changes = "canceled", {"status": ExecutionStatus.CANCELED, "completed_at": now, "claim": ""}
        elif execution.attempt >= setting("ENGINE_MAX_ATTEMPTS"):
            outcome, changes = "failed", {
                "status": ExecutionStatus.FAILED, "completed_at": now, "claim": "",
                "status_message": f"The worker running this execution stopped responding {execution.attempt} "
                                  "times; giving up. What was copied so far stays in the destination."}
        else:
            outcome, changes = "requeued", {"status": ExecutionStatus.QUEUED, "claim": "", "heartbeat_at": now}
        if not unchanged.update(**changes):
            continue
        done[outcome] += 1
        BulkSchemaExecution.objects.filter(execution=execution, status=ExecutionStatus.RUNNING).update(
            status=ExecutionStatus.INTERRUPTED, completed_at=now)
        execution.refresh_from_db()
        if outcome == "requeued":
            enqueue(execution)
        else:
            after_run(execution)
    resend_before = now - timedelta(seconds=setting("ENGINE_QUEUED_RESEND_SECONDS"))
    lost = BulkExecution.objects.filter(status=ExecutionStatus.QUEUED).filter(
        Q(heartbeat_at__lt=resend_before) | Q(heartbeat_at__isnull=True, created_at__lt=resend_before))
    for execution in lost:
        if BulkExecution.objects.filter(pk=execution.pk, status=ExecutionStatus.QUEUED,
                                        heartbeat_at=execution.heartbeat_at).update(heartbeat_at=now):
            enqueue(execution)
            done["resent"] += 1
    return done
