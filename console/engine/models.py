import uuid

from django.db import models

from console.crypto import decrypt_json, encrypt_json


class Webhook(models.Model):
    """Where an organization's run events are POSTed, signed with its secret (one per org)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="webhook"
    )
    endpoint = models.URLField(max_length=1000)
    encrypted_secret = models.TextField(blank=True, default="")
    disabled = models.BooleanField(default=False)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def secret(self) -> str:
        return decrypt_json(self.encrypted_secret).get("secret", "")

    @secret.setter
    def secret(self, value: str):
        self.encrypted_secret = encrypt_json({"secret": value})


class Event(models.Model):
    """A run event (sync.running, sync.completed, ...), kept for the API and for delivery."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="events"
    )
    type = models.CharField(max_length=50)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class WebhookDelivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    attempted_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    success = models.BooleanField(default=False)
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at", "-id"]


class NotificationSettings(models.Model):
    """Who gets an email when a run fails. Empty means the organization's admins."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="notification_settings"
    )
    emails = models.JSONField(default=list, blank=True)
