"""Bulk runs' console logs: lines written as a run goes (the run's and each object's), read
page by page through the API, and as files behind signed, expiring URLs: `execution.jsonl`
(every line) or `logs.zip` (one file per object beside the run's)."""

import io
import json
import zipfile

from django.conf import settings
from django.core import signing
from django.urls import reverse

from console.api.errors import field_error

from .models import BulkExecutionLog

URL_MAX_AGE = 3600
SALT = "bulk.execution-log"
FILES = ("execution.jsonl", "logs.zip")
MAX_ENTRIES = 50


def log(execution, message: str, schema: str = "", level: str = "info", payload: dict | None = None):
    BulkExecutionLog.objects.create(execution=execution, schema=schema, level=level, message=message[:5000],
                                    payload=payload)


def console_page(lines, limit: int | None, after: str | None) -> dict:
    """ExecutionConsoleLogsResponse: the latest `limit` lines, or those after the cursor `after`."""
    limit = max(1, min(limit or MAX_ENTRIES, MAX_ENTRIES))
    if after:
        if not after.isdigit():
            raise field_error("after", "is not a cursor this API issued")
        entries = list(lines.filter(id__gt=int(after)).order_by("id")[:limit])
    else:
        entries = list(lines.order_by("-id")[:limit])[::-1]
    return {
        "entries": [{"id": str(e.pk), "timestamp": e.created_at, "level": e.level, "message": entry_text(e),
                     "payload": e.payload} for e in entries],
        "next_cursor": str(entries[-1].pk) if entries else after,
    }


def entry_text(entry) -> str:
    return f"{entry.schema}: {entry.message}" if entry.schema else entry.message


def sign(execution, filename: str) -> str:
    token = signing.dumps({"e": str(execution.pk)}, salt=SALT)
    return settings.PUBLIC_URL + reverse("bulk:log-file", args=[token, filename])


def read_token(token: str) -> str:
    """The execution id; raises signing.BadSignature (or SignatureExpired)."""
    return signing.loads(token, salt=SALT, max_age=URL_MAX_AGE)["e"]


def jsonl(lines) -> str:
    return "".join(json.dumps({"timestamp": e.created_at.isoformat(), "schema": e.schema, "level": e.level,
                               "message": e.message, "payload": e.payload}) + "\n" for e in lines)


def archive(execution) -> bytes:
    """logs.zip: run.jsonl (the run's own lines) and <object>.jsonl per object."""
    by_schema = {}
    for line in execution.logs.order_by("id"):
        by_schema.setdefault(line.schema, []).append(line)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for schema, lines in by_schema.items():
            zipped.writestr(f"{schema or 'run'}.jsonl", jsonl(lines))
    return buffer.getvalue()
