"""The query runner in Polytomic's shapes: POST /api/connections/{id}/query, GET /api/queries/{id}
(status, fields and rows paged with links.next/previous), DELETE /api/queries/{id} cancels."""

import base64
import binascii
from typing import Any
from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from console.api.errors import field_error
from console.api.schemas import ERRORS
from console.connections.api import own_connection

from . import services
from .models import QueryRun, QueryStatus

router = Router(tags=["Query runner"])
PAGE_SIZE = 500


class QueryResult(Schema):
    id: str
    status: str
    error: str | None = None
    fields: list[str] | None = None
    results: list[dict[str, Any]] | None = None
    count: int | None = None
    expires: str | None = None


class QueryLinks(Schema):
    next: str | None = None
    previous: str | None = None


class RunQueryAnswer(Schema):
    data: QueryResult


class QueryResultsAnswer(Schema):
    data: QueryResult
    links: QueryLinks


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def page_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        name, _, number = text.partition(":")
        if name != "offset" or not number.isdigit():
            raise ValueError
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise field_error("page", "is not a page token this API issued") from None


def result(run: QueryRun, offset: int = 0) -> dict:
    data = {"id": str(run.pk), "status": run.status, "error": run.error or None}
    if run.status == QueryStatus.DONE:
        data.update(fields=run.fields, count=len(run.rows), results=run.rows[offset:offset + PAGE_SIZE],
                    expires=run.expires_at.isoformat())
    return data


def links(run: QueryRun, offset: int) -> dict:
    if run.status != QueryStatus.DONE:
        return {}
    path = f"/api/queries/{run.pk}?page="
    return {"next": path + page_token(offset + PAGE_SIZE) if offset + PAGE_SIZE < len(run.rows) else None,
            "previous": path + page_token(max(0, offset - PAGE_SIZE)) if offset > 0 else None}


def own_run(request, id) -> QueryRun:
    return get_object_or_404(QueryRun, pk=id, organization=request.auth.organization)


@router.post("/connections/{connection_id}/query", response={200: RunQueryAnswer, **ERRORS}, exclude_none=True,
             summary="Check a query, then run it in a worker; poll GET /api/queries/{id}")
def run_query(request, connection_id: UUID, query: str | None = None):
    connection = own_connection(request, connection_id)
    try:
        run = services.start(connection, query, user=request.auth.created_by)
    except services.QueryRefused as error:
        raise field_error(error.field, str(error)) from None
    return {"data": result(run)}


@router.get("/queries/{id}", response={200: QueryResultsAnswer, **ERRORS}, exclude_none=True)
def get_query(request, id: UUID, page: str | None = None):
    offset = page_offset(page)
    run = services.visible(own_run(request, id))
    return {"data": result(run, offset), "links": links(run, offset)}


@router.delete("/queries/{id}", response={200: RunQueryAnswer, **ERRORS}, exclude_none=True,
               summary="Cancel a query (an extension: the SDK has no call for it)")
def cancel_query(request, id: UUID):
    return {"data": result(services.cancel(own_run(request, id)))}
