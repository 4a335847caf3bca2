import uuid

from django.db import models
from django.db.models import Q

from console.crypto import decrypt_json, encrypt_json


class Webhook(models.Model):
    """Where an organization's run events are POSTed, signed with its secret (one per org)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="webhook"
    )
    endpoint = models.URLField(max_length=1000)
    encrypted_secret = models.TextField(blank=True, default="")
    disabled = models.BooleanField(default=False)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def secret(self) -> str:
        return decrypt_json(self.encrypted_secret).get("secret", "")

    @secret.setter
    def secret(self, value: str):
        self.encrypted_secret = encrypt_json({"secret": value})


class Event(models.Model):
    """A run event (sync.running, sync.completed, ...), kept for the API and for delivery."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="events"
    )
    type = models.CharField(max_length=50)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class WebhookDelivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    attempted_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    success = models.BooleanField(default=False)
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    @property
    def error_kind(self) -> str | None:
        """Why an attempt failed: the endpoint's answer, a refused address, or no answer at all."""
        if self.success:
            return None
        if self.status_code:
            return "http_status"
        return "refused" if self.error.startswith("Not sent") else "unreachable"


class NotificationSettings(models.Model):
    """Who gets an email when a run fails. Empty means the organization's admins."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="notification_settings"
    )
    emails = models.JSONField(default=list, blank=True)


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
WAITING_STATUSES = (ExecutionStatus.CREATED, ExecutionStatus.SCHEDULED, ExecutionStatus.QUEUED)
RUNNING_STATUSES = (ExecutionStatus.RUNNING, ExecutionStatus.PROCESSING, ExecutionStatus.CANCELING)
TERMINAL_STATUSES = (
    ExecutionStatus.COMPLETED,
    ExecutionStatus.FAILED,
    ExecutionStatus.CANCELED,
    ExecutionStatus.INTERRUPTED,
)


class AbstractExecution(models.Model):
    """A run of a sync as the run lifecycle (lifecycle.py) handles it: its status, and the
    claim of the worker running it, kept alive by its heartbeat."""

    TRIAL_FLAG = ""  # the flag of runs that only try the sync out: they never hold it
    MESSAGE_FIELD = ""  # where a failed run says why

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=20, choices=ExecutionStatus.choices, default=ExecutionStatus.CREATED)
    trigger = models.CharField(max_length=20, default="manual")  # manual, api, schedule, runafter, retry
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveSmallIntegerField(default=0)
    claim = models.CharField(max_length=32, blank=True, default="")  # the worker that holds it
    worker = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        abstract = True


class Execution(AbstractExecution):
    """A run of a model sync."""

    TRIAL_FLAG = "dry_run"
    MESSAGE_FIELD = "error"

    sync = models.ForeignKey("syncs.Sync", on_delete=models.CASCADE, related_name="executions")
    resync = models.BooleanField(default=False)
    dry_run = models.BooleanField(default=False)
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

    class Meta:
        db_table = "syncs_execution"  # the syncs app's table: these models were the syncs app's first
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["sync", "-created_at"], name="syncs_execu_sync_id_02e6b1_idx")]
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
        db_table = "syncs_recorderror"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["execution", "identity"], name="syncs_recor_executi_cf9c64_idx"),
            # The API lists a run's errors by (created_at, id): no sort of a large run's errors.
            models.Index(fields=["execution", "created_at", "id"], name="record_error_listing"),
        ]


class RecordState(models.Model):
    """What the target last accepted for one identity of one sync."""

    # No index of its own: the (sync, identity) constraint leads with sync.
    sync = models.ForeignKey("syncs.Sync", on_delete=models.CASCADE, related_name="record_states",
                             db_index=False)
    identity = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=32)
    target_id = models.CharField(max_length=200, blank=True, default="")
    # The execution that last wrote this identity and what it did ("removed" leaves an
    # empty fingerprint): a resumed run counts what its earlier attempt already wrote.
    last_execution_id = models.UUIDField(null=True, blank=True)
    last_action = models.CharField(max_length=10, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "syncs_recordstate"
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
        db_table = "syncs_executionlog"
