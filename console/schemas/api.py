"""Connection schemas in Polytomic's shapes (/api/connections/{id}/schemas...)."""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import JsonResponse
from ninja import Router, Schema

from console.api.errors import ApiError, field_error
from console.api.schemas import ERRORS, Envelope
from console.connections.api import own_connection
from integrations.base import ConnectorError

from . import services

router = Router(tags=["Schemas"])


class RefreshStatusOut(Schema):
    cache_status: str
    last_refresh_started: datetime | None = None
    last_refresh_finished: datetime | None = None


class SchemaFieldOut(Schema):
    id: str
    name: str
    type: str
    remote_type: str
    path: str | None = None
    is_primary_key: bool
    source_primary_key: bool
    primary_key_override: bool | None = None
    user_managed: bool


class SourceSchemaOut(Schema):
    id: str
    name: str
    fields: list[SchemaFieldOut]


class UserFieldIn(Schema):
    field_id: str
    label: str
    type: str
    path: str | None = None
    example: Any = None
    definition: Any = None


class UserFieldsIn(Schema):
    fields: list[UserFieldIn] = []


class FieldPatchIn(Schema):
    label: str | None = None
    type: str | None = None
    path: str | None = None
    example: Any = None
    definition: Any = None


class PrimaryKeyIn(Schema):
    field_id: str
    is_primary_key: bool


class PrimaryKeysIn(Schema):
    fields: list[PrimaryKeyIn] = []


def accepted(location: str = "") -> JsonResponse:
    response = JsonResponse({}, status=202)
    if location:
        response["Location"] = location
    return response


def answer(work):
    """work()'s result, with the services' errors as API errors."""
    try:
        return work()
    except services.NotFound as error:
        raise ApiError(404, str(error), key="not_found") from None
    except services.Invalid as error:
        raise field_error(error.field, error.message) from None
    except services.Unsupported as error:
        raise ApiError(400, str(error), key="schemas_unsupported") from None


def schema_out(schema) -> dict:
    return {"id": schema.schema_id, "name": schema.name, "fields": services.fields_of(schema)}


@router.post("/connections/{id}/schemas/refresh", response={202: dict, **ERRORS},
             summary="Refresh the connection's schemas in a worker; poll schemas/status")
def refresh(request, id: UUID):
    connection = own_connection(request, id)
    answer(lambda: services.start_refresh(connection))
    return accepted(f"/api/connections/{id}/schemas/status")


@router.get("/connections/{id}/schemas/status", response={200: Envelope(RefreshStatusOut), **ERRORS})
def status(request, id: UUID):
    current = services.catalog(own_connection(request, id))
    return {"data": {"cache_status": current.status, "last_refresh_started": current.refresh_started,
                     "last_refresh_finished": current.refresh_finished}}


@router.get("/connections/{id}/schemas/{schema_id}", response={200: Envelope(SourceSchemaOut), **ERRORS})
def get_schema(request, id: UUID, schema_id: str):
    connection = own_connection(request, id)
    return {"data": schema_out(answer(lambda: services.get_schema(connection, schema_id)))}


@router.get("/connections/{id}/schemas/{schema_id}/records", response={200: Envelope(list[dict]), **ERRORS})
def get_records(request, id: UUID, schema_id: str):
    schema = answer(lambda: services.get_schema(own_connection(request, id), schema_id))
    try:
        return {"data": services.sample(schema)}
    except ConnectorError as error:
        raise ApiError(400, f"Could not read the records: {error}", key="source_error") from None


@router.post("/connections/{connection_id}/schemas/{schema_id}/fields", response={202: dict, **ERRORS})
def upsert_fields(request, connection_id: UUID, schema_id: str, payload: UserFieldsIn):
    connection = own_connection(request, connection_id)
    answer(lambda: services.upsert_fields(connection, schema_id, [f.dict() for f in payload.fields]))
    return accepted()


@router.patch("/connections/{connection_id}/schemas/{schema_id}/fields/{field_id}",
              response={200: Envelope(SchemaFieldOut), **ERRORS})
def patch_field(request, connection_id: UUID, schema_id: str, field_id: str, payload: FieldPatchIn):
    connection = own_connection(request, connection_id)
    changes = payload.dict(exclude_unset=True)
    return {"data": answer(lambda: services.patch_field(connection, schema_id, field_id, changes))}


@router.delete("/connections/{connection_id}/schemas/{schema_id}/fields/{field_id}",
               response={202: dict, **ERRORS})
def delete_field(request, connection_id: UUID, schema_id: str, field_id: str):
    connection = own_connection(request, connection_id)
    answer(lambda: services.delete_field(connection, schema_id, field_id))
    return accepted()


@router.put("/connections/{connection_id}/schemas/{schema_id}/primary_keys", response={202: dict, **ERRORS})
def set_primary_keys(request, connection_id: UUID, schema_id: str, payload: PrimaryKeysIn):
    connection = own_connection(request, connection_id)
    answer(lambda: services.set_primary_keys(connection, schema_id, [k.dict() for k in payload.fields]))
    return accepted()


@router.delete("/connections/{connection_id}/schemas/{schema_id}/primary_keys", response={202: dict, **ERRORS})
def reset_primary_keys(request, connection_id: UUID, schema_id: str):
    connection = own_connection(request, connection_id)
    answer(lambda: services.reset_primary_keys(connection, schema_id))
    return accepted()
