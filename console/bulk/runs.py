"""Bulk executions: what a bulk run does, on the run lifecycle model syncs share
(console/engine/lifecycle.py: start, claim, heartbeat, cancel, sweep, dispatch-due).

A run copies each enabled object in turn: the object's fields are described
afresh, its table created or evolved, the records changed since the object's
cursor read page by page and written in batches (in a thread of its own, while
the next pages are read), and the cursor moved on once the object is done. A
failed object does not stop the others. Objects that appear in the source are
selected first when automatically_add_new_objects says so.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from console.engine import error_handling, lifecycle
from console.engine.conf import setting
from console.engine.lifecycle import AlreadyRunning, Canceled, LostClaim, NotCancelable  # noqa: F401  (api, views)
from console.engine.models import ACTIVE_STATUSES, ExecutionStatus
from console.engine.notifications import emit, failure_recipients
from console.engine.queue import send_on_commit
from console.targets.services import cached
from integrations.base import ConnectorError
from integrations.clock import SYSTEM_CLOCK, Clock
from integrations.warehouses.destinations import BackgroundWriter

from .models import BulkExecution, BulkSchemaExecution, BulkSync
from . import logs, schedules, schema_settings
from .services import open_destination, selected_columns, source_module

logger = logging.getLogger(__name__)

FETCH_MODES = ("incremental", "full", "none")
RESYNC_MODES = ("refetch", "resync", "rebuild")


class ObjectsFailed(ConnectorError):
    """Some objects could not be copied; the others were."""


class SchemaCanceled(Exception):
    """The copy of one object was canceled; the run goes on with the others."""


class Copy:
    """One execution's pass over the sync's objects."""

    def __init__(self, execution: BulkExecution, claim: str):
        self.execution = execution
        self.sync = execution.sync
        self.claim = claim
        self.module = source_module(self.sync.source_connection)
        self.failed = []  # "Contact: what went wrong", per failed object

    def results(self) -> dict:
        return {}  # the counts are added as each batch is written

    def schemas(self) -> list[dict]:
        only = set(self.execution.only_schemas or [])
        return [s for s in self.sync.enabled_schemas() if not only or s["id"] in only]

    def run(self):
        session = run_session(self.sync.source_connection, getattr(self.execution, "clock", SYSTEM_CLOCK))
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
        if self.failed:
            raise ObjectsFailed("; ".join(self.failed))

    def copy_object(self, session, destination, schema: dict):
        execution, sync, object_id = self.execution, self.sync, schema["id"]
        item = BulkSchemaExecution.objects.create(execution=execution, schema=object_id,
                                                  status=ExecutionStatus.RUNNING, started_at=timezone.now())
        try:
            self.check_in(object_id)
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
            logs.log(execution, f"Copying {len(columns)} fields into {table.name}.", schema=object_id)
            if execution.fetch_mode != "none":
                self.copy_records(session, destination, table, item, schema, columns, rebuild)
            item.status = ExecutionStatus.COMPLETED
            logs.log(execution, f"{item.record_count} records written ({item.deleted_count} deleted, "
                                f"{item.error_count} skipped).", schema=object_id)
        except (Canceled, LostClaim):
            item.status = ExecutionStatus.CANCELED
            raise
        except SchemaCanceled:
            item.status, item.status_message = ExecutionStatus.CANCELED, "Canceled while this run went on."
            logs.log(execution, "Canceled; the other objects go on.", schema=object_id, level="warning")
        except ConnectorError as error:
            item.status, item.status_message = ExecutionStatus.FAILED, str(error)[:5000]
            self.failed.append(f"{object_id}: {error}")
            logs.log(execution, f"Failed: {error}", schema=object_id, level="error")
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
        keep = schema_settings.row_filter(schema, self.module.tracking_field(schema["id"], [c.name for c in columns]))
        pending = []
        with BackgroundWriter(destination, table) as writer:  # the next pages are read while a batch is written
            try:
                for batch in read:
                    pending.extend(filter(keep, batch) if keep else batch)
                    if len(pending) >= destination.batch_size:
                        self.count(item, writer.submit(pending))
                        pending = []
                        self.check_in(schema["id"])
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

    def check_in(self, object_id: str | None = None):
        """Stop here when the run was canceled or taken over, or the copy of this object was canceled."""
        status, claim, canceled = BulkExecution.objects.values_list(
            "status", "claim", "canceled_schemas").get(pk=self.execution.pk)
        if claim != self.claim:
            raise LostClaim()
        if status == ExecutionStatus.CANCELING:
            raise Canceled()
        if object_id in canceled:
            raise SchemaCanceled()


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


def run_session(connection, clock: Clock = SYSTEM_CLOCK):
    """The source's API session for a run: the connection's API budget is shared with the other
    runs on it, and a 429 is waited out as long as a model-sync run would (the run's clock ends
    the waits of a canceled run)."""
    from console.connections.sessions import provider_session
    from console.engine.ratelimit import limiter_for

    return provider_session(connection, limiter=limiter_for(connection, clock),
                            rate_wait=setting("ENGINE_MAX_RATE_WAIT_SECONDS"), clock=clock)


def save_cursor(sync: BulkSync, object_id: str, cursor: str):
    with transaction.atomic():
        locked = BulkSync.objects.select_for_update().get(pk=sync.pk)
        locked.cursors = {**locked.cursors, object_id: cursor}
        locked.save(update_fields=["cursors"])
    sync.cursors = locked.cursors


def emit_event(execution: BulkExecution, event_type: str):
    """The run's event, its payload as the SDK declares it for this type (EventingBulkSync*Event)."""
    sync = execution.sync
    payload = {
        "sync_id": str(sync.pk), "sync_name": sync.name, "execution_id": str(execution.pk),
        "organization_id": str(sync.organization_id), "source_connection_id": str(sync.source_connection_id),
        "destination_connection_id": str(sync.destination_connection_id),
    }
    if event_type not in ("bulk_sync.running", "bulk_sync.canceled"):
        payload.update(schedule={"frequency": (sync.schedule or {}).get("frequency", "manual"), "id": str(sync.pk)},
                       trigger_source=execution.trigger)
    if event_type == "bulk_sync.failed":
        payload["error"] = execution.status_message
    emit(sync.organization_id, event_type, payload)


def send_failure_email(execution: BulkExecution) -> int:
    """Email the subscribers once the bulk sync has failed as many runs in a row as its error handling says."""
    sync = execution.sync
    chosen = error_handling.bulk_settings(sync)
    ended = sync.executions.filter(is_test=False, created_at__lte=execution.created_at).exclude(
        status__in=ACTIVE_STATUSES).order_by("-created_at")[:chosen["notify_after_failures"]]
    failed = error_handling.failed_in_a_row(ended, lambda e: e.status == ExecutionStatus.FAILED)
    recipients = failure_recipients(sync.organization, chosen["subscribers"])
    if failed < chosen["notify_after_failures"] or not recipients:
        return 0
    body = (f"The bulk sync \"{sync.name}\" failed.\n\nError: {execution.status_message or 'no message'}\n"
            f"Records copied before it stopped: {execution.record_count}.\n\n"
            f"Run history: {settings.PUBLIC_URL}/bulk/{sync.pk}/runs\n")
    return send_mail(f"Bulk sync failed: {sync.name}", body,
                     getattr(settings, "DEFAULT_FROM_EMAIL", "webmaster@localhost"), recipients)


class BulkRuns(lifecycle.Lifecycle):
    model = BulkExecution
    runner = Copy
    name = "bulk"
    related = ("sync__organization", "sync__source_connection", "sync__destination_connection")
    failures = (ConnectorError,)
    kept_when_given_up = "What was copied so far stays in the destination."

    def note(self, execution, message: str, level: str = "info"):
        logs.log(execution, message, level=level)

    def queued(self, execution):
        what = "Test run" if execution.is_test else ("Resync" if execution.resync_mode else "Run")
        logs.log(execution, f"{what} queued (trigger: {execution.trigger}).")

    def started(self, execution):
        logs.log(execution, f"Started (attempt {execution.attempt}) on {execution.worker}.")
        if execution.attempt == 1 and not execution.is_test:
            emit_event(execution, "bulk_sync.running")

    def ended(self, execution):
        """The run's log line and event; a continuous sync is planned again."""
        logs.log(execution, f"Ended {execution.status}: {execution.record_count} records written."
                            + (f" {execution.status_message}" if execution.status_message else ""),
                 level="error" if execution.status == ExecutionStatus.FAILED else "info")
        if execution.is_test:
            return
        if execution.status == ExecutionStatus.COMPLETED:
            emit_event(execution, "bulk_sync.completed_with_error" if execution.error_count else "bulk_sync.completed")
        elif execution.status == ExecutionStatus.FAILED:
            emit_event(execution, "bulk_sync.failed")
            send_on_commit("bulk.send_failure_email", str(execution.pk))
        elif execution.status == ExecutionStatus.CANCELED:
            emit_event(execution, "bulk_sync.canceled")
        self.plan_next_run(execution)

    def dispatch_due(self, now=None) -> int:
        """Start the runs of the other schedules whose time has come, then those of default schedules
        (a resync due at the same time as an incremental run covers it)."""
        now = now or timezone.now()
        started = 0
        for schedule in schedules.due(now):
            try:
                start_execution(schedule.sync, trigger="schedule", **schedules.run_options(schedule))
                started += 1
            except AlreadyRunning:
                logger.info("Bulk sync %s is due by schedule %s but still running; skipped this time",
                            schedule.sync_id, schedule.pk)
        return started + super().dispatch_due(now)

    def interrupted(self, execution, now):
        """A resumed run reads again from the cursors, which move only when an object is done."""
        BulkSchemaExecution.objects.filter(execution=execution, status=ExecutionStatus.RUNNING).update(
            status=ExecutionStatus.INTERRUPTED, completed_at=now)


bulk_runs = BulkRuns()


def start_execution(sync: BulkSync, *, trigger: str = "manual", fetch_mode: str = "incremental",
                    resync_mode: str = "", test: bool = False, schemas=None) -> BulkExecution:
    """Queue a run of the bulk sync. Raises AlreadyRunning when it has one (test runs do not count)."""
    return bulk_runs.start(sync, trigger=trigger, fetch_mode=fetch_mode, resync_mode=resync_mode, is_test=test,
                           only_schemas=list(schemas or []))


def cancel_schema(sync: BulkSync, object_id: str) -> str:
    """Stop copying one object in the sync's running execution; the other objects go on."""
    with transaction.atomic():
        execution = BulkExecution.objects.select_for_update().filter(
            sync=sync, is_test=False, status__in=ACTIVE_STATUSES).first()
        copies = execution and object_id in (execution.only_schemas or [s["id"] for s in sync.enabled_schemas()])
        if not copies or BulkSchemaExecution.objects.filter(
                execution=execution, schema=object_id, completed_at__isnull=False).exists():
            return f"No copy of {object_id} is running or waiting."
        execution.canceled_schemas = [*execution.canceled_schemas, object_id]
        execution.save(update_fields=["canceled_schemas", "updated_at"])
    return f"The copy of {object_id} is being canceled."
