import uuid

from django.conf import settings
from django.db import models


class Sync(models.Model):
    """A model sync: rows of a model written to a target object on a schedule.

    The JSON fields keep the API's own shapes (identity, fields, schedule, ...)
    so a GET returns what a PUT stored.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="syncs"
    )
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    mode = models.CharField(max_length=20)
    model = models.ForeignKey(
        "datamodels.DataModel", on_delete=models.PROTECT, related_name="syncs"
    )
    target_connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, related_name="target_syncs"
    )
    target_object = models.CharField(max_length=300, blank=True, default="")
    target_create = models.JSONField(null=True, blank=True)  # creation properties, write-only
    target_configuration = models.JSONField(default=dict, blank=True)
    identity = models.JSONField(null=True, blank=True)  # the first of identities, for the engine
    identities = models.JSONField(default=list, blank=True)  # every identity mapping, in priority order
    identity_strategy = models.CharField(max_length=20, blank=True, default="")  # priority, and
    fields = models.JSONField(default=list, blank=True)
    override_fields = models.JSONField(default=list, blank=True)
    overrides = models.JSONField(default=list, blank=True)  # conditional value replacements
    model_filters = models.JSONField(null=True, blank=True)  # {conditions, logic}
    target_filters = models.JSONField(null=True, blank=True)  # {conditions, logic}
    # The deprecated single list: model and target filters interleaved, told apart by field_type.
    filters = models.JSONField(default=list, blank=True)
    filter_logic = models.CharField(max_length=500, blank=True, default="")
    schedule = models.JSONField(default=dict)
    sync_all_records = models.BooleanField(default=False)
    skip_initial_backfill = models.BooleanField(default=False)
    only_enrich_updates = models.BooleanField(default=False)
    target_new_name = models.CharField(max_length=300, blank=True, default="")
    target_search_values = models.JSONField(null=True, blank=True)
    policies = models.JSONField(default=list, blank=True)
    error_handling = models.JSONField(default=dict, blank=True)  # engine/error_handling.py
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["organization", "-updated_at"])]

    def __str__(self):
        return self.name
