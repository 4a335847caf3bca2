import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


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


class ExecutionStatus(models.TextChoices):
    CREATED = "created"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    WAITING = "waiting"
    RUNNING = "running"
    PROCESSING = "processing"
    CANCELING = "canceling"
    CANCELED = "canceled"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


ACTIVE_STATUSES = (
    ExecutionStatus.CREATED,
    ExecutionStatus.SCHEDULED,
    ExecutionStatus.QUEUED,
    ExecutionStatus.WAITING,
    ExecutionStatus.RUNNING,
    ExecutionStatus.PROCESSING,
    ExecutionStatus.CANCELING,
)


class Execution(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sync = models.ForeignKey(Sync, on_delete=models.CASCADE, related_name="executions")
    status = models.CharField(
        max_length=20, choices=ExecutionStatus.choices, default=ExecutionStatus.CREATED
    )
    trigger = models.CharField(max_length=20, default="manual")  # manual, api, schedule, runafter, retry
    resync = models.BooleanField(default=False)
    dry_run = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    queried = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    inserted = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    errored = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    vanished = models.PositiveIntegerField(default=0)  # written before, gone from the source now
    plan = models.JSONField(null=True, blank=True)  # dry runs: what would happen, with samples
    identities = models.JSONField(null=True, blank=True)  # only these identities (API `identities`)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    allow_mass_removal = models.BooleanField(default=False)  # skips the wipe guard once
    attempt = models.PositiveSmallIntegerField(default=0)
    claim = models.CharField(max_length=32, blank=True, default="")  # the worker that holds it
    worker = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["sync", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["sync"],
                condition=Q(status__in=ACTIVE_STATUSES, dry_run=False),
                name="one_active_execution_per_sync",
            )
        ]


class RecordError(models.Model):
    """A record the target or the validator rejected, with the reason and what was sent."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="record_errors")
    identity = models.CharField(max_length=500, blank=True, default="")
    kind = models.CharField(max_length=10, default="rejected")  # invalid (never sent) or rejected
    action = models.CharField(max_length=10, blank=True, default="")  # insert, update, remove
    message = models.TextField()
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["execution", "identity"]),
            # The API lists a run's errors by (created_at, id): no sort of a large run's errors.
            models.Index(fields=["execution", "created_at", "id"], name="record_error_listing"),
        ]


class RecordState(models.Model):
    """What the target last accepted for one identity of one sync."""

    # No index of its own: the (sync, identity) constraint leads with sync.
    sync = models.ForeignKey(Sync, on_delete=models.CASCADE, related_name="record_states", db_index=False)
    identity = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=32)
    target_id = models.CharField(max_length=200, blank=True, default="")
    # The execution that last wrote this identity and what it did ("removed" leaves an
    # empty fingerprint): a resumed run counts what its earlier attempt already wrote.
    last_execution_id = models.UUIDField(null=True, blank=True)
    last_action = models.CharField(max_length=10, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sync", "identity"], name="one_state_per_identity")
        ]


class ExecutionLog(models.Model):
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="logs")
    level = models.CharField(max_length=10, default="info")
    message = models.TextField()
    payload = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
