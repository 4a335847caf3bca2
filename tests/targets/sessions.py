"""ProviderSessions on the sandbox, the way console.connections.sessions builds them
for real connections: the provider's API base URL and its authentication."""

import base64

import httpx

from integrations.base import ProviderSession

BASES = {
    "salesloft": "/salesloft/v2",
    "gong": "/gong",
    "linkedinads": "/linkedin/rest",
    "salesforce": "/salesforce/services/data/v62.0",
    "hubspot": "/hubspot",
}


def auth_headers(type_id) -> dict:
    if type_id == "gong":
        return {"Authorization": "Basic " + base64.b64encode(b"sandbox-access-key:sandbox-access-secret").decode()}
    return {"Authorization": "Bearer sandbox-api-key"}


def sandbox_session(sandbox_url, type_id, config=None) -> ProviderSession:
    if type_id == "httpapi":
        return ProviderSession(config=config or {}, http=httpx.Client())
    http = httpx.Client(base_url=sandbox_url + BASES[type_id], headers=auth_headers(type_id), timeout=10)
    return ProviderSession(config=config or {}, http=http)
