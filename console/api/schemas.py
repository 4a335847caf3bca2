"""Envelope helpers so each endpoint declares {"data": ...} once."""

from functools import cache

from ninja import Schema
from pydantic import create_model


class Pagination(Schema):
    next_page_token: str | None = None


class ErrorBody(Schema):
    status: int
    message: str
    key: str | None = None
    metadata: dict | None = None


@cache
def Envelope(schema):
    return create_model(f"{schema.__name__}Envelope", __base__=Schema, data=(schema, ...))


@cache
def ListEnvelope(schema):
    return create_model(
        f"{schema.__name__}ListEnvelope", __base__=Schema, data=(list[schema], ...)
    )


@cache
def PagedEnvelope(schema):
    return create_model(
        f"{schema.__name__}PagedEnvelope",
        __base__=Schema,
        data=(list[schema], ...),
        pagination=(Pagination, Pagination()),
    )


# Any operation may also answer 409 (a busy database), 413, 414 (too large a body or URL) and 429.
ERRORS = {400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody,
          414: ErrorBody, 422: ErrorBody, 429: ErrorBody}
