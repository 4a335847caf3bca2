import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from console.engine.models import ACTIVE_STATUSES, AbstractExecution


class BulkSync(models.Model):
    """A bulk sync (ELT): source objects copied into destination tables on a schedule.

    `schemas` keeps the selected objects in the API's shape, each
    {"id", "enabled", "fields": [{"id", "enabled"}], "user_output_name"}; an empty
    field list means every field. `cursors` holds, per object, the newest
    last-modified value copied so far: the next run reads only what changed after it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="bulk_syncs")
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    mode = models.CharField(max_length=20, default="replicate")
    source_connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, related_name="bulk_source_syncs"
    )
    destination_connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, related_name="bulk_destination_syncs"
    )
    source_configuration = models.JSONField(default=dict, blank=True)
    destination_configuration = models.JSONField(default=dict, blank=True)
    schedule = models.JSONField(default=dict)
    schemas = models.JSONField(default=list, blank=True)
    automatically_add_new_fields = models.CharField(max_length=30, default="all")
    automatically_add_new_objects = models.CharField(max_length=30, default="none")
    normalize_names = models.CharField(max_length=20, default="enabled")
    disable_record_timestamps = models.BooleanField(default=False)
    policies = models.JSONField(default=list, blank=True)
    cursors = models.JSONField(default=dict, blank=True)
    error_handling = models.JSONField(default=dict, blank=True)  # engine/error_handling.py
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "name"])]

    def __str__(self):
        return self.name

    def enabled_schemas(self) -> list[dict]:
        return [s for s in self.schemas if s.get("enabled", True)]


class BulkExecution(AbstractExecution):
    """One run of a bulk sync, over each of its enabled objects (BulkSchemaExecution)."""

    TRIAL_FLAG = "is_test"
    MESSAGE_FIELD = "status_message"

    sync = models.ForeignKey(BulkSync, on_delete=models.CASCADE, related_name="executions")
    fetch_mode = models.CharField(max_length=20, default="incremental")  # incremental, full, none
    resync_mode = models.CharField(max_length=20, blank=True, default="")  # refetch, resync, rebuild
    is_test = models.BooleanField(default=False)
    only_schemas = models.JSONField(default=list, blank=True)  # empty: every enabled object
    canceled_schemas = models.JSONField(default=list, blank=True)  # objects whose copy was canceled
    record_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    status_message = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["sync", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["sync"],
                condition=Q(status__in=ACTIVE_STATUSES, is_test=False),
                name="one_active_bulk_execution_per_sync",
            )
        ]

    @property
    def is_resync(self) -> bool:
        return bool(self.resync_mode)


class BulkSchemaExecution(models.Model):
    """What one run did with one source object."""

    execution = models.ForeignKey(BulkExecution, on_delete=models.CASCADE, related_name="schemas")
    schema = models.CharField(max_length=300)  # the source object's id
    output_name = models.CharField(max_length=300, blank=True, default="")  # the destination table
    status = models.CharField(max_length=20, default="created")
    record_count = models.PositiveIntegerField(default=0)  # written, deletions included
    deleted_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    status_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]


class BulkSchedule(models.Model):
    """A schedule of a bulk sync besides its default one (BulkSync.schedule), e.g. a weekly
    full resync beside an hourly incremental run. `schedule` holds the cron parts as the
    default schedule does; `sync_mode` (normal, refetch, resync, rebuild) says how its runs
    read, and `schemas` which objects they copy (empty: every enabled one)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sync = models.ForeignKey(BulkSync, on_delete=models.CASCADE, related_name="additional_schedules")
    schedule = models.JSONField(default=dict)
    sync_mode = models.CharField(max_length=20, default="normal")
    selective_mode = models.CharField(max_length=30, default="none")
    schemas = models.JSONField(default=list, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]


class BulkExecutionLog(models.Model):
    """A line of a bulk run's console log; `schema` names the object it is about (blank: the run)."""

    execution = models.ForeignKey(BulkExecution, on_delete=models.CASCADE, related_name="logs")
    schema = models.CharField(max_length=300, blank=True, default="")
    level = models.CharField(max_length=10, default="info")
    message = models.TextField()
    payload = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["execution", "schema"])]
