"""Opaque keyset cursors: page_token + limit in, pagination.next_page_token out."""

import base64
import json

from django.core.exceptions import ValidationError
from django.db.models import Q

from .errors import field_error
from .inputs import text_problem


def paginate(queryset, page_token=None, limit=None, *, order_by="created_at", descending=True,
             default_limit=50, max_limit=50):
    """One page of `queryset` ordered by (order_by, pk); returns (items, next_page_token)."""
    if limit is None:
        limit = default_limit
    if not 1 <= limit <= max_limit:
        raise field_error("limit", f"must be between 1 and {max_limit}")
    sign = "-" if descending else ""
    queryset = queryset.order_by(f"{sign}{order_by}", f"{sign}pk")
    if page_token:
        value, pk = decode_token(page_token, queryset.model, order_by)
        op = "lt" if descending else "gt"
        queryset = queryset.filter(
            Q(**{f"{order_by}__{op}": value}) | Q(**{order_by: value, f"pk__{op}": pk})
        )
    items = list(queryset[: limit + 1])
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    last = items[-1]
    return items, encode_token(getattr(last, order_by), last.pk)


def encode_token(value, pk) -> str:
    raw = json.dumps([value.isoformat() if hasattr(value, "isoformat") else value, str(pk)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, model, order_by: str):
    """(value of order_by, pk) as the model's fields take them; a forged or garbled token is a 400."""
    try:
        padded = token + "=" * (-len(token) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if value is None or pk is None or any(isinstance(v, str) and text_problem(v) for v in (value, pk)):
            raise ValueError("a page token holds no nulls, NUL characters or lone surrogates")
        return model._meta.get_field(order_by).clean(value, None), model._meta.pk.clean(pk, None)
    except (ValueError, TypeError, ValidationError):
        raise field_error("page_token", "is not a page token this API issued") from None
