"""Bulk syncs and their executions (§2.8 of the reference), in Polytomic's wire format."""

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from django.db.models import Max, OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import ConfigDict

from console.access.rules import visible
from console.api.errors import ApiError, field_error
from console.api.pagination import paginate
from console.api.schemas import ERRORS, Envelope, ListEnvelope, PagedEnvelope
from console.connections.models import Connection
from console.engine import error_handling
from console.engine.api import ConsoleLogs
from console.engine.models import TERMINAL_STATUSES, ExecutionStatus
from integrations.base import ConnectorError

from . import logs, runs, schedules, services
from .models import BulkExecution, BulkExecutionLog, BulkSchedule, BulkSchemaExecution, BulkSync

router = Router(tags=["Bulk syncs"])

ERRORS_WITH_CONFLICT = {**ERRORS, 409: ERRORS[400]}


class Loose(Schema):
    model_config = ConfigDict(extra="allow")


class ScheduleIn(Loose):
    frequency: str | None = None
    minute: str | int | None = None
    hour: str | int | None = None
    day_of_week: str | int | None = None
    day_of_month: str | int | None = None
    month: str | int | None = None


class BulkSyncIn(Loose):
    name: str
    source_connection_id: str
    destination_connection_id: str
    destination_configuration: dict[str, Any]
    default_schedule: ScheduleIn
    mode: str | None = None
    active: bool | None = None
    schemas: list[str | dict[str, Any]] | None = None
    source_configuration: dict[str, Any] | None = None
    additional_schedules: list[dict] | None = None
    automatically_add_new_fields: str | None = None
    automatically_add_new_objects: str | None = None
    normalize_names: str | None = None
    disable_record_timestamps: bool | None = None
    policies: list[str] | None = None
    organization_id: str | None = None


class Actor(Schema):
    id: str | None = None
    name: str | None = None
    type: str | None = None


class BulkSyncOut(Schema):
    id: str
    organization_id: str
    name: str
    active: bool
    mode: str
    source_connection_id: str
    destination_connection_id: str
    source_configuration: dict
    destination_configuration: dict
    default_schedule: dict
    additional_schedules: list[dict]
    automatically_add_new_fields: str
    automatically_add_new_objects: str
    normalize_names: str
    disable_record_timestamps: bool
    policies: list[str]
    created_at: datetime
    updated_at: datetime
    created_by: Actor | None = None
    updated_by: Actor | None = None


class BulkFieldOut(Schema):
    id: str
    enabled: bool
    output_name: str
    user_output_name: str | None = None
    obfuscated: bool


class BulkFilterOut(Schema):
    field_id: str
    function: str
    value: Any = None


class BulkSchemaListOut(Schema):
    id: str
    enabled: bool
    output_name: str
    user_output_name: str | None = None
    tracking_field: str | None = None
    partition_key: str | None = None
    data_cutoff_timestamp: datetime | None = None
    disable_data_cutoff: bool
    history_enabled: bool


class BulkSchemaOut(BulkSchemaListOut):
    fields: list[BulkFieldOut]
    filters: list[BulkFilterOut]


class BulkSchemaIn(Schema):
    """BulkSchema as PUT and PATCH take it; output names are read-only and ignored."""

    model_config = ConfigDict(extra="forbid")

    id: Any = None
    enabled: Any = None
    fields: Any = None
    filters: Any = None
    partition_key: Any = None
    data_cutoff_timestamp: Any = None
    disable_data_cutoff: Any = None
    tracking_field: Any = None
    history_enabled: Any = None
    user_output_name: Any = None
    output_name: Any = None
    destination_history_output_name: Any = None


class BulkSchemasIn(Schema):
    model_config = ConfigDict(extra="forbid")

    schemas: list[BulkSchemaIn]


class ActivateIn(Schema):
    active: bool


class ActivateOut(Schema):
    id: str
    active: bool


class BulkStartIn(Loose):
    test: bool = False
    resync_mode: str | None = None
    fetch_mode: str | None = None
    schemas: list[str] | None = None
    resync: bool | None = None  # the legacy flag, named so that it can be refused


class BulkExecutionOut(Schema):
    id: str
    type: str
    status: str
    status_message: str
    fetch_mode: str
    is_test: bool
    is_resync: bool
    is_partial: bool
    output_disposition: str
    record_count: int
    error_count: int
    warning_count: int
    schemas: list[dict]
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None


class BulkStatusOut(Schema):
    current_execution: BulkExecutionOut | None = None
    last_execution: BulkExecutionOut | None = None
    next_execution_time: datetime | None = None


class SyncStatusOut(Schema):
    """BulkSyncExecutionStatus."""

    sync_id: str
    status: str | None = None
    nextExecutionTime: datetime | None = None  # noqa: N815 - as the SDK names it
    schemas: list[dict]


class MessageOut(Schema):
    message: str


def body(payload) -> dict:
    return payload.model_dump(exclude_none=True)


def sync_of(request, sync_id) -> BulkSync:
    return get_object_or_404(
        BulkSync.objects.select_related("source_connection", "destination_connection", "created_by", "updated_by"),
        pk=sync_id, organization=request.auth.organization,
    )


def execution_of(request, sync_id, execution_id) -> BulkExecution:
    return get_object_or_404(BulkExecution.objects.prefetch_related("schemas"), pk=execution_id,
                             sync=sync_of(request, sync_id))


def wire_status(status: str | None) -> str | None:
    """BulkExecutionStatus has no queued or waiting: a run not yet started is scheduled."""
    return "scheduled" if status in (ExecutionStatus.QUEUED, ExecutionStatus.WAITING) else status


def schema_execution_out(item: BulkSchemaExecution) -> dict:
    return {
        "schema": item.schema, "output_name": item.output_name, "status": item.status,
        "record_count": item.record_count, "error_count": item.error_count,
        "warning_count": 0, "status_message": item.status_message, "created_at": item.created_at,
        "updated_at": item.updated_at, "started_at": item.started_at, "completed_at": item.completed_at,
    }


def execution_out(e: BulkExecution) -> dict:
    """BulkSyncExecution."""
    return {
        "id": str(e.pk),
        "type": "test" if e.is_test else e.trigger,
        "status": wire_status(e.status),
        "status_message": e.status_message,
        "fetch_mode": e.fetch_mode,
        "is_test": e.is_test,
        "is_resync": e.is_resync,
        "is_partial": bool(e.only_schemas),
        "output_disposition": "rebuild" if e.resync_mode == "rebuild" else "retain",
        "record_count": e.record_count,
        "error_count": e.error_count,
        "warning_count": 0,
        "schemas": [schema_execution_out(item) for item in e.schemas.all()],
        "created_at": e.created_at,
        "updated_at": e.updated_at,
        "started_at": e.started_at,
        "completed_at": e.completed_at,
    }


# ---- definitions --------------------------------------------------------------------


@router.get("/bulk/syncs", response={200: ListEnvelope(BulkSyncOut), **ERRORS})
def list_bulk_syncs(request, active: bool | None = None):
    syncs = visible(request, BulkSync.objects.filter(organization=request.auth.organization), "bulk_sync") \
        .select_related("created_by", "updated_by").prefetch_related("additional_schedules")
    if active is not None:
        syncs = syncs.filter(active=active)
    return {"data": [services.bulk_sync_data(s) for s in syncs]}


@router.post("/bulk/syncs", response={200: Envelope(BulkSyncOut), **ERRORS_WITH_CONFLICT})
def create_bulk_sync(request, payload: BulkSyncIn):
    sync = services.create_bulk_sync(request.auth.organization, body(payload), user=request.auth.created_by)
    return {"data": services.bulk_sync_data(sync)}


@router.get("/bulk/syncs/status", response={200: ListEnvelope(SyncStatusOut), **ERRORS},
            summary="The latest execution status of bulk syncs, per object")
def list_status(request, all: bool = False, active: bool | None = None,
                sync_id: list[UUID] = Query(None)):  # noqa: B008 - ninja's way to take a repeated parameter
    syncs = BulkSync.objects.filter(organization=request.auth.organization)
    if sync_id:
        syncs = syncs.filter(pk__in=sync_id)
        if len(syncs) != len(set(sync_id)):
            raise ApiError(404, "Not found.", metadata={"sync_id": [str(i) for i in sync_id]})
    elif active:
        syncs = syncs.filter(active=True)
    latest_status = BulkExecution.objects.filter(sync=OuterRef("pk"), is_test=False).order_by("-created_at")
    syncs = list(syncs.annotate(last_status=Subquery(latest_status.values("status")[:1]))
                 .prefetch_related("additional_schedules"))
    latest = (BulkSchemaExecution.objects.filter(execution__sync__in=syncs, execution__is_test=False)
              .values("execution__sync_id", "schema").annotate(last=Max("id")).values("last"))
    per_sync = {}
    for item in BulkSchemaExecution.objects.filter(id__in=latest).select_related("execution").order_by("schema"):
        per_sync.setdefault(item.execution.sync_id, []).append({
            "schema": item.schema, "execution_id": str(item.execution_id), "status": item.status,
            "record_count": item.record_count, "error_count": item.error_count, "warning_count": 0,
            "status_message": item.status_message, "started_at": item.started_at,
            "completed_at": item.completed_at,
        })
    return {"data": [
        {"sync_id": str(s.pk), "status": wire_status(s.last_status), "nextExecutionTime": schedules.next_execution_time(s),
         "schemas": per_sync.get(s.pk, [])}
        for s in syncs
    ]}


@router.get("/bulk/syncs/{id}", response={200: Envelope(BulkSyncOut), **ERRORS})
def get_bulk_sync(request, id: UUID, refresh_schemas: bool = False):
    sync = sync_of(request, id)
    if refresh_schemas:
        from_source(lambda: services.source_objects(sync.source_connection, refresh=True))
    return {"data": services.bulk_sync_data(sync)}


@router.put("/bulk/syncs/{id}", response={200: Envelope(BulkSyncOut), **ERRORS_WITH_CONFLICT})
def update_bulk_sync(request, id: UUID, payload: BulkSyncIn):
    sync = services.update_bulk_sync(sync_of(request, id), body(payload), user=request.auth.created_by)
    return {"data": services.bulk_sync_data(sync)}


@router.delete("/bulk/syncs/{id}", response={200: None, **ERRORS_WITH_CONFLICT})
def delete_bulk_sync(request, id: UUID):
    services.delete_bulk_sync(sync_of(request, id))
    return HttpResponse(status=200)


@router.post("/bulk/syncs/{id}/activate", response={200: Envelope(ActivateOut), **ERRORS})
def activate_bulk_sync(request, id: UUID, payload: ActivateIn):
    sync = services.set_active(sync_of(request, id), payload.active, user=request.auth.created_by)
    return {"data": {"id": str(sync.pk), "active": sync.active}}


def from_source(read):
    """The source's answer, or a 400 saying why the source could not be read."""
    try:
        return read()
    except ConnectorError as error:
        raise ApiError(400, f"Could not read the source's objects: {error}", key="source_discovery_failed") from error


@router.get("/bulk/syncs/{id}/schemas", response={200: ListEnvelope(BulkSchemaListOut), **ERRORS},
            summary="The source's objects, selected or not")
def list_schemas(request, id: UUID):
    sync = sync_of(request, id)
    return {"data": from_source(lambda: services.schemas_data(sync))}


@router.patch("/bulk/syncs/{id}/schemas", response={200: ListEnvelope(BulkSchemaOut), **ERRORS},
              summary="Change the settings of the objects listed (matched by id); the others stay as they are")
def patch_schemas(request, id: UUID, payload: BulkSchemasIn):
    sync = sync_of(request, id)
    items = [item.model_dump(exclude={"output_name", "destination_history_output_name"}) for item in payload.schemas]
    changed = services.replace_schemas(sync, items, merge=True)
    found = {s["id"]: s for s in from_source(lambda: services.schemas_data(sync, with_fields=True))}
    return {"data": [found[object_id] for object_id in changed]}


def one_schema(sync, schema_id: str) -> dict:
    found = from_source(lambda: services.schemas_data(sync, schema_id=schema_id, with_fields=True))
    if not found:
        raise ApiError(404, f"The source has no object '{schema_id}'.", metadata={"schema_id": schema_id})
    return found[0]


@router.get("/bulk/syncs/{id}/schemas/{schema_id}", response={200: Envelope(BulkSchemaOut), **ERRORS})
def get_schema(request, id: UUID, schema_id: str):
    return {"data": one_schema(sync_of(request, id), schema_id)}


@router.put("/bulk/syncs/{id}/schemas/{schema_id}", response={200: Envelope(BulkSchemaOut), **ERRORS},
            summary="Replace one object's settings; fields left out are all copied")
def put_schema(request, id: UUID, schema_id: str, payload: BulkSchemaIn):
    sync = sync_of(request, id)
    one_schema(sync, schema_id)
    item = payload.model_dump(exclude={"output_name", "destination_history_output_name"}, exclude_none=True)
    if item.get("id", schema_id) != schema_id:
        raise field_error("id", f"must be '{schema_id}', the object in the path, or left out")
    services.replace_schemas(sync, [{**item, "id": schema_id, "enabled": item.get("enabled", True)}], listed=False)
    return {"data": one_schema(sync, schema_id)}


@router.post("/bulk/syncs/{id}/schemas/{schema_id}/cancel", response={200: Envelope(MessageOut), **ERRORS},
             summary="Stop copying one object in the running execution; the others go on")
def cancel_schema(request, id: UUID, schema_id: str):
    sync = sync_of(request, id)
    if schema_id not in {s["id"] for s in sync.schemas}:
        raise ApiError(404, f"This bulk sync has no schema '{schema_id}'.", metadata={"schema_id": schema_id})
    return {"data": {"message": runs.cancel_schema(sync, schema_id)}}


# ---- executions ---------------------------------------------------------------------


@router.post("/bulk/syncs/{id}/executions", response={200: Envelope(BulkExecutionOut), **ERRORS_WITH_CONFLICT},
             summary="Start a bulk sync execution")
def start(request, id: UUID, payload: BulkStartIn = None):
    sync = sync_of(request, id)
    options = body(payload) if payload else {}
    if "resync" in options:
        raise field_error("resync", "is no longer accepted; use resync_mode (refetch, resync or rebuild)")
    resync_mode = options.get("resync_mode") or ""
    if resync_mode and resync_mode not in runs.RESYNC_MODES:
        raise field_error("resync_mode", f"must be one of {', '.join(runs.RESYNC_MODES)}")
    fetch_mode = options.get("fetch_mode") or "incremental"
    if fetch_mode not in runs.FETCH_MODES:
        raise field_error("fetch_mode", f"must be one of {', '.join(runs.FETCH_MODES)}")
    if options.get("test") and resync_mode:
        raise field_error("resync_mode", "cannot be combined with test")
    enabled = {s["id"] for s in sync.enabled_schemas()}
    for i, schema_id in enumerate(options.get("schemas") or []):
        if schema_id not in enabled:
            raise field_error(f"schemas[{i}]", f"'{schema_id}' is not an enabled schema of this bulk sync")
    try:
        execution = runs.start_execution(sync, trigger="api", fetch_mode=fetch_mode, resync_mode=resync_mode,
                                         test=bool(options.get("test")), schemas=options.get("schemas"))
    except runs.AlreadyRunning as running:
        metadata = {"execution_id": str(running.execution.pk)} if running.execution else {}
        raise ApiError(409, "This bulk sync is already running.", key="sync_running", metadata=metadata) from None
    return {"data": execution_out(execution)}


@router.get("/bulk/syncs/{id}/executions", response={200: PagedEnvelope(BulkExecutionOut), **ERRORS},
            summary="List a bulk sync's executions")
def list_executions(request, id: UUID, page_token: str | None = None, limit: int | None = None,
                    only_terminal: bool = False, ascending: bool = False):
    executions = sync_of(request, id).executions.prefetch_related("schemas")
    if only_terminal:
        executions = executions.filter(status__in=TERMINAL_STATUSES)
    items, next_token = paginate(executions, page_token, limit, descending=not ascending, max_limit=100)
    return {"data": [execution_out(e) for e in items], "pagination": {"next_page_token": next_token}}


@router.get("/bulk/syncs/{id}/executions/{exec_id}", response={200: Envelope(BulkExecutionOut), **ERRORS})
def get_execution(request, id: UUID, exec_id: UUID):
    return {"data": execution_out(execution_of(request, id, exec_id))}


@router.post("/bulk/syncs/{id}/executions/{exec_id}/cancel", response={200: Envelope(MessageOut), **ERRORS})
def cancel_execution(request, id: UUID, exec_id: UUID):
    try:
        return {"data": {"message": runs.bulk_runs.cancel(execution_of(request, id, exec_id))}}
    except runs.NotCancelable as error:
        raise ApiError(400, str(error), key="not_cancelable") from None


@router.post("/bulk/syncs/{id}/cancel", response={200: Envelope(MessageOut), **ERRORS})
def cancel_bulk_sync(request, id: UUID):
    return {"data": {"message": runs.bulk_runs.cancel_sync(sync_of(request, id))}}


@router.get("/bulk/syncs/{id}/status", response={200: Envelope(BulkStatusOut), **ERRORS})
def sync_status(request, id: UUID):
    sync = sync_of(request, id)
    current = runs.bulk_runs.active(sync)
    last = (sync.executions.filter(status__in=TERMINAL_STATUSES, is_test=False)
            .prefetch_related("schemas").order_by("-created_at").first())
    return {"data": {
        "current_execution": execution_out(current) if current else None,
        "last_execution": execution_out(last) if last else None,
        "next_execution_time": schedules.next_execution_time(sync),
    }}


# ---- error handling -----------------------------------------------------------------


class BulkErrorHandlingIn(Schema):
    model_config = ConfigDict(extra="forbid")

    subscribers: list[str] | None = None
    notify_after_failures: int | None = None  # ours: failed runs in a row before anyone is emailed
    ingestion_failure_threshold: int | None = None


class BulkErrorHandlingOut(Schema):
    subscribers: list[str]
    notify_after_failures: int
    ingestion_failure_threshold: int | None = None


@router.get("/bulk/syncs/{id}/error-handling", response={200: Envelope(BulkErrorHandlingOut), **ERRORS},
            summary="Who is emailed when the bulk sync's runs fail")
def get_error_handling(request, id: UUID):
    return {"data": error_handling.bulk_settings(sync_of(request, id))}


@router.put("/bulk/syncs/{id}/error-handling", response={200: Envelope(BulkErrorHandlingOut), **ERRORS},
            summary="Set who is emailed when the bulk sync's runs fail (a full replacement)")
def set_error_handling(request, id: UUID, payload: BulkErrorHandlingIn):
    sync = sync_of(request, id)
    sync.error_handling = error_handling.clean_bulk_settings(payload.model_dump())
    sync.save(update_fields=["error_handling", "updated_at"])
    return {"data": error_handling.bulk_settings(sync)}


# ---- what a connection offers -------------------------------------------------------


class BulkSourceCapabilities(Schema):
    supports_namespaces: bool
    supports_tracking_fields: bool


class BulkSourceFieldOut(Schema):
    id: str
    name: str
    type: str
    remote_type: str | None = None
    is_primary_key: bool


class BulkSourceSchemaOut(Schema):
    id: str
    name: str
    fields: list[BulkSourceFieldOut] | None = None


class BulkSourceOut(Schema):
    capabilities: BulkSourceCapabilities
    configuration: dict
    schemas: list[BulkSourceSchemaOut]


class BulkModeOut(Schema):
    id: str
    label: str
    description: str
    requires_identity: bool
    supports_field_sync_mode: bool
    supports_target_filters: bool


class BulkDestinationOut(Schema):
    configuration: dict
    modes: list[BulkModeOut]
    supported_resync_modes: list[str]
    supports_history_mode: bool


def connection_of(request, id) -> Connection:
    return get_object_or_404(Connection, pk=id, organization=request.auth.organization)


@router.get("/connections/{id}/bulksync/source", response={200: Envelope(BulkSourceOut), **ERRORS},
            summary="What a bulk sync can read from this connection")
def bulk_source(request, id: UUID, include_fields: bool = False):
    connection = connection_of(request, id)
    return {"data": from_source(lambda: services.source_offer(connection, include_fields=include_fields))}


@router.get("/connections/{id}/bulksync/target", response={200: Envelope(BulkDestinationOut), **ERRORS},
            summary="How a bulk sync can write into this connection")
def bulk_destination(request, id: UUID):
    return {"data": services.destination_offer(connection_of(request, id))}


# ---- schedules ----------------------------------------------------------------------


class BulkScheduleOut(Schema):
    """BulkBulkSyncSchedule (camelCase, as Polytomic answers it)."""

    frequency: str
    minute: str | None = None
    hour: str | None = None
    dayOfWeek: str | None = None  # noqa: N815
    dayOfMonth: str | None = None  # noqa: N815
    month: str | None = None
    isDefault: bool  # noqa: N815
    syncId: str  # noqa: N815
    syncMode: str  # noqa: N815
    selectiveMode: str  # noqa: N815
    schemas: list[str]
    createdAt: datetime | None = None  # noqa: N815
    updatedAt: datetime | None = None  # noqa: N815
    createdBy: str | None = None  # noqa: N815
    updatedBy: str | None = None  # noqa: N815


class BulkScheduleBody(Schema):
    schedule: dict[str, Any]


def schedule_of(sync, schedule_id) -> BulkSchedule:
    return get_object_or_404(BulkSchedule, pk=schedule_id, sync=sync)


@router.get("/bulk/syncs/{id}/schedules", response={200: ListEnvelope(BulkScheduleOut), **ERRORS},
            summary="The bulk sync's schedules: its default one first")
def list_schedules(request, id: UUID):
    sync = sync_of(request, id)
    return {"data": [schedules.default_out(sync)] + [schedules.out(s) for s in sync.additional_schedules.all()]}


@router.post("/bulk/syncs/{id}/schedules", response={200: Envelope(BulkScheduleOut), **ERRORS},
             summary="Add a schedule to the bulk sync (the others stay)")
def create_schedule(request, id: UUID, payload: BulkScheduleBody):
    sync = sync_of(request, id)
    schedule = schedules.save(sync, schedules.clean(sync, payload.model_dump()), user=request.auth.created_by)
    return {"data": schedules.out(schedule)}


@router.get("/bulk/syncs/{id}/schedules/{schedule_id}", response={200: Envelope(BulkScheduleOut), **ERRORS})
def get_schedule(request, id: UUID, schedule_id: UUID):
    return {"data": schedules.out(schedule_of(sync_of(request, id), schedule_id))}


@router.put("/bulk/syncs/{id}/schedules/{schedule_id}", response={200: Envelope(BulkScheduleOut), **ERRORS},
            summary="Replace one of the bulk sync's schedules")
def update_schedule(request, id: UUID, schedule_id: UUID, payload: BulkScheduleBody):
    sync = sync_of(request, id)
    schedule = schedule_of(sync, schedule_id)
    schedule = schedules.save(sync, schedules.clean(sync, payload.model_dump()), schedule, user=request.auth.created_by)
    return {"data": schedules.out(schedule)}


@router.delete("/bulk/syncs/{id}/schedules/{schedule_id}", response={200: None, **ERRORS})
def delete_schedule(request, id: UUID, schedule_id: UUID):
    schedule_of(sync_of(request, id), schedule_id).delete()
    return HttpResponse(status=200)


# ---- execution logs -----------------------------------------------------------------


class BulkLogUrlsOut(Schema):
    """BulkSyncExecutionLogs, with the keys Polytomic capitalizes."""

    Expires: datetime  # noqa: N815
    URLs: list[str]  # noqa: N815


class ExportedLogs(Schema):
    url: str


class ExportJob(Schema):
    job_id: str
    type: str
    status: str


class ExportOut(Schema):
    data: ExportedLogs
    job: ExportJob


@router.get("/bulk/syncs/{id}/executions/{exec_id}/consolelog", response={200: Envelope(ConsoleLogs),
            **ERRORS}, summary="A bulk run's console log, its objects' lines included")
def execution_console_log(request, id: UUID, exec_id: UUID, limit: int | None = None,
                          after: str | None = None):
    execution = execution_of(request, id, exec_id)
    return {"data": logs.console_page(execution.logs.all(), limit, after)}


@router.get("/bulk/syncs/{id}/executions/{exec_id}/schemas/{schema_id}/consolelog",
            response={200: Envelope(ConsoleLogs), **ERRORS}, summary="A bulk run's console log about one object")
def schema_console_log(request, id: UUID, exec_id: UUID, schema_id: str, limit: int | None = None,
                       after: str | None = None):
    execution = execution_of(request, id, exec_id)
    if schema_id not in {s["id"] for s in execution.sync.schemas} | {s.schema for s in execution.schemas.all()}:
        raise ApiError(404, f"This bulk sync has no schema '{schema_id}'.", metadata={"schema_id": schema_id})
    return {"data": logs.console_page(execution.logs.filter(schema=schema_id), limit, after)}


@router.get("/connections/{connection_id}/ingest/consolelog", response={200: Envelope(ConsoleLogs), **ERRORS},
            summary="The console log of bulk runs reading from this connection")
def ingest_console_log(request, connection_id: UUID, sync_id: UUID | None = None, limit: int | None = None,
                       after: str | None = None):
    connection = connection_of(request, connection_id)
    lines = BulkExecutionLog.objects.filter(execution__sync__source_connection=connection)
    if sync_id:
        get_object_or_404(BulkSync, pk=sync_id, source_connection=connection)
        lines = lines.filter(execution__sync_id=sync_id)
    return {"data": logs.console_page(lines, limit, after)}


@router.get("/bulk/syncs/{id}/executions/{exec_id}/logs", response={200: Envelope(BulkLogUrlsOut),
            **ERRORS}, summary="Signed URLs of a bulk run's log files")
def execution_log_urls(request, id: UUID, exec_id: UUID):
    execution = execution_of(request, id, exec_id)
    expires = timezone.now() + timedelta(seconds=logs.URL_MAX_AGE)
    return {"data": {"Expires": expires, "URLs": [logs.sign(execution, "execution.jsonl")]}}


@router.post("/bulk/syncs/{id}/executions/{exec_id}/logs/export", response={200: ExportOut, **ERRORS},
             summary="An archive of a bulk run's logs, one file per object, behind a signed URL")
def export_execution_logs(request, id: UUID, exec_id: UUID, notify: bool = False):
    execution = execution_of(request, id, exec_id)
    return {"data": {"url": logs.sign(execution, "logs.zip")},
            "job": {"job_id": str(uuid4()), "type": "export_logs", "status": "done"}}
