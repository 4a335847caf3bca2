import uuid

from django.conf import settings
from django.db import models

from console.crypto import decrypt_json, encrypt_json
from integrations import catalogue


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
    # A shared copy: another organization's connection, used with its owner's settings and secrets.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="shared_copies")

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "name"])]

    def __str__(self):
        return self.name

    @property
    def type_name(self) -> str:
        kind = catalogue.get(self.type)
        return kind.name if kind else self.type

    @property
    def secrets(self) -> dict:
        return decrypt_json(self.encrypted_secrets)

    @secrets.setter
    def secrets(self, value: dict):
        self.encrypted_secrets = encrypt_json(value)


class OAuthState(models.Model):
    """One authorization attempt. Only the state's hash is kept; it is good for one
    callback within its expiry.

    `bind_session` attempts (started in the console) must come back to the browser
    session of the user who started them; attempts started through the API (an
    `auth_url` opened anywhere) are bound to the connection and organization only.
    """

    state_hash = models.CharField(max_length=64, unique=True)
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="oauth_states")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    bind_session = models.BooleanField(default=False)
    callback_url = models.URLField(max_length=500)
    redirect_url = models.URLField(max_length=2000, blank=True, default="")
    encrypted_verifier = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    @property
    def code_verifier(self) -> str:
        return decrypt_json(self.encrypted_verifier).get("verifier", "")

    @code_verifier.setter
    def code_verifier(self, value: str):
        self.encrypted_verifier = encrypt_json({"verifier": value} if value else {})


class ConnectSession(models.Model):
    """A Polytomic Connect session: a hosted page where someone outside the console makes (or
    reconnects) one connection. Only the token's hash is kept; the page opens until the session
    expires or its connection is made, then sends the browser to `redirect_url`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=100, blank=True, default="")  # fixed type, else any of `whitelist`
    whitelist = models.JSONField(default=list, blank=True)
    connection = models.ForeignKey(Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    redirect_url = models.URLField(max_length=2000)
    dark = models.BooleanField(default=False)
    use_organization_name = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
