"""The audit log through the API: GET /api/audit_events (admin keys)."""

from datetime import datetime

from ninja import Router, Schema

from console.api.errors import field_error
from console.api.pagination import paginate
from console.api.schemas import ERRORS, PagedEnvelope

from .models import AuditEvent

router = Router(tags=["Audit"])


class AuditEventOut(Schema):
    id: str
    created_at: datetime
    actor: str
    actor_user_id: str | None = None
    actor_api_key_id: str | None = None
    via: str
    action: str
    object_type: str
    object_id: str
    object_name: str


def event_out(event: AuditEvent) -> dict:
    return {"id": str(event.pk), "created_at": event.created_at, "actor": event.actor,
            "actor_user_id": str(event.user_id) if event.user_id else None,
            "actor_api_key_id": str(event.api_key_id) if event.api_key_id else None,
            "via": event.via, "action": event.action, "object_type": event.object_type,
            "object_id": event.object_id, "object_name": event.object_name}


@router.get("/audit_events", response={200: PagedEnvelope(AuditEventOut), **ERRORS},
            summary="List the organization's audit events, newest first")
def list_audit_events(request, object_type: str | None = None, object_id: str | None = None,
                      action: str | None = None, page_token: str | None = None, limit: int | None = None):
    chosen = {"object_type": object_type, "object_id": object_id, "action": action}
    for name, value in chosen.items():
        if value and "\x00" in value:
            raise field_error(name, "must not contain NUL characters")
    events = filtered(AuditEvent.objects.filter(organization=request.auth.organization), **chosen)
    items, next_token = paginate(events, page_token, limit)
    return {"data": [event_out(e) for e in items], "pagination": {"next_page_token": next_token}}


def filtered(events, **filters):
    chosen = {name: value for name, value in filters.items() if value}
    return events.filter(**chosen)
