"""Executions, their status and logs, in Polytomic's wire format (§2.7 of the reference)."""

from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema
from pydantic import ConfigDict

from console.api.errors import ApiError, field_error
from console.api.pagination import paginate
from console.api.schemas import ERRORS, Envelope, PagedEnvelope
from console.engine.models import TERMINAL_STATUSES, Execution, ExecutionStatus, RecordError
from console.syncs.models import Sync

from . import error_handling, services
from .events_api import router as events_router
from .logs import LOG_TYPES, URL_MAX_AGE, file_name, log_count, sign_log

router = Router(tags=["Model sync executions"])
router.add_router("", events_router)

ERRORS_WITH_CONFLICT = {**ERRORS, 409: ERRORS[400]}


class ExecutionCounts(Schema):
    total: int
    insert: int
    update: int
    upserts: int
    delete: int
    error: int
    warnings: int
    # Ours, fuller: queried = invalid + unchanged + inserted + updated + removed + errored
    # (+ vanished, the records removed because they left the model).
    queried: int
    invalid: int
    unchanged: int
    inserted: int
    updated: int
    removed: int
    errored: int
    vanished: int


class ExecutionOut(Schema):
    id: str
    type: str
    status: str
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    counts: ExecutionCounts
    errors: list[str]
    trigger: str
    resync: bool
    test: bool
    attempt: int
    retry_of: str | None = None
    plan: dict | None = None


class SourceRef(Schema):
    model_id: str | None = None
    field: str


class SourceIdentity(Schema):
    source: SourceRef
    value: str | int | float | None = None


class StartIn(Schema):
    resync: bool = False
    test: bool = False
    identities: list[str] | None = None
    source_identities: list[list[SourceIdentity]] | None = None
    allow_mass_removal: bool = False  # ours: skip the wipe guard for this one run


class StartOut(Schema):
    id: str
    status: str
    created_at: datetime


class MessageOut(Schema):
    message: str


class StatusOut(Schema):
    current_execution: ExecutionOut | None = None
    last_execution: ExecutionOut | None = None
    next_execution_time: datetime | None = None


class ConsoleEntry(Schema):
    id: str
    timestamp: datetime
    level: str
    message: str
    payload: dict | None = None


class ConsoleLogs(Schema):
    entries: list[ConsoleEntry]
    next_cursor: str | None = None


class LogsIndexEntry(Schema):
    count: int
    url: str


class LogsIndex(Schema):
    records: LogsIndexEntry
    errors: LogsIndexEntry
    warnings: LogsIndexEntry
    inserts: LogsIndexEntry
    updates: LogsIndexEntry
    deletes: LogsIndexEntry


class LogUrls(Schema):
    expires: datetime
    urls: list[str]


class RecordErrorOut(Schema):
    identity: str
    kind: str
    action: str
    message: str
    payload: dict
    created_at: datetime


def execution_out(e: Execution) -> dict:
    return {
        "id": str(e.pk),
        "type": "test" if e.dry_run else e.trigger,
        "status": e.status,
        "created_at": e.created_at,
        "started_at": e.started_at,
        "completed_at": e.completed_at,
        "counts": {
            "total": e.queried + e.vanished,
            "insert": e.inserted,
            "update": e.updated,
            "upserts": e.inserted + e.updated,
            "delete": e.removed,
            "error": e.errored + e.invalid,
            "warnings": 0,
            "queried": e.queried,
            "invalid": e.invalid,
            "unchanged": e.unchanged,
            "inserted": e.inserted,
            "updated": e.updated,
            "removed": e.removed,
            "errored": e.errored,
            "vanished": e.vanished,
        },
        "errors": [e.error] if e.error else [],
        "trigger": e.trigger,
        "resync": e.resync,
        "test": e.dry_run,
        "attempt": e.attempt,
        "retry_of": str(e.retry_of_id) if e.retry_of_id else None,
        "plan": e.plan,
    }


def get_sync(request, sync_id) -> Sync:
    return get_object_or_404(Sync, pk=sync_id, organization=request.auth.organization)


def get_execution(request, sync_id, execution_id) -> Execution:
    return get_object_or_404(Execution, pk=execution_id, sync=get_sync(request, sync_id))


def identities_from(sync: Sync, payload: StartIn) -> list[str] | None:
    if payload.identities and payload.source_identities:
        raise field_error("source_identities", "cannot be combined with identities")
    if payload.identities is not None:
        return payload.identities or None
    if not payload.source_identities:
        return None
    if len(payload.source_identities) > 1000:
        raise field_error("source_identities", "at most 1000 entries")
    identity_field = ((sync.identity or {}).get("source") or {}).get("field")
    values = []
    for entry in payload.source_identities:
        matching = [item.value for item in entry if item.source.field == identity_field]
        if not matching or matching[0] is None:
            raise field_error("source_identities", f"each entry needs a value for '{identity_field}'")
        values.append(str(matching[0]))
    return values


@router.post(
    "/syncs/{id}/executions",
    response={200: Envelope(StartOut), **ERRORS_WITH_CONFLICT},
    summary="Start a sync execution",
)
def start(request, id: UUID, payload: StartIn = None):
    payload = payload or StartIn()
    sync = get_sync(request, id)
    identities = identities_from(sync, payload)
    try:
        execution = services.start_execution(
            sync,
            trigger="api",
            resync=payload.resync,
            dry_run=payload.test,
            identities=identities,
            allow_mass_removal=payload.allow_mass_removal,
        )
    except services.AlreadyRunning as running:
        metadata = {"execution_id": str(running.execution.pk)} if running.execution else {}
        raise ApiError(409, "This sync is already running.", key="sync_running", metadata=metadata) from None
    return {"data": {"id": str(execution.pk), "status": execution.status, "created_at": execution.created_at}}


@router.get(
    "/syncs/{id}/executions",
    response={200: PagedEnvelope(ExecutionOut), **ERRORS},
    summary="List a sync's executions",
)
def list_executions(request, id: UUID, page_token: str | None = None, limit: int | None = None,
                    only_completed: bool = False, ascending: bool = False):
    sync = get_sync(request, id)
    executions = sync.executions.all()
    if only_completed:
        executions = executions.filter(status=ExecutionStatus.COMPLETED)
    items, next_token = paginate(executions, page_token, limit, descending=not ascending)
    return {"data": [execution_out(e) for e in items], "pagination": {"next_page_token": next_token}}


@router.get("/syncs/{id}/status", response={200: Envelope(StatusOut), **ERRORS}, summary="Sync status")
def sync_status(request, id: UUID):
    sync = get_sync(request, id)
    current = services.sync_runs.active(sync)
    last = (
        sync.executions.filter(status__in=TERMINAL_STATUSES, dry_run=False)
        .order_by("-created_at")
        .first()
    )
    return {
        "data": {
            "current_execution": execution_out(current) if current else None,
            "last_execution": execution_out(last) if last else None,
            "next_execution_time": sync.next_run_at if sync.active else None,
        }
    }


@router.post("/syncs/{id}/cancel", response={200: Envelope(MessageOut), **ERRORS}, summary="Cancel a sync's run")
def cancel_sync(request, id: UUID):
    return {"data": {"message": services.sync_runs.cancel_sync(get_sync(request, id))}}


@router.get(
    "/syncs/{sync_id}/executions/{id}",
    response={200: Envelope(ExecutionOut), **ERRORS},
    summary="Get an execution",
)
def get_one(request, sync_id: UUID, id: UUID):
    return {"data": execution_out(get_execution(request, sync_id, id))}


@router.post(
    "/syncs/{sync_id}/executions/{id}/cancel",
    response={200: Envelope(MessageOut), **ERRORS},
    summary="Cancel an execution",
)
def cancel_one(request, sync_id: UUID, id: UUID):
    execution = get_execution(request, sync_id, id)
    try:
        return {"data": {"message": services.sync_runs.cancel(execution)}}
    except services.NotCancelable as error:
        raise ApiError(400, str(error), key="not_cancelable") from None


@router.post(
    "/syncs/{sync_id}/executions/{id}/retry",
    response={200: Envelope(StartOut), **ERRORS_WITH_CONFLICT},
    summary="Retry the records an execution could not write (ours)",
)
def retry_one(request, sync_id: UUID, id: UUID):
    execution = get_execution(request, sync_id, id)
    if not execution.record_errors.exists():
        raise ApiError(400, "This execution has no failed records to retry.", key="nothing_to_retry")
    try:
        retry = services.retry_failed_records(execution, trigger="api")
    except services.AlreadyRunning:
        raise ApiError(409, "This sync is already running.", key="sync_running") from None
    return {"data": {"id": str(retry.pk), "status": retry.status, "created_at": retry.created_at}}


@router.get(
    "/syncs/{sync_id}/executions/{id}/consolelog",
    response={200: Envelope(ConsoleLogs), **ERRORS},
    summary="An execution's console log",
)
def console_log(request, sync_id: UUID, id: UUID, limit: int = 50, after: str | None = None):
    execution = get_execution(request, sync_id, id)
    limit = max(1, min(limit, 50))
    logs = execution.logs.all()
    if after:
        if not after.isdigit():
            raise field_error("after", "is not a cursor this API issued")
        entries = list(logs.filter(id__gt=int(after)).order_by("id")[:limit])
    else:
        entries = list(logs.order_by("-id")[:limit])[::-1]
    return {
        "data": {
            "entries": [
                {"id": str(entry.pk), "timestamp": entry.created_at, "level": entry.level,
                 "message": entry.message, "payload": entry.payload}
                for entry in entries
            ],
            "next_cursor": str(entries[-1].pk) if entries else after,
        }
    }


@router.get(
    "/syncs/{sync_id}/executions/{id}/record-errors",
    response={200: PagedEnvelope(RecordErrorOut), **ERRORS},
    summary="Records an execution set aside or the target rejected (ours)",
)
def record_errors(request, sync_id: UUID, id: UUID, identity: str | None = None,
                  page_token: str | None = None, limit: int | None = None):
    execution = get_execution(request, sync_id, id)
    errors = RecordError.objects.filter(execution=execution)
    if identity:
        errors = errors.filter(identity__icontains=identity)
    items, next_token = paginate(errors, page_token, limit, order_by="created_at", descending=False)
    return {
        "data": [
            {"identity": e.identity, "kind": e.kind, "action": e.action, "message": e.message,
             "payload": e.payload, "created_at": e.created_at}
            for e in items
        ],
        "pagination": {"next_page_token": next_token},
    }


@router.get(
    "/syncs/{sync_id}/executions/{id}/logs",
    response={200: Envelope(LogsIndex), **ERRORS},
    summary="Index of an execution's record logs",
)
def logs_index(request, sync_id: UUID, id: UUID):
    execution = get_execution(request, sync_id, id)
    base = f"{settings.PUBLIC_URL}/api/syncs/{sync_id}/executions/{id}"
    return {"data": {t: {"count": log_count(execution, t), "url": f"{base}/{t}"} for t in LOG_TYPES}}


def checked_type(log_type: str) -> str:
    if log_type not in LOG_TYPES:
        raise field_error("type", f"must be one of {', '.join(LOG_TYPES)}")
    return log_type


@router.get(
    "/syncs/{sync_id}/executions/{id}/{type}",
    response={200: Envelope(LogUrls), **ERRORS},
    summary="Signed URLs of an execution's record log",
)
def log_urls(request, sync_id: UUID, id: UUID, type: str):
    execution = get_execution(request, sync_id, id)
    checked_type(type)
    expires = timezone.now() + timedelta(seconds=URL_MAX_AGE)
    return {"data": {"expires": expires, "urls": [sign_log(execution, type)]}}


@router.get(
    "/syncs/{sync_id}/executions/{id}/{type}/{filename}",
    response={302: None, **ERRORS},
    summary="Download one record-log file (a redirect to its signed URL)",
)
def log_file(request, sync_id: UUID, id: UUID, type: str, filename: str):
    execution = get_execution(request, sync_id, id)
    checked_type(type)
    if filename != file_name(type):
        raise ApiError(404, f"Execution {id} has no {type} file '{filename}'; its files are those the URLs answer "
                            "names, e.g. " + file_name(type))
    return HttpResponseRedirect(sign_log(execution, type))



class SyncErrorHandlingIn(Schema):
    model_config = ConfigDict(extra="forbid")

    subscribers: list[str] | None = None
    notify_after_failures: int | None = None  # ours: failed runs in a row before anyone is emailed
    notify_on_record_errors: bool | None = None
    warning_notifications: bool | None = None
    auto_retry_record_errors: bool | None = None


class SyncErrorHandlingOut(Schema):
    subscribers: list[str]
    notify_after_failures: int
    notify_on_record_errors: bool
    warning_notifications: bool
    auto_retry_record_errors: bool


@router.get("/syncs/{id}/error-handling", response={200: Envelope(SyncErrorHandlingOut), **ERRORS},
            summary="Who is emailed when the sync's runs fail")
def get_error_handling(request, id: UUID):
    return {"data": error_handling.model_settings(get_sync(request, id))}


@router.put("/syncs/{id}/error-handling", response={200: Envelope(SyncErrorHandlingOut), **ERRORS},
            summary="Set who is emailed when the sync's runs fail (a full replacement)")
def set_error_handling(request, id: UUID, payload: SyncErrorHandlingIn):
    sync = get_sync(request, id)
    sync.error_handling = error_handling.clean_model_settings(payload.model_dump())
    sync.save(update_fields=["error_handling", "updated_at"])
    return {"data": error_handling.model_settings(sync)}
