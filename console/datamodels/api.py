"""Models in Polytomic's shapes: /api/models, /api/model-preview, /api/jobs/{type}/{id}.

`?async=true` runs the operation at once and answers with a finished `job`
(poll-free, but a client that polls GET /api/jobs/{type}/{id} gets the same).
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from console.access.rules import visible
from console.api.errors import ApiError
from console.api.schemas import ERRORS, Envelope, ListEnvelope

from . import services
from .models import DataModel, ModelField, ModelJob

router = Router(tags=["Models"])

ERRORS_WITH_CONFLICT = {**ERRORS, 409: ERRORS[400]}


class FieldOut(Schema):
    id: str
    name: str
    type: str
    remote_type: str | None = None
    label: str | None = None
    unique: bool = False
    user_added: bool = False


class ModelOut(Schema):
    id: str | None = None
    name: str
    organization_id: str
    connection_id: str
    type: str
    configuration: dict
    fields: list[FieldOut]
    identifier: str | None = None
    labels: list[Any] = []
    tracking_columns: list[str] = []
    relations: list[dict] = []
    policies: list[str] = []
    created_at: datetime | None = None
    updated_at: datetime | None = None


class JobOut(Schema):
    job_id: str
    type: str
    status: str
    result: Any = None
    error: str | None = None


class ModelEnvelope(Schema):
    data: ModelOut | None = None
    job: JobOut | None = None


class SampleOut(Schema):
    records: list[dict]
    warnings: list[str] = []


class SampleEnvelope(Schema):
    data: SampleOut | None = None
    job: JobOut | None = None


class ModelIn(Schema):
    name: str | None = None
    connection_id: str | None = None
    configuration: dict | None = None
    identifier: str | None = None
    labels: list[str] | None = None
    tracking_columns: list[str] | None = None
    fields: list[str] | None = None
    additional_fields: list[dict] | None = None
    relations: list[dict] | None = None
    enricher: dict | None = None
    policies: list[str] | None = None
    organization_id: str | None = None
    refresh: bool | None = None


class AsyncQuery(Schema):
    async_: bool = Field(False, alias="async")


# ---- shapes -------------------------------------------------------------------


def model_out(model: DataModel, fields=None, unsaved: bool = False) -> dict:
    if fields is None:
        fields = [f for f in model.fields.all() if not f.vanished]
    return {
        "id": None if unsaved else str(model.pk),
        "name": model.name,
        "organization_id": str(model.organization_id),
        "connection_id": str(model.connection_id),
        "type": model.connection.type,
        "configuration": model.configuration,
        "fields": [field_out(f) for f in fields],
        "identifier": model.identifier or None,
        "labels": model.labels,
        "tracking_columns": model.tracking_fields,
        "created_at": None if unsaved else model.created_at,
        "updated_at": None if unsaved else model.updated_at,
    }


def field_out(field) -> dict:
    return {"id": str(field.pk) if field.pk else field.name, "name": field.name, "type": field.type,
            "remote_type": field.remote_type or None, "label": field.label or None, "unique": field.unique}


def model_of(request, model_id) -> DataModel:
    return get_object_or_404(DataModel.objects.select_related("connection"), pk=model_id,
                             organization=request.auth.organization)


def respond(request, job_type: str, run, schema, asynchronous: bool) -> dict:
    """{"data": run()}; with ?async=true also a finished job (a failed one for warehouse errors)."""
    if not asynchronous:
        return {"data": run()}
    job = ModelJob(organization=request.auth.organization, type=job_type)
    try:
        data = run()
    except ApiError as error:
        if error.key not in ("query_error", "connection_error"):
            raise
        job.status, job.error, data = "failed", error.message, None
    else:
        job.status, job.result = "done", schema.model_validate(data).model_dump(mode="json")
    job.save()
    return {"data": data, "job": job_out(job)}


def job_out(job: ModelJob) -> dict:
    return {"job_id": str(job.pk), "type": job.type, "status": job.status, "result": job.result,
            "error": job.error or None}


def sample_out(model: DataModel, rows: list[dict]) -> dict:
    return {"records": [{str(model.pk): services.jsonable(row)} for row in rows], "warnings": []}


# ---- endpoints ----------------------------------------------------------------


@router.post("/models", response={200: ModelEnvelope, **ERRORS})
def create_model(request, payload: ModelIn, params: Query[AsyncQuery]):
    def run():
        return model_out(services.create_model(request.auth.organization, payload.model_dump(exclude_none=True)))

    return respond(request, "createmodel", run, ModelOut, params.async_)


@router.get("/models", response={200: ListEnvelope(ModelOut), **ERRORS})
def list_models(request):
    models = visible(request, services.organization_models(request.auth.organization), "model")
    return {"data": [model_out(m) for m in models]}


@router.get("/models/{id}", response={200: ModelEnvelope, **ERRORS})
def get_model(request, id: UUID, params: Query[AsyncQuery]):
    model = model_of(request, id)
    return respond(request, "getmodel", lambda: model_out(model), ModelOut, params.async_)


@router.put("/models/{id}", response={200: ModelEnvelope, **ERRORS})
def update_model(request, id: UUID, payload: ModelIn, params: Query[AsyncQuery]):
    model = model_of(request, id)

    def run():
        updated, _ = services.update_model(model, payload.model_dump(exclude_none=True))
        return model_out(updated)

    return respond(request, "updatemodel", run, ModelOut, params.async_)


@router.post("/models/{id}", response={200: ModelEnvelope, **ERRORS}, operation_id="update_model_post")
def update_model_post(request, id: UUID, payload: ModelIn, params: Query[AsyncQuery]):
    """The same full replacement as PUT, for clients that update with POST."""
    return update_model(request, id, payload, params)


@router.delete("/models/{id}", response={200: None, **ERRORS_WITH_CONFLICT})
def delete_model(request, id: UUID):
    try:
        services.delete_model(model_of(request, id))
    except services.ModelInUse as error:
        raise ApiError(409, str(error), key="model_in_use", metadata={"syncs": error.syncs}) from None
    return HttpResponse(status=200)


@router.get("/models/{id}/sample", response={200: SampleEnvelope, **ERRORS})
def sample_model(request, id: UUID, params: Query[AsyncQuery], limit: int = services.PREVIEW_ROWS):
    model = model_of(request, id)
    limit = max(1, min(limit, 100))
    return respond(request, "samplemodel", lambda: sample_out(model, services.sample(model, limit)),
                   SampleOut, params.async_)


@router.post("/model-preview", response={200: ModelEnvelope, **ERRORS})
def preview_model(request, payload: ModelIn, params: Query[AsyncQuery]):
    def run():
        definition, columns, _ = services.preview(request.auth.organization,
                                                  payload.model_dump(exclude_none=True), rows=0)
        model = DataModel(organization=request.auth.organization)
        services.apply_definition(model, definition)
        fields = [ModelField(name=c.name, type=c.type, remote_type=c.remote_type, label=c.label,
                             unique=c.name.lower() == definition.identifier.lower()) for c in columns]
        return model_out(model, fields=fields, unsaved=True)

    return respond(request, "previewmodel", run, ModelOut, params.async_)


class SourceItemOut(Schema):
    has_items: bool
    items: list[Any] | None = None
    requires_one_of: list[str] | None = None


class SourceMetaOut(Schema):
    items: dict[str, SourceItemOut]
    requires_one_of: list[str]


class SourceFieldOut(Schema):
    id: str
    name: str
    label: str
    type: str
    remote_type: str | None = None
    description: str | None = None


def source_configuration(request) -> dict:
    """`params[key]=value` (as the SDK sends it) or `key=value`; include_deleted as a boolean."""
    configuration = {}
    for name, values in request.GET.lists():
        key = name[len("params["):-1] if name.startswith("params[") and name.endswith("]") else name
        value = values[0] if len(values) == 1 else values
        if key == "include_deleted" and isinstance(value, str):
            value = {"true": True, "false": False}.get(value.lower(), value)
        configuration[key] = value
    return configuration


def source_field_out(column) -> dict:
    return {"id": column.name, "name": column.name, "label": column.label or column.name, "type": column.type,
            "remote_type": column.remote_type or None,
            "description": f"One of: {', '.join(map(str, column.values))}" if column.values else None}


@router.get("/connections/{id}/modelsync/source", response={200: Envelope(SourceMetaOut), **ERRORS})
def model_source_options(request, id: str):
    """What a model over this connection is configured with: the keys and the choices of each."""
    connection = services.organization_connection(request.auth.organization, id)
    return {"data": services.source_options(connection)}


@router.get("/connections/{id}/modelsync/source/fields", response={200: ListEnvelope(SourceFieldOut), **ERRORS})
def model_source_fields(request, id: str):
    """The fields a model with the configuration given as query parameters would have."""
    connection = services.organization_connection(request.auth.organization, id)
    columns = services.source_columns(connection, source_configuration(request))
    return {"data": [source_field_out(c) for c in columns]}


@router.get("/jobs/{type}/{id}", response={200: Envelope(JobOut), **ERRORS})
def get_job(request, type: str, id: UUID):
    job = get_object_or_404(ModelJob, pk=id, type=type, organization=request.auth.organization)
    return {"data": job_out(job)}
