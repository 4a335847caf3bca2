"""Run events, the organization's webhook and the failure-email subscribers (§2.9)."""

from datetime import datetime
from datetime import timezone as dt_timezone
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.http import HttpResponse
from django.utils import timezone
from ninja import Router, Schema

from console import egress
from console.api.errors import ApiError, field_error
from console.api.pagination import paginate
from console.api.schemas import ERRORS, Envelope, ListEnvelope, PagedEnvelope

from .models import Event, NotificationSettings, Webhook, WebhookDelivery
from .notifications import EVENT_TYPES

router = Router(tags=["Events and webhooks"])


class EventOut(Schema):
    id: str
    type: str
    organization_id: str
    created_at: datetime
    event: dict


class WebhookIn(Schema):
    endpoint: str
    secret: str
    organization_id: str | None = None


class WebhookOut(Schema):
    id: str
    organization_id: str
    endpoint: str
    secret: str | None = None  # write-only: never sent back
    disabled: bool
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    created_at: datetime


class DeliveryOut(Schema):
    id: str
    event_id: str
    event_type: str
    attempted_at: datetime
    status_code: int | None = None
    success: bool
    error: str | None = None
    error_kind: str | None = None
    duration_ms: int


class Subscribers(Schema):
    emails: list[str]


def webhook_out(w: Webhook) -> dict:
    return {
        "id": str(w.pk), "organization_id": str(w.organization_id), "endpoint": w.endpoint,
        "secret": None, "disabled": w.disabled, "disabled_at": w.disabled_at,
        "disabled_reason": w.disabled_reason or None, "created_at": w.created_at,
    }


def checked(payload: WebhookIn) -> WebhookIn:
    refused = egress.url_problem(payload.endpoint)  # first: an address the console refuses is a 400 naming the rule
    if refused:
        raise field_error("endpoint", refused)
    try:
        URLValidator(schemes=["http", "https"])(payload.endpoint)
    except DjangoValidationError:
        raise field_error("endpoint", "must be an http(s) URL", status=422) from None
    if not payload.secret:
        raise field_error("secret", "is required", status=422)
    return payload


def org_webhook(request, id) -> Webhook:
    webhook = Webhook.objects.filter(pk=id, organization=request.auth.organization).first()
    if webhook is None:
        raise ApiError(404, f"No webhook {id} in this organization.", key="not_found")
    return webhook


def in_utc(field: str, moment: datetime) -> datetime:
    """The moment in UTC; databases refuse offsets beyond ±15:59 that ISO 8601 parsers accept."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt_timezone.utc)
    try:
        return moment.astimezone(dt_timezone.utc)
    except OverflowError:
        raise field_error(field, "is out of range") from None


@router.get("/events", response={200: ListEnvelope(EventOut), **ERRORS}, summary="List events")
def list_events(request, type: str | None = None, starting_after: datetime | None = None,
                ending_before: datetime | None = None, limit: int = 10):
    if not 1 <= limit <= 100:
        raise field_error("limit", "must be between 1 and 100", status=422)
    events = Event.objects.filter(organization=request.auth.organization)
    if type:
        events = events.filter(type=type)
    if starting_after:
        events = events.filter(created_at__gt=in_utc("starting_after", starting_after))
    if ending_before:
        events = events.filter(created_at__lt=in_utc("ending_before", ending_before))
    return {
        "data": [
            {"id": str(e.pk), "type": e.type, "organization_id": str(e.organization_id),
             "created_at": e.created_at, "event": e.payload}
            for e in events.order_by("-created_at", "-id")[:limit]
        ]
    }


@router.get("/events_types", response={200: ListEnvelope(str), **ERRORS}, summary="Event types")
def event_types(request):
    return {"data": list(EVENT_TYPES)}


@router.get("/webhooks", response={200: ListEnvelope(WebhookOut), **ERRORS}, summary="List webhooks")
def list_webhooks(request):
    return {"data": [webhook_out(w) for w in Webhook.objects.filter(organization=request.auth.organization)]}


@router.post("/webhooks", response={200: Envelope(WebhookOut), **ERRORS}, summary="Create the webhook")
def create_webhook(request, payload: WebhookIn):
    checked(payload)
    organization = request.auth.organization
    if Webhook.objects.filter(organization=organization).exists():
        raise ApiError(409, "This organization already has a webhook; update it instead.", key="conflict")
    webhook = Webhook(organization=organization, endpoint=payload.endpoint)
    webhook.secret = payload.secret
    webhook.save()
    return {"data": webhook_out(webhook)}


@router.get("/webhooks/{id}", response={200: Envelope(WebhookOut), **ERRORS}, summary="Get the webhook")
def get_webhook(request, id: UUID):
    return {"data": webhook_out(org_webhook(request, id))}


@router.put("/webhooks/{id}", response={200: Envelope(WebhookOut), **ERRORS}, summary="Update the webhook")
def update_webhook(request, id: UUID, payload: WebhookIn):
    checked(payload)
    webhook = org_webhook(request, id)
    webhook.endpoint = payload.endpoint
    webhook.secret = payload.secret
    webhook.save()
    return {"data": webhook_out(webhook)}


@router.delete("/webhooks/{id}", response={200: None, **ERRORS}, summary="Delete the webhook")
def delete_webhook(request, id: UUID):
    org_webhook(request, id).delete()
    return HttpResponse(status=200)


def delivery_out(d: WebhookDelivery) -> dict:
    return {
        "id": str(d.pk), "event_id": str(d.event_id), "event_type": d.event.type,
        "attempted_at": d.attempted_at, "status_code": d.status_code, "success": d.success,
        "error": d.error or None, "error_kind": d.error_kind, "duration_ms": d.duration_ms,
    }


@router.get("/webhooks/{id}/deliveries", response={200: PagedEnvelope(DeliveryOut), **ERRORS},
            summary="List a webhook's delivery attempts")
def list_deliveries(request, id: UUID, success: bool | None = None, event_id: UUID | None = None,
                    start: datetime | None = None, end: datetime | None = None, page_token: str | None = None):
    deliveries = org_webhook(request, id).deliveries.select_related("event")
    if success is not None:
        deliveries = deliveries.filter(success=success)
    if event_id:
        deliveries = deliveries.filter(event_id=event_id)
    if start:
        deliveries = deliveries.filter(attempted_at__gte=in_utc("start", start))
    if end:
        deliveries = deliveries.filter(attempted_at__lt=in_utc("end", end))
    items, next_token = paginate(deliveries, page_token, order_by="attempted_at")
    return {"data": [delivery_out(d) for d in items], "pagination": {"next_page_token": next_token}}


@router.post("/webhooks/{id}/disable", response={200: Envelope(WebhookOut), **ERRORS}, summary="Disable the webhook")
def disable_webhook(request, id: UUID):
    webhook = org_webhook(request, id)
    webhook.disabled, webhook.disabled_at, webhook.disabled_reason = True, timezone.now(), "disabled by API"
    webhook.save()
    return {"data": webhook_out(webhook)}


@router.post("/webhooks/{id}/enable", response={200: Envelope(WebhookOut), **ERRORS}, summary="Enable the webhook")
def enable_webhook(request, id: UUID):
    webhook = org_webhook(request, id)
    webhook.disabled, webhook.disabled_at, webhook.disabled_reason = False, None, ""
    webhook.save()
    return {"data": webhook_out(webhook)}


@router.get("/notifications/global-error-subscribers", response={200: Subscribers, **ERRORS},
            summary="Who is emailed when a sync fails")
def get_subscribers(request):
    chosen = NotificationSettings.objects.filter(organization=request.auth.organization).first()
    return {"emails": list(chosen.emails) if chosen else []}


@router.put("/notifications/global-error-subscribers", response={200: Subscribers, **ERRORS},
            summary="Set who is emailed when a sync fails")
def set_subscribers(request, payload: Subscribers):
    for email in payload.emails:
        try:
            validate_email(email)
        except DjangoValidationError:
            raise field_error("emails", f"'{email}' is not an email address") from None
    NotificationSettings.objects.update_or_create(
        organization=request.auth.organization, defaults={"emails": payload.emails}
    )
    return {"emails": payload.emails}
