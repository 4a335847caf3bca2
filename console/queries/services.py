"""Ad-hoc queries on a warehouse connection: checked while the request waits, run by a worker.

`start` refuses what the warehouse would refuse (QueryRefused: clean_query's rule, then the
warehouse's own words from describing the query inside a probe slot), then queues the run.
`run` streams the rows in a worker, stops between batches once canceled, and keeps at most
QUERY_MAX_ROWS of them until QUERY_RESULTS_HOURS have passed; `expire` deletes what is past.
"""

import json
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from console.connections import probes
from console.connections.models import Connection
from console.connections.services import connection_type, secrets_kept_out
from console.engine.queue import send_on_commit
from console.schemas.discovery import open_warehouse
from integrations.base import ConnectorError, QueryError
from integrations.warehouses.base import clean_query

from .models import TERMINAL, QueryRun, QueryStatus

CANCELED = "The query was canceled."
EXPIRED = "The query's results expired."
BATCH = 1000


class QueryRefused(Exception):
    """The query cannot run: `field` names what is wrong (query or connection_id)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def lifetime() -> timedelta:
    return timedelta(hours=settings.QUERY_RESULTS_HOURS)


@secrets_kept_out
def describe(connection: Connection, query: str) -> list[str]:
    with probes.slot() as deadline, open_warehouse(connection, deadline) as source:
        return [column.name for column in source.describe_query(query)]


def start(connection: Connection, query, user=None) -> QueryRun:
    if connection_type(connection.type).kind != "warehouse":
        raise QueryRefused("connection_id", f"{connection.type_name} connections do not run SQL queries.")
    if not isinstance(query, str) or not query.strip():
        raise QueryRefused("query", "is required")
    try:
        cleaned = clean_query(query, connection.type)
        fields = describe(connection, cleaned)
    except QueryError as error:
        raise QueryRefused("query", str(error)) from None
    except ConnectorError as error:
        raise QueryRefused("connection_id", str(error)) from None
    with transaction.atomic():
        run = QueryRun.objects.create(organization=connection.organization, connection=connection, user=user,
                                      query=cleaned, fields=fields, expires_at=timezone.now() + lifetime())
        send_on_commit("queries.run", str(run.pk))  # a short task (console/celery.py)
    return run


def claim(query_id) -> QueryRun | None:
    with transaction.atomic():
        run = QueryRun.objects.select_for_update().filter(pk=query_id, status=QueryStatus.CREATED).first()
        if run is not None:
            run.status = QueryStatus.RUNNING
            run.save(update_fields=["status"])
        return run


def canceled(run: QueryRun) -> bool:
    return QueryRun.objects.filter(pk=run.pk, cancel_requested=True).exists()


def run(query_id) -> None:
    """What the worker does with a queued query."""
    query_run = claim(query_id)
    if query_run is None:
        return  # canceled before it started, expired, or run already
    try:
        fields, rows = read(query_run)
    except ConnectorError as error:
        finish(query_run, QueryStatus.FAILED, error=str(error))
        return
    if rows is None:
        finish(query_run, QueryStatus.FAILED, error=CANCELED)
    else:
        finish(query_run, QueryStatus.DONE, fields=fields, rows=json.loads(json.dumps(rows, default=str)))


@secrets_kept_out
def read_rows(connection: Connection, query_run: QueryRun):
    rows: list[dict] = []
    with open_warehouse(connection, None) as source:
        batches = source.stream(query_run.query, batch_size=BATCH)
        try:
            for batch in batches:
                if canceled(query_run):
                    return None
                rows.extend(batch[:settings.QUERY_MAX_ROWS - len(rows)])
                if len(rows) >= settings.QUERY_MAX_ROWS:
                    break
        finally:
            batches.close()
    return rows


def read(query_run: QueryRun):
    """(fields, rows), or (fields, None) once canceled."""
    rows = read_rows(query_run.connection, query_run)
    fields = query_run.fields or (list(rows[0]) if rows else [])
    return fields, rows


def finish(query_run: QueryRun, status: str, *, error: str = "", fields=None, rows=None):
    now = timezone.now()
    QueryRun.objects.filter(pk=query_run.pk).update(
        status=status, error=error, fields=query_run.fields if fields is None else fields, rows=rows or [],
        finished_at=now, expires_at=now + lifetime())


def cancel(query_run: QueryRun) -> QueryRun:
    """Stop a query: at once when queued, at the worker's next batch when running."""
    with transaction.atomic():
        locked = QueryRun.objects.select_for_update().get(pk=query_run.pk)
        if locked.status in TERMINAL:
            return locked
        locked.cancel_requested = True
        if locked.status == QueryStatus.CREATED:
            locked.status, locked.error, locked.finished_at = QueryStatus.FAILED, CANCELED, timezone.now()
        locked.save(update_fields=["cancel_requested", "status", "error", "finished_at"])
        return locked


def visible(query_run: QueryRun) -> QueryRun:
    """The run as callers see it: past its expiry, its status is unknown and its rows are gone."""
    if query_run.expires_at <= timezone.now():
        query_run.status, query_run.error, query_run.rows = QueryStatus.UNKNOWN, EXPIRED, []
    return query_run


def expire(now=None) -> int:
    """Delete every query past its expiry (finished or not); how many were deleted."""
    deleted, _ = QueryRun.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def organization_runs(organization):
    return QueryRun.objects.filter(organization=organization).select_related("connection")
