from django.db import models


class RefreshStatus(models.TextChoices):
    NEVER = "never", "Never refreshed"
    REFRESHING = "refreshing", "Refreshing"
    FRESH = "fresh", "Fresh"
    FAILED = "failed", "Failed"


class SchemaCatalog(models.Model):
    """Where a connection's schema refresh stands."""

    connection = models.OneToOneField("connections.Connection", on_delete=models.CASCADE, primary_key=True,
                                      related_name="schema_catalog")
    status = models.CharField(max_length=20, choices=RefreshStatus.choices, default=RefreshStatus.NEVER)
    error = models.TextField(blank=True, default="")
    refresh_started = models.DateTimeField(null=True, blank=True)
    refresh_finished = models.DateTimeField(null=True, blank=True)


class ConnectionSchema(models.Model):
    """One table (warehouse) or object (SaaS) of a connection, as the last refresh found it,
    with what users added on top: fields of their own or overrides (`user_fields`, by field
    id) and primary-key overrides (`primary_keys`, field id -> bool)."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE,
                                   related_name="source_schemas")
    schema_id = models.CharField(max_length=500)
    name = models.CharField(max_length=500)
    table = models.JSONField(default=dict)  # a warehouse table's {"schema", "name"}; {} for a SaaS object
    detected = models.JSONField(default=list)  # [{"id", "name", "type", "remote_type", "is_primary_key"}]
    user_fields = models.JSONField(default=dict)
    primary_keys = models.JSONField(default=dict)

    class Meta:
        ordering = ["schema_id"]
        constraints = [models.UniqueConstraint(fields=["connection", "schema_id"], name="one_schema_per_id")]
