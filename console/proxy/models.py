import uuid

from django.db import models

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def all_methods() -> list[str]:
    return list(METHODS)


class ProxySettings(models.Model):
    """Whether a connection may be used through the connection proxy (off until an admin turns it on)."""

    connection = models.OneToOneField("connections.Connection", on_delete=models.CASCADE, primary_key=True,
                                      related_name="proxy_settings")
    enabled = models.BooleanField(default=False)
    allowed_methods = models.JSONField(default=all_methods)


class ProxyCall(models.Model):
    """One proxied request, for the stats and to correlate with logs (no body, no query, no headers)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="proxy_calls")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    status = models.IntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
