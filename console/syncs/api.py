"""Model sync definitions (§2.5 of the reference): create, list, get, replace, delete, activate."""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from pydantic import ConfigDict

from console.access.rules import visible
from console.api.pagination import paginate
from console.api.schemas import ERRORS, Envelope, PagedEnvelope

from . import sample_requests, services
from .models import Sync

router = Router(tags=["Model syncs"])

ERRORS_WITH_CONFLICT = {**ERRORS, 409: ERRORS[400]}


class Loose(Schema):
    model_config = ConfigDict(extra="allow")


class Source(Loose):
    model_id: str | None = None
    field: str


class IdentityMapping(Loose):
    source: Source
    target: str
    function: str | None = None
    new_field: bool | None = None
    remote_field_type_id: str | None = None


class Identities(Loose):
    mappings: list[IdentityMapping]
    strategy: str | None = None


class SyncField(Loose):
    target: str
    source: Source | None = None
    override_value: str | None = None
    sync_mode: str | None = None
    new: bool | None = None
    encryption_enabled: bool | None = None


class OverrideField(Loose):
    target: str
    override_value: str | None = None
    sync_mode: str | None = None
    new: bool | None = None


class Filters(Loose):
    conditions: list[dict] | None = None
    logic: str | None = None


class RunAfter(Loose):
    sync_ids: list[str] | None = None
    bulk_sync_ids: list[str] | None = None


class Schedule(Loose):
    frequency: str | None = None
    minute: str | int | None = None
    hour: str | int | None = None
    day_of_week: str | int | None = None
    day_of_month: str | int | None = None
    month: str | int | None = None
    run_after: RunAfter | None = None
    run_after_success_only: bool | None = None
    connection_id: str | None = None
    job_id: int | None = None


class Target(Loose):
    connection_id: str
    object: str | None = None
    create: dict[str, str] | None = None
    configuration: dict[str, Any] | None = None
    new_name: str | None = None
    search_values: dict[str, Any] | None = None
    filter_logic: str | None = None


class SyncIn(Loose):
    name: str
    mode: str
    target: Target
    schedule: Schedule | None = None
    fields: list[SyncField] | None = None
    identity: IdentityMapping | None = None
    identities: Identities | None = None
    override_fields: list[OverrideField] | None = None
    overrides: list[dict] | None = None
    filters: list[dict] | None = None
    filter_logic: str | None = None
    model_filters: Filters | None = None
    target_filters: Filters | None = None
    active: bool | None = None
    sync_all_records: bool | None = None
    skip_initial_backfill: bool | None = None
    only_enrich_updates: bool | None = None
    policies: list[str] | None = None
    encryption_passphrase: str | None = None  # accepted, not stored: we do not encrypt per field
    organization_id: str | None = None


class PatchIn(Loose):
    """Older API versions update with PATCH: only what is sent changes."""


class Actor(Schema):
    id: str | None = None
    name: str | None = None
    type: str | None = None


class Problem(Schema):
    code: str
    message: str
    path: str
    severity: str


class TargetOut(Schema):
    connection_id: str
    object: str | None = None
    configuration: dict[str, Any] = {}
    new_name: str | None = None
    search_values: dict[str, Any] | None = None


class IdentitiesOut(Schema):
    mappings: list[dict]
    strategy: str | None = None


class SyncOut(Schema):
    id: str
    organization_id: str
    name: str
    active: bool
    mode: str
    model_ids: list[str]
    target: TargetOut
    identity: dict | None = None
    identities: IdentitiesOut
    fields: list[dict]
    override_fields: list[dict]
    overrides: list[dict]
    filters: list[dict]
    filter_logic: str | None = None
    model_filters: dict | None = None
    target_filters: dict | None = None
    schedule: dict
    sync_all_records: bool
    skip_initial_backfill: bool
    only_enrich_updates: bool
    policies: list[str]
    created_at: datetime
    updated_at: datetime
    created_by: Actor | None = None
    updated_by: Actor | None = None
    problems: list[Problem]


class SyncListItem(Schema):
    id: str
    organization_id: str
    name: str
    active: bool
    mode: str
    model_ids: list[str]
    target_connection_id: str
    target_object: str | None = None
    schedule: dict
    sync_all_records: bool
    skip_initial_backfill: bool
    only_enrich_updates: bool
    created_at: datetime
    updated_at: datetime
    created_by: Actor | None = None
    updated_by: Actor | None = None


class ScheduleOption(Schema):
    frequency: str
    label: str
    description: str
    configuration: dict


class ScheduleOptions(Schema):
    schedule_options: list[ScheduleOption]


class ActivateSyncIn(Schema):
    active: bool
    confirm_redaction: bool | None = None  # ours: activating a redaction sync confirms it again


class ActivateOut(Schema):
    id: str
    active: bool


class DryRunIn(Schema):
    rows: int = sample_requests.SAMPLE_ROWS


class SampleRequest(Schema):
    method: str
    url: str
    headers: dict[str, str]
    body: str | None = None
    rows: list[int]


class SkippedRow(Schema):
    row: int
    error: str


class DryRunOut(Schema):
    requests: list[SampleRequest]
    skipped: list[SkippedRow]


class TestSendIn(Schema):
    row: int = 0


class TestSendOut(Schema):
    row: int
    request: SampleRequest
    status: int
    reason: str


def body(payload) -> dict:
    return payload.model_dump(exclude_none=True)


def sync_of(request, sync_id) -> Sync:
    return get_object_or_404(
        Sync.objects.select_related("target_connection", "created_by", "updated_by"),
        pk=sync_id, organization=request.auth.organization,
    )


@router.post("/syncs", response={200: Envelope(SyncOut), **ERRORS_WITH_CONFLICT}, exclude_none=True)
def create_sync(request, payload: SyncIn):
    sync = services.create_sync(request.auth.organization, body(payload), user=request.auth.created_by)
    return {"data": services.sync_data(sync)}


@router.get("/syncs", response={200: PagedEnvelope(SyncListItem), **ERRORS}, exclude_none=True)
def list_syncs(request, active: bool | None = None, mode: str | None = None,
               target_connection_id: UUID | None = None, page_token: str | None = None,
               limit: int | None = None):
    syncs = visible(request, Sync.objects.filter(organization=request.auth.organization), "sync") \
        .select_related("created_by", "updated_by").only(*services.LIST_ITEM_FIELDS)
    if active is not None:
        syncs = syncs.filter(active=active)
    if mode:
        syncs = syncs.filter(mode=mode)
    if target_connection_id:
        syncs = syncs.filter(target_connection_id=target_connection_id)
    items, next_token = paginate(syncs, page_token, limit, order_by="updated_at")
    return {"data": [services.list_item(s) for s in items], "pagination": {"next_page_token": next_token}}


@router.get("/syncs/schedules", response={200: Envelope(ScheduleOptions), **ERRORS})
def schedule_options(request):
    return {"data": {"schedule_options": services.schedule_options()}}


@router.get("/syncs/{id}", response={200: Envelope(SyncOut), **ERRORS}, exclude_none=True)
def get_sync(request, id: UUID):
    return {"data": services.sync_data(sync_of(request, id))}


@router.put("/syncs/{id}", response={200: Envelope(SyncOut), **ERRORS_WITH_CONFLICT}, exclude_none=True)
def update_sync(request, id: UUID, payload: SyncIn):
    sync = services.update_sync(sync_of(request, id), body(payload), user=request.auth.created_by)
    return {"data": services.sync_data(sync)}


@router.post("/syncs/{id}", response={200: Envelope(SyncOut), **ERRORS_WITH_CONFLICT}, exclude_none=True,
             operation_id="update_sync_post")
def update_sync_post(request, id: UUID, payload: SyncIn):
    """The same full replacement as PUT, for clients that update with POST."""
    return update_sync(request, id, payload)


@router.patch("/syncs/{id}", response={200: Envelope(SyncOut), **ERRORS_WITH_CONFLICT}, exclude_none=True)
def patch_sync(request, id: UUID, payload: PatchIn):
    sync = sync_of(request, id)
    changes = body(payload)
    merged = {**services.sync_data(sync), **changes}
    if "identity" in changes and "identities" not in changes:
        merged.pop("identities")
    if "target" not in changes and sync.target_create and not sync.target_object:
        merged["target"] = {**merged["target"], "create": sync.target_create, "object": None}
    sync = services.update_sync(sync, merged, user=request.auth.created_by)
    return {"data": services.sync_data(sync)}


@router.delete("/syncs/{id}", response={200: None, **ERRORS_WITH_CONFLICT})
def delete_sync(request, id: UUID):
    services.delete_sync(sync_of(request, id))
    return HttpResponse(status=200)


@router.post("/syncs/{id}/activate", response={200: Envelope(ActivateOut), **ERRORS})
def activate_sync(request, id: UUID, payload: ActivateSyncIn):
    sync = services.set_active(sync_of(request, id), payload.active, user=request.auth.created_by,
                               confirmation=payload.confirm_redaction)
    return {"data": {"id": str(sync.pk), "active": sync.active}}


@router.post("/syncs/{id}/dry_run", response={200: Envelope(DryRunOut), **ERRORS})
def dry_run(request, id: UUID, payload: DryRunIn | None = None):
    """The requests an HTTP API target would be sent for the model's first rows; nothing is sent."""
    rows = payload.rows if payload is not None else sample_requests.SAMPLE_ROWS
    return {"data": sample_requests.preview(sync_of(request, id), rows)}


@router.post("/syncs/{id}/test_send", response={200: Envelope(TestSendOut), **ERRORS})
def test_send(request, id: UUID, payload: TestSendIn | None = None):
    """Sends one sample row to an HTTP API target; the answer's status and reason, never its body."""
    row = payload.row if payload is not None else 0
    return {"data": sample_requests.send_test(sync_of(request, id), row)}
