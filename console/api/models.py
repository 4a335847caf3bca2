from django.db import models


class IdempotencyRecord(models.Model):
    """The first outcome of a mutating request sent with an Idempotency-Key."""

    scope = models.CharField(max_length=64)  # hash of the caller's credentials
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # hash of method, path and body
    status_code = models.PositiveSmallIntegerField(null=True)  # null while in flight
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="one_outcome_per_idempotency_key")
        ]
