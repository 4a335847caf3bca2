from django.db import models


class AuditEvent(models.Model):
    """Who did what to which object, from the console or the API."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="audit_events")
    user = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    api_key = models.ForeignKey("accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    actor = models.CharField(max_length=300)  # kept when the user or key is gone
    via = models.CharField(max_length=10)  # console or api
    action = models.CharField(max_length=30)
    object_type = models.CharField(max_length=30, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    object_name = models.CharField(max_length=300, blank=True, default="")
    method = models.CharField(max_length=10, blank=True, default="")
    path = models.CharField(max_length=500, blank=True, default="")
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at", "-id"], name="audit_by_org_time")]

    def __str__(self):
        return f"{self.actor} {self.action} {self.object_type} {self.object_id}"
