"""Driving an OAuth authorization-code consent the way a browser would, for the provider tests."""

from urllib.parse import parse_qs, urlsplit

import httpx

CALLBACK = "http://127.0.0.1:8000/connections/oauth/callback"


def consent(authorize_url, decision="allow", redirect_uri=CALLBACK, client_id="sandbox-client",
            scope=None, state="st-123"):
    """GET the consent page, submit its form; returns (page text, query of the redirect back)."""
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": state}
    if scope:
        params["scope"] = scope
    page = httpx.get(authorize_url, params=params)
    assert page.status_code == 200, page.text
    assert 'value="allow"' in page.text and 'value="deny"' in page.text
    answer = httpx.post(authorize_url, data={**params, "decision": decision})
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(redirect_uri)
    return page.text, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
