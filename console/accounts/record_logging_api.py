"""/api/organization/record-logging: whether the caller's organization keeps run record logs."""

from ninja import Router, Schema
from pydantic import Field

from console.api.errors import field_error
from console.api.schemas import ERRORS, Envelope

from .services import set_record_logging

router = Router(tags=["Organization"])


class RecordLoggingIn(Schema):
    enabled: bool
    delivery_connection_id: str | None = Field(None, alias="deliveryConnectionId")
    delivery_prefix: str | None = Field(None, alias="deliveryPrefix")


class RecordLoggingOut(Schema):
    enabled: bool


def record_logging_out(organization) -> dict:
    return {"enabled": organization.record_logging}


@router.get("/organization/record-logging", response={200: Envelope(RecordLoggingOut), **ERRORS},
            summary="Record logging settings")
def get_record_logging(request):
    return {"data": record_logging_out(request.auth.organization)}


@router.put("/organization/record-logging", response={200: Envelope(RecordLoggingOut), **ERRORS},
            summary="Turn record logging on or off")
def update_record_logging(request, payload: RecordLoggingIn):
    # Logs stay in the console; delivering them to a blob-storage connection is not offered.
    if payload.delivery_connection_id:
        raise field_error("deliveryConnectionId", "delivering record logs to a connection is not supported", status=422)
    if payload.delivery_prefix:
        raise field_error("deliveryPrefix", "delivering record logs to a connection is not supported", status=422)
    organization = request.auth.organization
    set_record_logging(organization, payload.enabled)
    return {"data": record_logging_out(organization)}
