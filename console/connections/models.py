import uuid

from django.conf import settings
from django.db import models

from console.crypto import decrypt_json, encrypt_json


class ConnectionStatus(models.TextChoices):
    PENDING_AUTH = "pending_auth", "Waiting for authorization"
    HEALTHY = "healthy", "Healthy"
    UNHEALTHY = "unhealthy", "Unhealthy"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"


class Connection(models.Model):
    """A configured connection to a warehouse or a SaaS tool.

    `configuration` holds the non-secret fields of the type's schema; secret
    fields and OAuth tokens live encrypted in `encrypted_secrets`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="connections"
    )
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=50)
    configuration = models.JSONField(default=dict, blank=True)
    encrypted_secrets = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.HEALTHY
    )
    status_message = models.TextField(blank=True, default="")
    checked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "name"])]

    def __str__(self):
        return self.name

    @property
    def secrets(self) -> dict:
        return decrypt_json(self.encrypted_secrets)

    @secrets.setter
    def secrets(self, value: dict):
        self.encrypted_secrets = encrypt_json(value)
