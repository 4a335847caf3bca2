"""OAuth 2.0 authorization-code flow, refresh, revocation and static API keys, shared by all providers.

A provider module describes its flavour with an `OAuthConfig` and mounts the
generic handlers under its own paths:

    OAUTH = OAuthConfig(name="Salesloft", scopes=("people:read", ...), unauthorized=_401)
    RULES = [
        Rule("/oauth/authorize", endpoint=oauth.authorize(OAUTH), methods=["GET", "POST"]),
        Rule("/oauth/token", endpoint=oauth.token(OAUTH), methods=["POST"]),
        Rule("/oauth/revoke", endpoint=oauth.revoke(OAUTH), methods=["POST"]),
        ...
    ]

and API handlers start with `token = oauth.authenticate(ctx, request)`.

Everything lives in the provider's own collections: `oauth_clients`,
`oauth_codes`, `oauth_tokens` (access and refresh tokens, keyed by the token
string) and `api_keys`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlencode, urlsplit

from werkzeug.wrappers import Request, Response

from .http import BadBody, Context, abort_with, html_response, json_response, now, read_params

DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
CODE_LIFETIME = 600
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def _default_unauthorized(ctx: Context, reason: str) -> Response:
    return json_response({"error": "invalid_token", "error_description": f"access token {reason}"}, 401,
                         {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _default_token_error(ctx: Context, status: int, error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, status)


@dataclass
class OAuthConfig:
    """How one provider's OAuth differs from the others.

    name                  shown on the consent page
    scopes                granted when the authorize call asks for none
    scope_separator       how `scope` is joined in token responses (LinkedIn: ",")
    token_extras          (ctx, token_record) -> dict merged into every token response
                          (instance_url, api_base_url_for_customer, created_at, ...)
    redirect_extras       (ctx, code_record) -> dict of extra query params on the
                          redirect back to the client (Salesloft: context, scope)
    rotate_refresh_tokens refresh returns a new refresh token and the old one dies
    refresh_in_refresh_response  whether a refresh answer carries refresh_token at all
    send_expires_in       Salesforce sends none
    pkce                  the provider documents PKCE (RFC 7636): a code_challenge on authorize
                          binds the code to a code_verifier the token call must prove
    refresh_token_lifetime  fixed TTL in seconds from the first issue (LinkedIn), None = forever
    send_refresh_expires_in  add refresh_token_expires_in (remaining TTL) to responses
    api_key_bearer        static API keys are accepted as `Authorization: Bearer <key>`
    api_key_basic         static access key + secret are accepted as HTTP Basic
    api_keys              keys created on every reset: dicts with "id" (the key) and
                          for Basic a "secret"
    unauthorized          (ctx, reason) -> Response, the provider's own 401; reason is
                          one of "missing", "invalid", "expired", "revoked"
    token_error           (ctx, status, error, description) -> Response for token-endpoint errors
    """

    name: str
    scopes: tuple = ()
    scope_separator: str = " "
    token_extras: Callable[[Context, dict], dict] | None = None
    redirect_extras: Callable[[Context, dict], dict] | None = None
    rotate_refresh_tokens: bool = True
    refresh_in_refresh_response: bool = True
    send_expires_in: bool = True
    pkce: bool = False
    refresh_token_lifetime: int | None = None
    send_refresh_expires_in: bool = False
    token_type: str = "bearer"
    api_key_bearer: bool = False
    api_key_basic: bool = False
    api_keys: tuple = ()
    unauthorized: Callable[[Context, str], Response] = _default_unauthorized
    token_error: Callable[[Context, int, str, str], Response] = _default_token_error
    clients: tuple = field(default=({"id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
                                     "redirect_uris": None},))


def install_defaults(state, config: OAuthConfig):
    """Called by the app on every reset: the default client and the configured API keys."""
    for client in config.clients:
        state.put("oauth_clients", dict(client))
    for key in config.api_keys:
        state.put("api_keys", dict(key))


def register_client(state, client_id: str, client_secret: str, redirect_uris: list[str]) -> dict:
    return state.put("oauth_clients", {"id": client_id, "client_secret": client_secret,
                                       "redirect_uris": list(redirect_uris)})


def redirect_allowed(client: dict, redirect_uri: str) -> bool:
    if not redirect_uri:
        return False
    if client.get("redirect_uris") is None:
        parts = urlsplit(redirect_uri)
        return parts.scheme in ("http", "https") and parts.hostname in LOCAL_HOSTS
    return redirect_uri in client["redirect_uris"]


def lifetime(ctx: Context) -> int:
    specific = ctx.settings.get(f"{ctx.provider}_token_lifetime")
    return int(specific if specific is not None else ctx.settings.get("token_lifetime", 3600))


def _with_query(url: str, params: dict) -> str:
    joiner = "&" if urlsplit(url).query else "?"
    return url + joiner + urlencode({k: v for k, v in params.items() if v is not None})


# -- authorize ------------------------------------------------------------

CONSENT_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Authorize {client} - {provider} (sandbox)</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.5rem 1.5rem;margin-right:.5rem}}</style></head>
<body>
<h1>{provider}</h1>
<p><strong>{client}</strong> asks for access to your {provider} account.</p>
<p>Requested scopes:</p>
<ul id="scopes">{scopes}</ul>
<form method="post">
{hidden}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<p><small>Sandbox emulation; no real {provider} account is involved.</small></p>
</body></html>
"""

ERROR_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{provider} authorization error</title></head>
<body><h1>{provider}</h1><p id="error">{message}</p></body></html>
"""

AUTHORIZE_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state")
PKCE_FIELDS = ("code_challenge", "code_challenge_method")
PKCE_VALUE = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 4.1 and 4.2


def authorize(config: OAuthConfig):
    fields = AUTHORIZE_FIELDS + (PKCE_FIELDS if config.pkce else ())

    def handler(ctx: Context, request: Request, **_):
        source = request.form if request.method == "POST" else request.args
        params = {name: source.get(name) for name in fields}
        client = ctx.state.get("oauth_clients", params["client_id"] or "")
        if client is None:
            return _error_page(config, "Unknown client_id.", 400)
        redirect_uri = params["redirect_uri"]
        if not redirect_allowed(client, redirect_uri):
            return _error_page(config, "The redirect_uri is not registered for this client.", 400)
        if params["response_type"] != "code":
            return _redirect(_with_query(redirect_uri, {"error": "unsupported_response_type",
                                                        "state": params["state"]}))
        challenge = _challenge(params) if config.pkce else None
        if isinstance(challenge, str):
            return _redirect(_with_query(redirect_uri, {"error": "invalid_request", "error_description": challenge,
                                                        "state": params["state"]}))
        scope = params["scope"] or " ".join(config.scopes)
        if request.method == "GET":
            return _consent_page(config, params, scope)
        if source.get("decision") != "allow":
            return _redirect(_with_query(redirect_uri, {"error": "access_denied",
                                                        "error_description": "The user denied access.",
                                                        "state": params["state"]}))
        code = ctx.state.insert("oauth_codes", {
            "id": secrets.token_urlsafe(24), "client_id": client["id"], "redirect_uri": redirect_uri,
            "scope": _split_scope(scope), "expires_at": now() + CODE_LIFETIME, "used": False,
            "tokens": [], "code_challenge": challenge,
        })
        extras = config.redirect_extras(ctx, code) if config.redirect_extras else {}
        return _redirect(_with_query(redirect_uri, {"code": code["id"], **extras, "state": params["state"]}))

    return handler


def _challenge(params: dict) -> dict | str | None:
    """The PKCE challenge asked for (RFC 7636 4.3: the method defaults to plain), None when
    there is none, or a string saying why the request is invalid."""
    value = params.get("code_challenge")
    if not value:
        return None
    method = params.get("code_challenge_method") or "plain"
    if method not in ("S256", "plain"):
        return "transform algorithm not supported"
    if not PKCE_VALUE.fullmatch(value):
        return "code_challenge must be 43 to 128 unreserved characters"
    return {"value": value, "method": method}


def _verifier_matches(challenge: dict, verifier: str) -> bool:
    """RFC 7636 4.6: S256 compares BASE64URL(SHA256(verifier)) without padding; plain the verifier."""
    if not PKCE_VALUE.fullmatch(verifier):
        return False
    if challenge["method"] == "S256":
        verifier = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")
    return secrets.compare_digest(verifier, challenge["value"])


def _split_scope(scope: str) -> list[str]:
    return [part for part in scope.replace(",", " ").split() if part]


def _consent_page(config: OAuthConfig, params: dict, scope: str) -> Response:
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params[name] or "")}">'
        for name in params
    )
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in _split_scope(scope)) or "<li>(none)</li>"
    return html_response(CONSENT_PAGE.format(provider=html.escape(config.name),
                                             client=html.escape(params["client_id"]),
                                             scopes=scopes, hidden=hidden))


def _error_page(config: OAuthConfig, message: str, status: int) -> Response:
    return html_response(ERROR_PAGE.format(provider=html.escape(config.name), message=html.escape(message)), status)


def _redirect(url: str) -> Response:
    return Response(b"", status=302, headers={"Location": url})


# -- token ----------------------------------------------------------------

def _client_credentials(request: Request, params: dict) -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
            client_id, _, secret = decoded.partition(":")
            return client_id, secret
        except (ValueError, UnicodeDecodeError):
            return None, None
    return params.get("client_id"), params.get("client_secret")


def token(config: OAuthConfig):
    def handler(ctx: Context, request: Request, **_):
        def fail(status, error, description):
            return config.token_error(ctx, status, error, description)

        try:
            params = read_params(request, query=True)
        except BadBody as exc:
            return fail(400, "invalid_request", str(exc))
        client_id, secret = _client_credentials(request, params)
        client = ctx.state.get("oauth_clients", client_id or "")
        if client is None or not secret or not secrets.compare_digest(str(secret), client["client_secret"]):
            return fail(401, "invalid_client", "Client authentication failed.")
        grant_type = params.get("grant_type")
        if grant_type == "authorization_code":
            return _exchange_code(ctx, config, client, params, fail)
        if grant_type == "refresh_token":
            return _refresh(ctx, config, client, params, fail)
        return fail(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported.")

    return handler


def _exchange_code(ctx, config, client, params, fail):
    with ctx.state.lock:
        code = ctx.state.get("oauth_codes", params.get("code") or "")
        if code is None or code["client_id"] != client["id"]:
            return fail(400, "invalid_grant", "The authorization code is invalid.")
        if code["used"]:
            # A replayed code also voids what it bought.
            for grant in code["tokens"]:
                _revoke_grant(ctx.state, grant)
            return fail(400, "invalid_grant", "The authorization code has already been used.")
        if code["expires_at"] < now():
            return fail(400, "invalid_grant", "The authorization code has expired.")
        if params.get("redirect_uri") != code["redirect_uri"]:
            return fail(400, "invalid_grant", "The redirect_uri does not match the authorization request.")
        if code.get("code_challenge") and not _verifier_matches(code["code_challenge"],
                                                                 str(params.get("code_verifier") or "")):
            return fail(400, "invalid_grant", "invalid code verifier")
        grant = secrets.token_hex(8)
        ctx.state.update("oauth_codes", code["id"], {"used": True, "tokens": [grant]})
    refresh = _issue_refresh(ctx, config, client["id"], code["scope"], grant, None)
    access = _issue_access(ctx, client["id"], code["scope"], grant)
    return json_response(_token_body(ctx, config, access, refresh), headers={"Cache-Control": "no-store"})


def _refresh(ctx, config, client, params, fail):
    with ctx.state.lock:
        old = ctx.state.get("oauth_tokens", params.get("refresh_token") or "")
        if old is None or old["kind"] != "refresh" or old["client_id"] != client["id"]:
            return fail(400, "invalid_grant", "The refresh token is invalid.")
        if old["revoked"]:
            return fail(400, "invalid_grant", "The refresh token has been revoked or already used.")
        if old["expires_at"] is not None and old["expires_at"] < now():
            return fail(400, "invalid_grant", "The refresh token has expired.")
        refresh = old
        if config.rotate_refresh_tokens:
            ctx.state.update("oauth_tokens", old["id"], {"revoked": True})
            refresh = _issue_refresh(ctx, config, client["id"], old["scope"], old["grant"], old["expires_at"])
    access = _issue_access(ctx, client["id"], old["scope"], old["grant"])
    body = _token_body(ctx, config, access, refresh if config.refresh_in_refresh_response else None)
    return json_response(body, headers={"Cache-Control": "no-store"})


def _issue_access(ctx, client_id, scope, grant) -> dict:
    return ctx.state.insert("oauth_tokens", {
        "id": secrets.token_urlsafe(32), "kind": "access", "client_id": client_id, "scope": scope,
        "grant": grant, "issued_at": now(), "expires_at": now() + lifetime(ctx), "revoked": False,
    })


def _issue_refresh(ctx, config, client_id, scope, grant, expires_at) -> dict:
    if expires_at is None and config.refresh_token_lifetime:
        expires_at = now() + config.refresh_token_lifetime
    return ctx.state.insert("oauth_tokens", {
        "id": secrets.token_urlsafe(32), "kind": "refresh", "client_id": client_id, "scope": scope,
        "grant": grant, "issued_at": now(), "expires_at": expires_at, "revoked": False,
    })


def _token_body(ctx, config, access, refresh) -> dict:
    body = {"access_token": access["id"], "token_type": config.token_type}
    if config.send_expires_in:
        body["expires_in"] = int(round(access["expires_at"] - access["issued_at"]))
    if refresh is not None:
        body["refresh_token"] = refresh["id"]
        if config.send_refresh_expires_in and refresh["expires_at"] is not None:
            body["refresh_token_expires_in"] = max(0, int(refresh["expires_at"] - now()))
    body["scope"] = config.scope_separator.join(access["scope"])
    if config.token_extras:
        body.update(config.token_extras(ctx, access))
    return body


# -- revoke -----------------------------------------------------------------

def revoke(config: OAuthConfig):
    """RFC 7009 style: POST token=...; revokes the whole grant; 200 whether or not it was known."""

    def handler(ctx: Context, request: Request, **_):
        try:
            params = read_params(request, query=True)
        except BadBody as exc:
            return config.token_error(ctx, 400, "invalid_request", str(exc))
        record = ctx.state.get("oauth_tokens", params.get("token") or "")
        if record is not None:
            _revoke_grant(ctx.state, record["grant"])
        return Response(b"", status=200)

    return handler


def _revoke_grant(state, grant: str):
    with state.lock:
        for record in state.find("oauth_tokens", grant=grant):
            state.update("oauth_tokens", record["id"], {"revoked": True})


def expire_all(state) -> int:
    """Make every access token of this provider expired (refresh tokens keep working)."""
    with state.lock:
        tokens = state.find("oauth_tokens", kind="access", revoked=False)
        for record in tokens:
            state.update("oauth_tokens", record["id"], {"expires_at": now() - 1})
        return len(tokens)


def revoke_all(state) -> int:
    with state.lock:
        tokens = state.find("oauth_tokens", revoked=False)
        for record in tokens:
            state.update("oauth_tokens", record["id"], {"revoked": True})
        return len(tokens)


# -- authenticate API calls -------------------------------------------------

def authenticate(ctx: Context, request: Request, provider=None) -> dict:
    """The token record behind this request's credentials, or abort with the provider's 401.

    `provider` is the OAuthConfig (or a module with OAUTH); default: the
    current provider's. OAuth tokens come back as their oauth_tokens record
    (kind "access"); static keys as their api_keys record with kind "api_key".
    """
    config = provider if isinstance(provider, OAuthConfig) else getattr(provider or ctx.module, "OAUTH")
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    scheme = scheme.lower()
    if scheme == "basic" and config.api_key_basic:
        try:
            key, _, secret = base64.b64decode(credentials).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            abort_with(config.unauthorized(ctx, "invalid"))
        record = ctx.state.get("api_keys", key)
        if record is None or not secrets.compare_digest(str(record.get("secret", "")), secret):
            abort_with(config.unauthorized(ctx, "invalid"))
        return {**record, "kind": "api_key"}
    if scheme != "bearer" or not credentials:
        abort_with(config.unauthorized(ctx, "missing"))
    record = ctx.state.get("oauth_tokens", credentials)
    if record is None or record["kind"] != "access":
        if config.api_key_bearer:
            key = ctx.state.get("api_keys", credentials)
            if key is not None:
                return {**key, "kind": "api_key"}
        abort_with(config.unauthorized(ctx, "invalid"))
    if record["revoked"]:
        abort_with(config.unauthorized(ctx, "revoked"))
    if record["expires_at"] < now():
        abort_with(config.unauthorized(ctx, "expired"))
    return record


def has_scope(token: dict, scope: str) -> bool:
    """API keys carry every scope; OAuth tokens only what was granted."""
    return token.get("kind") == "api_key" or scope in token.get("scope", [])


__all__ = ["OAuthConfig", "authorize", "token", "revoke", "authenticate", "has_scope",
           "register_client", "expire_all", "revoke_all", "install_defaults"]
