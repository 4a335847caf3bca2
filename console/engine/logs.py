"""Record logs of an execution as JSON-lines files behind signed, expiring URLs.

`errors` lists what was set aside or rejected in that run. `inserts`, `updates`
and `deletes` list the identities whose latest write was done by that run (a later
run that writes an identity again takes it over); `records` is all three.
"""

import json

from django.conf import settings
from django.core import signing
from django.urls import reverse

from console.engine.models import RecordError, RecordState

LOG_TYPES = ("records", "errors", "warnings", "inserts", "updates", "deletes")
ACTIONS = {"inserts": ("inserted",), "updates": ("updated",), "deletes": ("removed",),
           "records": ("inserted", "updated", "removed")}
URL_MAX_AGE = 3600
SALT = "engine.execution-log"


def log_count(execution, log_type: str) -> int:
    if log_type == "errors":
        return execution.errored + execution.invalid
    return {
        "inserts": execution.inserted,
        "updates": execution.updated,
        "deletes": execution.removed,
        "records": execution.inserted + execution.updated + execution.removed,
    }.get(log_type, 0)


def sign_log(execution, log_type: str) -> str:
    """The file's signed URL; it ends with the file's name, which the API's per-file route takes."""
    token = signing.dumps({"e": str(execution.pk), "t": log_type}, salt=SALT)
    return settings.PUBLIC_URL + reverse("engine:log-file", args=[token, file_name(log_type)])


def file_name(log_type: str) -> str:
    return f"{log_type}.jsonl"


def read_token(token: str) -> tuple[str, str]:
    """(execution id, log type); raises signing.BadSignature (or SignatureExpired)."""
    data = signing.loads(token, salt=SALT, max_age=URL_MAX_AGE)
    return data["e"], data["t"]


def log_lines(execution, log_type: str):
    """The file's lines, produced as they are read (a log can be large)."""
    if log_type == "errors":
        errors = RecordError.objects.filter(execution=execution).order_by("id")
        for e in errors.iterator(chunk_size=1000):
            yield json.dumps({
                "identity": e.identity, "kind": e.kind, "action": e.action, "message": e.message,
                "payload": e.payload, "created_at": e.created_at.isoformat(),
            }, default=str) + "\n"
        return
    actions = ACTIONS.get(log_type)
    if not actions:
        return
    states = RecordState.objects.filter(
        sync_id=execution.sync_id, last_execution_id=execution.pk, last_action__in=actions
    ).order_by("id")
    for state in states.iterator(chunk_size=1000):
        yield json.dumps({
            "identity": state.identity, "action": state.last_action, "target_id": state.target_id,
            "updated_at": state.updated_at.isoformat(),
        }) + "\n"
