"""Error handling of one sync (model or bulk): who is emailed when its runs fail, after
how many failed runs in a row, and which runs count as failed besides those that failed
(model syncs: runs with record errors, runs with warnings).

Kept on the sync as `error_handling`, a dict in the API's shape (SyncErrorHandling,
BulkSyncErrorHandling) plus `notify_after_failures`, ours.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from console.api.errors import field_error

from .models import ExecutionStatus

MODEL_FLAGS = ("auto_retry_record_errors", "notify_on_record_errors", "warning_notifications")
MAX_FAILURES_IN_A_ROW = 100
MAX_SUBSCRIBERS = 50


def model_settings(sync) -> dict:
    """SyncErrorHandling of a model sync."""
    stored = sync.error_handling or {}
    return {
        "subscribers": list(stored.get("subscribers") or []),
        "notify_after_failures": stored.get("notify_after_failures") or 1,
        **{flag: bool(stored.get(flag)) for flag in MODEL_FLAGS},
    }


def bulk_settings(sync) -> dict:
    """BulkSyncErrorHandling of a bulk sync."""
    stored = sync.error_handling or {}
    return {
        "subscribers": list(stored.get("subscribers") or []),
        "notify_after_failures": stored.get("notify_after_failures") or 1,
        "ingestion_failure_threshold": stored.get("ingestion_failure_threshold"),
    }


def clean_model_settings(data: dict) -> dict:
    """A PUT body as stored: a full replacement, what it leaves out is reset."""
    cleaned = {"subscribers": subscribers(data.get("subscribers")),
               "notify_after_failures": failures_in_a_row(data.get("notify_after_failures"))}
    for flag in MODEL_FLAGS:
        value = data.get(flag)
        if value is not None and not isinstance(value, bool):
            raise field_error(flag, "must be true or false")
        cleaned[flag] = bool(value)
    return cleaned


def clean_bulk_settings(data: dict) -> dict:
    threshold = data.get("ingestion_failure_threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0):
        raise field_error("ingestion_failure_threshold", "must be a whole number of 0 or more, or null")
    return {"subscribers": subscribers(data.get("subscribers")),
            "notify_after_failures": failures_in_a_row(data.get("notify_after_failures")),
            "ingestion_failure_threshold": threshold}


def subscribers(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_SUBSCRIBERS:
        raise field_error("subscribers", f"must be a list of at most {MAX_SUBSCRIBERS} email addresses")
    for i, email in enumerate(value):
        try:
            validate_email(email)
        except (ValidationError, TypeError):
            raise field_error(f"subscribers[{i}]", "is not an email address") from None
    return list(dict.fromkeys(value))


def failures_in_a_row(value) -> int:
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_FAILURES_IN_A_ROW:
        raise field_error("notify_after_failures", f"must be a whole number from 1 to {MAX_FAILURES_IN_A_ROW}")
    return value


def counts_as_failure(execution, settings: dict, problems: int = 0, warnings: int = 0) -> bool:
    """Whether this ended run counts toward the failures that notify the subscribers."""
    if execution.status == ExecutionStatus.FAILED:
        return True
    if execution.status != ExecutionStatus.COMPLETED:
        return False
    return bool(problems and settings.get("notify_on_record_errors")
                or warnings and settings.get("warning_notifications"))


def failed_in_a_row(executions, counts) -> int:
    """How many of `executions` (newest first, ended ones) count as failed before one that does not."""
    streak = 0
    for execution in executions:
        if not counts(execution):
            break
        streak += 1
    return streak
