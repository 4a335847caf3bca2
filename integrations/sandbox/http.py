"""Small request/response helpers every provider module shares, and the handler context."""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from integrations.clock import SYSTEM_CLOCK, Clock

# The clock of the sandbox serving the current request (its state's), set as the request arrives.
CLOCK: ContextVar[Clock] = ContextVar("sandbox_clock", default=SYSTEM_CLOCK)


@dataclass
class Context:
    """What a handler gets besides the request.

    state     the provider's own view of the store (collections are per provider)
    settings  effective settings: defaults, module SETTINGS, server kwargs, PUT /_sandbox/settings
    base_url  the sandbox's own URL as the client reached it, e.g. "http://127.0.0.1:8100"
    provider  the provider NAME
    prefix    the provider PREFIX, e.g. "/salesloft"
    """

    state: Any
    settings: dict
    base_url: str
    provider: str
    prefix: str = ""
    module: Any = field(default=None, repr=False)

    @property
    def provider_url(self) -> str:
        """Where this provider is mounted, e.g. "http://127.0.0.1:8100/salesloft"."""
        return self.base_url + self.prefix


class BadBody(ValueError):
    pass


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(dumps(body), status=status, headers=headers or {}, content_type="application/json")


def dumps(body: Any) -> bytes | str:
    """JSON text, by orjson (a page of 2,000 records several times faster), else the json module."""
    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # what orjson refuses (an int beyond 64 bits, say)
        return json.dumps(body)


def empty_response(status: int = 204, headers: dict | None = None) -> Response:
    return Response(b"", status=status, headers=headers or {})


def html_response(html: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(html, status=status, headers=headers or {}, content_type="text/html; charset=utf-8")


def abort_with(response: Response):
    """Stop the handler here and answer with `response` (used for 401s, 429s, validation)."""
    raise HTTPException(response=response)


def read_json(request: Request) -> Any:
    """The JSON body, or None when there is none. Raises BadBody on malformed JSON."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise BadBody(f"malformed JSON: {exc}") from None


def read_params(request: Request, query: bool = False) -> dict:
    """A flat dict from a JSON object body or a form body (and the query string if asked).

    Body values win over query values. Form fields appearing several times, or
    Rails-style `name[]`, become lists.
    """
    params: dict = {}
    if query:
        params.update(multi_to_dict(request.args))
    content_type = request.mimetype or ""
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        params.update(multi_to_dict(request.form))
    else:
        body = read_json(request)
        if body is None:
            return params
        if not isinstance(body, dict):
            raise BadBody("the body must be a JSON object")
        params.update(body)
    return params


def multi_to_dict(multi) -> dict:
    out: dict = {}
    for key in multi.keys():
        values = multi.getlist(key)
        if key.endswith("[]"):
            out[key[:-2]] = values
        else:
            out[key] = values[0] if len(values) == 1 else values
    return out


def now() -> float:
    return CLOCK.get().time()


def iso(ts: float | None = None, micro: bool = True) -> str:
    """UTC ISO 8601 with a Z, e.g. 2026-01-02T03:04:05.123456Z."""
    moment = datetime.fromtimestamp(now() if ts is None else ts, tz=timezone.utc)
    text = moment.isoformat(timespec="microseconds" if micro else "seconds")
    return text.replace("+00:00", "Z")
