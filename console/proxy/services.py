"""The connection proxy: one HTTP request sent to a connection's provider with the connection's
own auth, API budget and egress policy, answered with the provider's status, headers and body.

The caller names a path under the provider's API base, never a scheme, host or `..` out of it;
auth headers are the connection's and cannot be set or overridden; every credential that was
sent is masked in what comes back. Off until an admin turns it on (ProxySettings).
"""

import time
from datetime import timedelta
from urllib.parse import unquote

import httpx
from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

from console import throttle
from console.connections import probes
from console.connections.models import Connection
from console.connections.services import (
    connection_config,
    connection_type,
    without_secrets,
)
from console.connections.sessions import provider_session
from console.connections.stored import holder
from console.engine.ratelimit import limiter_for
from integrations.base import ConnectorError, RateLimited, redact

from .models import METHODS, ProxyCall, ProxySettings

BLOCKED_REQUEST_HEADERS = ["authorization", "proxy-authorization", "cookie", "host", "content-length",
                           "transfer-encoding", "connection", "x-api-key", "api-key", "forwarded", "x-forwarded-for"]
BLOCKED_RESPONSE_HEADERS = ["set-cookie", "authorization", "proxy-authenticate", "www-authenticate", "x-api-key",
                            "connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length"]
CREDENTIAL_WORDS = ("auth", "cookie", "key", "token", "secret", "password", "signature")
MAX_REQUEST_BODY_BYTES = 1_000_000
MAX_RESPONSE_BODY_BYTES = 1_000_000
RATE_LIMIT_PER_MINUTE = 60
STATS_WINDOW = timedelta(hours=24)  # calls older than this are forgotten (the newest is always kept)
PATH_RULE = ("A relative path starting with one '/', appended to the base URL; no scheme or host, no query "
             "string or fragment, no backslashes, no '.' or '..' segments (encoded or not).")
RAW_QUERY_RULE = "Appended as-is after '?'; the caller encodes it; no '#', spaces or control characters."


class ProxyRefused(Exception):
    def __init__(self, status: int, message: str, field: str = "", key: str = "", retry_after: int = 0):
        super().__init__(message)
        self.status, self.field, self.key, self.retry_after = status, field, key, retry_after


def refused(field: str, message: str) -> ProxyRefused:
    return ProxyRefused(400, f"{field}: {message}", field=field, key="validation_error")


# ---- settings and the contract ----------------------------------------------------


def supported(connection: Connection) -> bool:
    return connection_type(connection.type).kind == "api"


def settings_of(connection: Connection) -> ProxySettings:
    """The proxy settings, stored on the parent connection of a shared copy."""
    return ProxySettings.objects.get_or_create(connection=holder(connection))[0]


def update_settings(connection: Connection, enabled: bool, allowed_methods=None) -> ProxySettings:
    if connection.parent_id:
        raise ProxyRefused(403, "This connection is a shared copy: its proxy settings are its parent's, changed "
                                "only by the organization that owns it.", key="forbidden")
    if enabled and not supported(connection):
        raise refused("enabled", f"{connection.type_name} connections cannot be used through the proxy")
    current = settings_of(connection)
    if allowed_methods is not None:
        wrong = [m for m in allowed_methods if m not in METHODS]
        if wrong or not allowed_methods:
            raise refused("allowed_methods", f"must be some of {', '.join(METHODS)}")
        current.allowed_methods = [m for m in METHODS if m in allowed_methods]
    current.enabled = enabled
    current.save()
    return current


def credential_name(name: str) -> bool:
    return any(word in name.lower() for word in CREDENTIAL_WORDS)


def inherited_base(connection: Connection) -> dict:
    """The base URL and the headers every call carries, credentials redacted (nothing is sent)."""
    kind = connection_type(connection.type)
    config = connection_config(connection)
    base_url = kind.provider.api_url(config, settings.SANDBOX_URL)
    headers = [{"name": name, "value": value} for name, value in kind.provider.headers(config).items()]
    if kind.uses_oauth(config) or kind.provider.static_auth(config) is not None:
        headers.append({"name": "Authorization", "value": ""})
    locked = []
    for header in headers:
        hidden = credential_name(header["name"]) or without_secrets(header["value"], connection) != header["value"]
        locked.append({"name": header["name"], "value": "[REDACTED]" if hidden else header["value"],
                       "redacted": hidden})
    return {"baseUrl": base_url, "lockedHeaders": locked, "lockedQuery": {}}


def stats(connection: Connection) -> dict:
    since = timezone.now() - STATS_WINDOW
    recent = ProxyCall.objects.filter(connection=connection, created_at__gte=since)
    counts = recent.aggregate(total=Count("id"), ok=Count("id", filter=Q(status__gte=200, status__lt=300)),
                              client=Count("id", filter=Q(status__gte=400, status__lt=500)),
                              server=Count("id", filter=Q(status__gte=500)))
    last = ProxyCall.objects.filter(connection=connection).aggregate(last=Max("created_at"))["last"]
    return {"proxyCallsLast24h": counts["total"], "proxy2xxLast24h": counts["ok"],
            "proxy4xxLast24h": counts["client"], "proxy5xxLast24h": counts["server"], "lastProxyCallAt": last}


def info(connection: Connection) -> dict:
    if not supported(connection):
        raise refused("id", f"{connection.type_name} connections cannot be used through the proxy")
    return {
        "backendType": connection.type,
        "connectionId": str(connection.pk),
        "inheritedBase": inherited_base(connection),
        "mergeRules": {"headers": "Caller headers are added to the inherited ones; inherited and auth headers "
                                  "cannot be set or overridden.",
                       "query": "Caller query parameters (query or rawQuery) follow the inherited ones."},
        "requestContract": {
            "allowedMethods": settings_of(connection).allowed_methods,
            "blockedRequestHeaders": BLOCKED_REQUEST_HEADERS,
            "blockedResponseHeaders": BLOCKED_RESPONSE_HEADERS,
            "bodyTypes": ["object", "array", "string", "null"],
            "maxRequestBodyBytes": MAX_REQUEST_BODY_BYTES,
            "maxResponseBodyBytes": MAX_RESPONSE_BODY_BYTES,
            "pathRule": PATH_RULE,
            "queryModes": ["query", "rawQuery"],
            "queryValueTypes": ["string", "number", "boolean", "array"],
            "rateLimitPerMinute": RATE_LIMIT_PER_MINUTE,
            "rawQueryRule": RAW_QUERY_RULE,
            "timeoutMs": int(settings.PROBE_TIMEOUT_SECONDS * 1000),
        },
        "stats": stats(connection),
    }


# ---- one call ----------------------------------------------------------------------


def unsafe_text(text: str) -> bool:
    return any(ord(c) < 33 or ord(c) == 127 or c in "\\#" for c in text)


def clean_path(path) -> str:
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        raise refused("request.path", "must be a relative path starting with a single '/'")
    decoded, previous = path, None
    while decoded != previous:  # %252e%252e is '..' twice encoded
        previous, decoded = decoded, unquote(decoded)
    if unsafe_text(decoded) or "?" in decoded or "//" in decoded:
        raise refused("request.path", "must hold no query string, fragment, backslash, blank or '//'")
    if any(segment in (".", "..") for segment in decoded.split("/")):
        raise refused("request.path", "must stay within the provider's API base (no '.' or '..' segments)")
    return path


def clean_headers(headers, locked: set[str]) -> dict:
    if not isinstance(headers, dict):
        raise refused("request.headers", "must be an object of header names and values")
    for name, value in headers.items():
        lowered = str(name).lower()
        if lowered in BLOCKED_REQUEST_HEADERS or lowered in locked:
            raise refused(f"request.headers.{name}", "is set by the connection and cannot be sent by the caller")
        if not isinstance(value, str) or any(ord(c) < 32 for c in str(name) + value):
            raise refused(f"request.headers.{name}", "must be a string without control characters")
    return headers


def body_arguments(body) -> dict:
    if body is None:
        return {}
    if isinstance(body, str):
        content = body.encode()
        arguments = {"content": content}
    else:
        content = httpx.Request("POST", "http://body", json=body).content
        arguments = {"content": content, "headers": {"Content-Type": "application/json"}}
    if len(content) > MAX_REQUEST_BODY_BYTES:
        raise refused("request.body", f"is larger than {MAX_REQUEST_BODY_BYTES} bytes")
    return arguments


def clean_call(connection: Connection, call: dict) -> dict:
    allowed = settings_of(connection).allowed_methods
    method = str(call.get("method") or "").upper()
    if method not in allowed:
        raise refused("request.method", f"must be one of {', '.join(allowed)}")
    if call.get("api"):
        raise refused("request.api", "this connection exposes a single API; leave api out")
    query, raw_query = call.get("query"), call.get("rawQuery")
    if query and raw_query:
        raise refused("request.rawQuery", "give query or rawQuery, not both")
    if raw_query is not None and (not isinstance(raw_query, str) or unsafe_text(raw_query)):
        raise refused("request.rawQuery", "must be a string without '#', spaces or control characters")
    if query is not None and not isinstance(query, dict):
        raise refused("request.query", "must be an object")
    kind = connection_type(connection.type)
    locked = {name.lower() for name in kind.provider.headers(connection_config(connection))}
    body = body_arguments(call.get("body"))
    headers = {**clean_headers(call.get("headers") or {}, locked), **body.pop("headers", {})}
    return {"method": method, "path": clean_path(call.get("path")), "query": query, "raw_query": raw_query,
            "headers": headers, **body}


def within_base(url: httpx.URL, base: httpx.URL):
    """Refuse a URL that left the provider's API base (the checks above should make this unreachable)."""
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port) or \
            not url.raw_path.startswith(base.raw_path):
        raise refused("request.path", "must stay within the provider's API base")


def execute(connection: Connection, call: dict) -> dict:
    """Send the call and return the provider's answer (ConnectionProxyResponse), credentials masked."""
    if not supported(connection):
        raise refused("id", f"{connection.type_name} connections cannot be used through the proxy")
    if not settings_of(connection).enabled:
        raise ProxyRefused(403, "The proxy is off for this connection; an admin turns it on in its proxy settings.",
                           key="proxy_disabled")
    cleaned = clean_call(connection, call)
    wait = throttle.wait_seconds(f"proxy:{connection.pk}", RATE_LIMIT_PER_MINUTE, 60)
    if wait:
        raise ProxyRefused(429, f"At most {RATE_LIMIT_PER_MINUTE} proxy calls a minute per connection.",
                           key="rate_limited", retry_after=max(1, round(wait)))
    try:
        with probes.slot() as deadline:
            return send(connection, cleaned, deadline)
    except RateLimited as error:
        raise ProxyRefused(429, without_secrets(str(error), connection), key="rate_limited",
                           retry_after=max(1, round(error.retry_after))) from None
    except ConnectorError as error:
        raise ProxyRefused(502, f"The provider could not be reached: {without_secrets(str(error), connection)}",
                           key="upstream_error") from None


def send(connection: Connection, cleaned: dict, deadline: float) -> dict:
    session = provider_session(connection, limiter=limiter_for(connection), deadline=deadline)
    try:
        request = session.http.build_request(cleaned["method"], cleaned["path"].lstrip("/"),
                                             params=cleaned["query"], headers=cleaned["headers"],
                                             content=cleaned.get("content"))
        if cleaned["raw_query"]:
            request.url = request.url.copy_with(query=cleaned["raw_query"].encode())
        within_base(request.url, session.http.base_url)
        started = time.monotonic()
        try:
            response = session.http.send(request)
        except httpx.HTTPError as error:
            raise ConnectorError(f"{type(error).__name__}: {error}") from None
        latency = round((time.monotonic() - started) * 1000)
    finally:
        session.http.close()
    call = ProxyCall.objects.create(connection=connection, method=cleaned["method"], path=cleaned["path"][:2000],
                                    status=response.status_code)
    ProxyCall.objects.filter(connection=connection, created_at__lt=call.created_at - STATS_WINDOW).delete()
    sent = [value for name, value in response.request.headers.items() if credential_name(name)]
    sent += [value.split(" ", 1)[1] for value in sent if " " in value]  # the token of "Bearer <token>"

    def masked(text: str) -> str:
        return redact(without_secrets(text, connection), [value for value in sent if len(value) >= 4])

    body = response.content[:MAX_RESPONSE_BODY_BYTES]
    headers = {name: masked(value) for name, value in response.headers.items()
               if name.lower() not in BLOCKED_RESPONSE_HEADERS}
    return {"status": response.status_code, "headers": headers, "contentType": response.headers.get("content-type"),
            "body": masked(body.decode("utf-8", errors="replace")), "latencyMs": latency,
            "proxyCallId": str(call.pk), "truncated": len(response.content) > MAX_RESPONSE_BODY_BYTES}
