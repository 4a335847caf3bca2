import uuid

from django.conf import settings
from django.db import models


class QueryStatus(models.TextChoices):
    CREATED = "created", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown"


TERMINAL = (QueryStatus.DONE, QueryStatus.FAILED, QueryStatus.UNKNOWN)


class QueryRun(models.Model):
    """One ad-hoc query on a warehouse connection, run by a worker; its rows are kept until `expires_at`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="query_runs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    query = models.TextField()
    status = models.CharField(max_length=20, choices=QueryStatus.choices, default=QueryStatus.CREATED)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True, default="")
    fields = models.JSONField(default=list)
    rows = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"])]

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL
