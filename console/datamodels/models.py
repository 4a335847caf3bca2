import uuid

from django.db import models


class DataModel(models.Model):
    """A SQL query or a table over a warehouse connection ("model" in the API)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="data_models"
    )
    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, related_name="data_models"
    )
    name = models.CharField(max_length=200)
    configuration = models.JSONField(default=dict)  # {"query": ...} or {"table": ...}
    identifier = models.CharField(max_length=200, blank=True, default="")
    labels = models.JSONField(default=list, blank=True)
    tracking_fields = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class ModelField(models.Model):
    model = models.ForeignKey(DataModel, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=20)
    remote_type = models.CharField(max_length=100, blank=True, default="")
    label = models.CharField(max_length=200, blank=True, default="")
    unique = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    vanished = models.BooleanField(default=False)  # gone from the source on the last refresh

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["model", "name"], name="unique_field_name_per_model")
        ]


class ModelJob(models.Model):
    """The outcome of a model operation asked for with ?async=true (it runs at once)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=30)  # createmodel, updatemodel, previewmodel, samplemodel, ...
    status = models.CharField(max_length=20, default="done")  # created, running, done, failed
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
