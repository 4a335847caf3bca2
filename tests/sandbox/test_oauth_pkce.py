"""PKCE in the sandbox, as RFC 7636 and the providers that document it (Salesforce, HubSpot)
describe: a code_challenge on authorize binds the code to a code_verifier."""

import base64
import hashlib
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from .oauth_flow import CALLBACK

VERIFIER = "v" * 20 + "-._~" + "0123456789abcdefghijklmnopqrstuvwxyz"  # 60 unreserved characters
S256 = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode().rstrip("=")
PROVIDERS = {"hubspot": ("/hubspot/oauth/authorize", "/hubspot/oauth/v1/token"),
             "salesforce": ("/salesforce/services/oauth2/authorize", "/salesforce/services/oauth2/token")}


def code_for(authorize_url, **challenge) -> dict:
    """Consent the way a browser does: the POST sends back only the page's own hidden fields."""
    params = {"response_type": "code", "client_id": "sandbox-client", "redirect_uri": CALLBACK, "state": "s",
              **challenge}
    page = httpx.get(authorize_url, params=params)
    if page.status_code == 302:
        return {k: v[0] for k, v in parse_qs(urlsplit(page.headers["location"]).query).items()}
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    answer = httpx.post(authorize_url, data={k: unescape(v) for k, v in fields.items()} | {"decision": "allow"})
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


def exchange(token_url, code, **extra):
    return httpx.post(token_url, data={"grant_type": "authorization_code", "code": code, "client_id": "sandbox-client",
                                       "client_secret": "sandbox-secret", "redirect_uri": CALLBACK, **extra})


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_code_exchange_needs_the_matching_verifier(sandbox, provider):
    authorize, token = (sandbox.url + path for path in PROVIDERS[provider])

    def code():
        return code_for(authorize, code_challenge=S256, code_challenge_method="S256")["code"]

    for wrong in ({}, {"code_verifier": VERIFIER[:-1] + "x"}, {"code_verifier": S256},
                  {"code_verifier": "short"}):
        refused = exchange(token, code(), **wrong)
        assert refused.status_code == 400, wrong
        assert "access_token" not in refused.text
    assert exchange(token, code(), code_verifier=VERIFIER).status_code == 200


def test_a_refused_verifier_leaves_the_code_to_its_owner(sandbox):
    authorize, token = (sandbox.url + path for path in PROVIDERS["hubspot"])
    code = code_for(authorize, code_challenge=S256, code_challenge_method="S256")["code"]
    assert exchange(token, code, code_verifier="x" * 43).status_code == 400
    assert exchange(token, code, code_verifier=VERIFIER).status_code == 200


def test_plain_is_the_default_method(sandbox):
    authorize, token = (sandbox.url + path for path in PROVIDERS["hubspot"])
    code = code_for(authorize, code_challenge=VERIFIER)["code"]
    assert exchange(token, code, code_verifier=S256).status_code == 400
    code = code_for(authorize, code_challenge=VERIFIER)["code"]
    assert exchange(token, code, code_verifier=VERIFIER).status_code == 200


@pytest.mark.parametrize("challenge, description", [
    ({"code_challenge": S256, "code_challenge_method": "S512"}, "transform algorithm not supported"),
    ({"code_challenge": "too-short", "code_challenge_method": "S256"}, "43 to 128"),
])
def test_a_bad_challenge_is_refused_at_authorize(sandbox, challenge, description):
    back = code_for(sandbox.url + PROVIDERS["hubspot"][0], **challenge)
    assert back["error"] == "invalid_request" and description in back["error_description"]
    assert "code" not in back


def test_providers_without_pkce_ignore_a_challenge(sandbox):
    authorize = f"{sandbox.url}/salesloft/oauth/authorize"
    code = code_for(authorize, code_challenge=S256, code_challenge_method="S256")["code"]
    assert exchange(f"{sandbox.url}/salesloft/oauth/token", code).status_code == 200
