"""ProviderSessions on the sandbox, the way console.connections.sessions builds them
for real connections: the provider's API base URL and its authentication."""

import base64
import secrets
import time

import httpx

from integrations.base import ProviderSession

BASES = {
    "salesloft": "/salesloft/v2",
    "gong": "/gong",
    "linkedinads": "/linkedin/rest",
    "salesforce": "/salesforce/services/data/v62.0",
    "hubspot": "/hubspot",
}


OAUTH_ONLY = {"linkedinads": ("linkedin", ["r_ads", "rw_ads", "rw_dmp_segments"])}


def access_token(sandbox, provider, scopes) -> str:
    """An access token the sandbox provider accepts, as if an OAuth consent had happened."""
    token = secrets.token_urlsafe(24)
    sandbox.state.scoped(provider).insert("oauth_tokens", {
        "id": token, "kind": "access", "client_id": "sandbox-client", "scope": scopes, "grant": token,
        "issued_at": time.time(), "expires_at": time.time() + 3600, "revoked": False,
    })
    return token


def auth_headers(sandbox, type_id) -> dict:
    if type_id == "gong":
        return {"Authorization": "Basic " + base64.b64encode(b"sandbox-access-key:sandbox-access-secret").decode()}
    if type_id in OAUTH_ONLY:
        return {"Authorization": f"Bearer {access_token(sandbox, *OAUTH_ONLY[type_id])}"}
    return {"Authorization": "Bearer sandbox-api-key"}


def sandbox_session(sandbox, type_id, config=None) -> ProviderSession:
    if type_id == "httpapi":
        return ProviderSession(config=config or {}, http=httpx.Client())
    http = httpx.Client(base_url=sandbox.url + BASES[type_id], headers=auth_headers(sandbox, type_id), timeout=10)
    return ProviderSession(config=config or {}, http=http)
