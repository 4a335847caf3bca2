"""Model sync target discovery (§2.6 of the reference): target objects, creation
properties and their values, target fields."""

import re
from contextlib import contextmanager
from datetime import datetime
from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from console.api.errors import ApiError, field_error
from console.api.schemas import ERRORS, Envelope
from console.connections.models import Connection
from integrations.base import ConnectorError

from . import services

router = Router(tags=["Model sync targets"])

PROPERTY_PARAM = re.compile(r"^properties\[(.+)\]$")


class EnumValue(Schema):
    value: str
    label: str


class SupportedMode(Schema):
    id: str
    requires_identity: bool
    supports_target_filters: bool
    supports_per_field_mode: bool


class TargetObjectOut(Schema):
    id: str
    name: str
    modes: list[SupportedMode]


class PropertyOut(Schema):
    id: str
    title: str
    enum: bool
    values: list[EnumValue] | None = None


class TargetCreator(Schema):
    supported: bool
    properties: list[PropertyOut]


class TargetObjectsEnvelope(Schema):
    data: list[TargetObjectOut]
    target_creation: TargetCreator


class IdentityFunction(Schema):
    id: str
    label: str


class TargetFieldOut(Schema):
    id: str
    name: str
    type: str
    required: bool
    createable: bool
    updateable: bool
    supports_identity: bool
    identity_functions: list[IdentityFunction]
    description: str = ""
    association: bool = False
    filterable: bool = True
    encryptable: bool = False
    values: list[EnumValue] | None = None  # a picklist's or enumeration's accepted values


class ModeOut(Schema):
    mode: str
    label: str
    description: str
    requires_identity: bool
    supports_field_sync_mode: bool
    supports_target_filters: bool


class TargetDescriptionOut(Schema):
    id: str
    name: str
    fields: list[TargetFieldOut]
    modes: list[ModeOut]
    properties: dict
    refreshed_at: datetime | None = None


def target_connection(request, connection_id) -> Connection:
    connection = get_object_or_404(Connection, pk=connection_id, organization=request.auth.organization)
    if not services.supports(connection):
        raise ApiError(400, f"Connections of type '{connection.type}' cannot be sync targets.",
                       key="not_a_target")
    return connection


@contextmanager
def provider_errors():
    """A refusal from the provider is the client's to see, in the provider's words."""
    try:
        yield
    except services.UnknownTarget as error:
        raise ApiError(404, str(error)) from error
    except ConnectorError as error:
        raise ApiError(400, f"Target discovery failed: {error}", key="target_discovery_failed") from error


def list_target_objects(request, id, include_target_creation_values=False, refresh=False):
    connection = target_connection(request, id)
    with provider_errors():
        found = services.objects(connection, refresh=refresh)
        creation = services.creation(connection, include_values=include_target_creation_values)
    return {"data": [services.object_dict(o) for o in found], "target_creation": creation}


@router.get("/connections/{id}/modelsync/targetobjects",
            response={200: TargetObjectsEnvelope, **ERRORS}, exclude_none=True, operation_id="list_target_objects")
def get_target_objects(request, id: UUID, include_target_creation_values: bool = False, refresh: bool = False):
    return list_target_objects(request, id, include_target_creation_values, refresh)


@router.post("/connections/{id}/modelsync/targetobjects",
             response={200: TargetObjectsEnvelope, **ERRORS}, exclude_none=True, operation_id="list_target_objects_post")
def post_target_objects(request, id: UUID, include_target_creation_values: bool = False, refresh: bool = False):
    """The same list; Polytomic's walk-throughs call it with POST."""
    return list_target_objects(request, id, include_target_creation_values, refresh)


@router.get("/connections/{id}/modelsync/targetobjects/properties/{property}",
            response={200: Envelope(PropertyOut), **ERRORS}, exclude_none=True)
def target_creation_property(request, id: UUID, property: str):
    connection = target_connection(request, id)
    with provider_errors():
        return {"data": services.creation_property(connection, property)}


@router.get("/connections/{id}/modelsync/target/fields", response={200: Envelope(TargetDescriptionOut), **ERRORS}, exclude_none=True)
def target_fields(request, id: UUID, target: str | None = None, refresh: bool = False):
    connection = target_connection(request, id)
    properties = creation_properties(request.GET)
    if bool(target) == bool(properties):
        raise field_error("target", "give exactly one of target or properties[...]")
    with provider_errors():
        if target:
            obj = services.find_object(connection, target)
            found, refreshed_at = services.fields(connection, target, refresh=refresh)
            return {"data": services.target_description(connection, obj, found, refreshed_at)}
        obj, found = services.new_target(connection, properties)
        return {"data": services.target_description(connection, obj, found, None, new=True)}


def creation_properties(query) -> dict:
    """properties[account]=...&properties[name]=... as {"account": ..., "name": ...}."""
    found = {}
    for key in query:
        match = PROPERTY_PARAM.match(key)
        if match:
            found[match.group(1)] = query.get(key)
    return found
