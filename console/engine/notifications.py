"""Run events: kept as Event rows, POSTed to the organization's webhook (HMAC-SHA256
signed, retried with backoff), and an email to the error subscribers when a run fails."""

import hashlib
import hmac
import json
import logging
import time

import httpx
from django.conf import settings
from django.core.mail import send_mail

from console.accounts.models import Role
from integrations.egress import EgressRefused, EgressTransport

from . import error_handling
from .models import ACTIVE_STATUSES, Event, Execution, ExecutionStatus, NotificationSettings, Webhook, WebhookDelivery
from .queue import send_on_commit

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Polytomic-Signature"
MODEL_SYNC_EVENTS = ("sync.running", "sync.completed", "sync.completed_with_errors", "sync.failed", "sync.canceled")
BULK_SYNC_EVENTS = ("bulk_sync.running", "bulk_sync.completed", "bulk_sync.completed_with_error", "bulk_sync.failed",
                    "bulk_sync.canceled")
EVENT_TYPES = MODEL_SYNC_EVENTS + BULK_SYNC_EVENTS
DELIVERY_ATTEMPTS = 5
DELIVERY_TIMEOUT = 10.0


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the exact request body under the webhook's secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def run_url(execution: Execution) -> str:
    return f"{settings.PUBLIC_URL}/syncs/{execution.sync_id}/runs/{execution.pk}"


def event_payload(execution: Execution, event_type: str) -> dict:
    """The event's payload as the SDK declares it for this type (EventingSync*Event)."""
    sync = execution.sync
    payload = {
        "sync_id": str(sync.pk),
        "sync_name": sync.name,
        "execution_id": str(execution.pk),
        "organization_id": str(sync.organization_id),
        "target_connection_id": str(sync.target_connection_id),
    }
    errors = execution.errored + execution.invalid
    if event_type == "sync.failed":
        payload["error"] = execution.error
    elif event_type == "sync.canceled":
        payload["status"] = execution.status
    elif event_type == "sync.completed_with_errors":
        payload.update(error=f"{errors} records could not be written.", number_of_errors=errors,
                       number_of_warnings=0)
    elif event_type == "sync.completed":
        payload.update(
            status=execution.status,
            trigger=execution.trigger,
            schedule={"frequency": (sync.schedule or {}).get("frequency", "manual")},
            total_records=execution.queried + execution.vanished,
            inserted_records=execution.inserted,
            updated_records=execution.updated,
            deleted_records=execution.removed,
            errored_records=errors,
            record_count=execution.queried + execution.vanished,
            inserted_count=execution.inserted,
            updated_count=execution.updated,
            upserted_count=execution.inserted + execution.updated,
            error_count=errors,
            warning_count=0,
            warnings=[],
            logs_url=f"{settings.PUBLIC_URL}/api/syncs/{sync.pk}/executions/{execution.pk}/logs",
        )
    return payload


def emit(organization_id, event_type: str, payload: dict) -> Event:
    event = Event.objects.create(organization_id=organization_id, type=event_type, payload=payload)
    webhook = Webhook.objects.filter(organization_id=organization_id, disabled=False).first()
    if webhook:
        send_on_commit("engine.deliver_event", str(event.pk))
    return event


def emit_run_event(execution: Execution, event_type: str) -> Event:
    return emit(execution.sync.organization_id, event_type, event_payload(execution, event_type))


def run_ended(execution: Execution):
    if execution.status == ExecutionStatus.FAILED:
        emit_run_event(execution, "sync.failed")
    elif execution.status == ExecutionStatus.CANCELED:
        emit_run_event(execution, "sync.canceled")
    elif execution.status == ExecutionStatus.COMPLETED:
        with_errors = execution.errored + execution.invalid > 0
        emit_run_event(execution, "sync.completed_with_errors" if with_errors else "sync.completed")
    if run_failed(execution):
        send_on_commit("engine.send_failure_email", str(execution.pk))


def run_failed(execution: Execution) -> bool:
    """Whether the run counts as failed under its sync's error handling."""
    return error_handling.counts_as_failure(
        execution, error_handling.model_settings(execution.sync), problems=execution.errored + execution.invalid)


def event_body(event: Event) -> bytes:
    return json.dumps(
        {
            "id": str(event.pk),
            "type": event.type,
            "created_at": event.created_at.isoformat(),
            "organization_id": str(event.organization_id),
            "event": event.payload,
        },
        separators=(",", ":"),
    ).encode()


def deliver(event: Event) -> WebhookDelivery | None:
    """One delivery attempt to the organization's webhook, recorded either way."""
    webhook = Webhook.objects.filter(organization_id=event.organization_id, disabled=False).first()
    if webhook is None:
        return None
    body = event_body(event)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(webhook.secret, body),
        "User-Agent": "sync-console-webhooks",
    }
    delivery = WebhookDelivery(webhook=webhook, event=event)
    started = time.monotonic()
    try:
        with httpx.Client(transport=EgressTransport(), timeout=DELIVERY_TIMEOUT) as client:
            response = client.post(webhook.endpoint, content=body, headers=headers)
        delivery.status_code = response.status_code
        delivery.success = response.is_success
        if not response.is_success:
            delivery.error = f"The endpoint answered HTTP {response.status_code}."
    except EgressRefused as refusal:
        delivery.error = f"Not sent: {refusal}"
    except httpx.HTTPError as error:
        delivery.error = f"{type(error).__name__}: the endpoint could not be reached."
    delivery.duration_ms = int((time.monotonic() - started) * 1000)
    delivery.save()
    return delivery


def failure_recipients(organization, subscribers=()) -> list[str]:
    """The sync's own subscribers, else the organization's error subscribers, else its admins."""
    if subscribers:
        return list(subscribers)
    chosen = NotificationSettings.objects.filter(organization=organization).first()
    if chosen and chosen.emails:
        return list(chosen.emails)
    return sorted(
        organization.memberships.filter(role=Role.ADMIN).values_list("user__email", flat=True)
    )


def send_failure_email(execution: Execution) -> int:
    """Email the subscribers once the sync has failed as many runs in a row as its error handling says."""
    sync = execution.sync
    chosen = error_handling.model_settings(sync)
    ended = sync.executions.filter(dry_run=False, created_at__lte=execution.created_at).exclude(
        status__in=ACTIVE_STATUSES).order_by("-created_at")[:chosen["notify_after_failures"]]
    if error_handling.failed_in_a_row(ended, run_failed) < chosen["notify_after_failures"]:
        return 0
    recipients = failure_recipients(sync.organization, chosen["subscribers"])
    if not recipients:
        return 0
    what = "failed" if execution.status == ExecutionStatus.FAILED else "finished with record errors"
    body = (
        f"The sync \"{sync.name}\" {what}.\n\n"
        f"Error: {execution.error or 'no message'}\n"
        f"Rows read before it stopped: {execution.queried}; written: "
        f"{execution.inserted + execution.updated + execution.removed}; rejected: {execution.errored}.\n\n"
        f"Run details: {run_url(execution)}\n"
    )
    return send_mail(
        f"Sync {what}: {sync.name}",
        body,
        getattr(settings, "DEFAULT_FROM_EMAIL", "webmaster@localhost"),
        recipients,
    )


def save_settings(organization, webhook: Webhook | None, data: dict):
    """The settings page's form: the webhook (endpoint, secret, on/off) and failure emails."""
    if data["endpoint"]:
        webhook = webhook or Webhook(organization=organization)
        webhook.endpoint = data["endpoint"]
        if data.get("secret"):
            webhook.secret = data["secret"]
        webhook.disabled = not data["enabled"]
        webhook.save()
    elif webhook:
        webhook.delete()
    NotificationSettings.objects.update_or_create(
        organization=organization, defaults={"emails": data["emails"]}
    )
