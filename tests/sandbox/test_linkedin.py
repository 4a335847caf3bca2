"""The LinkedIn Matched Audiences emulation, driven with plain httpx as LinkedIn's Marketing docs describe."""

import hashlib
from datetime import datetime, timezone

import httpx
import pytest

from .oauth_flow import CALLBACK, consent

ACCOUNT = "urn:li:sponsoredAccount:512630692"
VIEWER_ACCOUNT = "urn:li:sponsoredAccount:509876543"
NOW = datetime.now(timezone.utc)
VERSION = f"{NOW.year}{NOW.month:02d}"


def sha256(email):
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


@pytest.fixture
def li(sandbox):
    sandbox.app.update_settings({"linkedin_segment_ready_seconds": 0})
    return f"{sandbox.url}/linkedin"


def get_tokens(li, scope="r_ads rw_ads rw_dmp_segments"):
    code = consent(f"{li}/oauth/v2/authorization", scope=scope)[1]["code"]
    answer = httpx.post(f"{li}/oauth/v2/accessToken", data={
        "grant_type": "authorization_code", "code": code, "client_id": "sandbox-client",
        "client_secret": "sandbox-secret", "redirect_uri": CALLBACK})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def headers(li):
    return {"Authorization": f"Bearer {get_tokens(li)['access_token']}", "LinkedIn-Version": VERSION,
            "X-Restli-Protocol-Version": "2.0.0"}


def create_segment(li, headers, type_="USER", account=ACCOUNT, name="Sandbox audience"):
    return httpx.post(f"{li}/rest/dmpSegments", headers=headers, json={
        "name": name, "sourcePlatform": "SANDBOX", "account": account, "accessPolicy": "PRIVATE",
        "type": type_, "destinations": [{"destination": "LINKEDIN"}]})


def batch(li, headers, segment_id, resource, elements, method="BATCH_CREATE"):
    return httpx.post(f"{li}/rest/dmpSegments/{segment_id}/{resource}",
                      headers={**headers, "X-RestLi-Method": method}, json={"elements": elements})


# -- OAuth -----------------------------------------------------------------------------

def test_oauth_dance_tokens_and_refresh(sandbox, li):
    page, back = consent(f"{li}/oauth/v2/authorization", scope="r_ads rw_dmp_segments")
    assert "LinkedIn" in page and "rw_dmp_segments" in page and back["state"] == "st-123"
    tokens = httpx.post(f"{li}/oauth/v2/accessToken", data={
        "grant_type": "authorization_code", "code": back["code"], "client_id": "sandbox-client",
        "client_secret": "sandbox-secret", "redirect_uri": CALLBACK}).json()
    assert tokens["scope"] == "r_ads,rw_dmp_segments"
    assert tokens["expires_in"] == 3600 and 31_535_000 < tokens["refresh_token_expires_in"] <= 31_536_000

    sandbox.clock.advance(1.1)
    refreshed = httpx.post(f"{li}/oauth/v2/accessToken", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": "sandbox-client", "client_secret": "sandbox-secret"}).json()
    # same refresh token, its fixed lifetime keeps running down
    assert refreshed["refresh_token"] == tokens["refresh_token"]
    assert refreshed["refresh_token_expires_in"] < tokens["refresh_token_expires_in"]
    assert refreshed["access_token"] != tokens["access_token"]

    headers = {"Authorization": f"Bearer {refreshed['access_token']}", "LinkedIn-Version": VERSION,
               "X-Restli-Protocol-Version": "2.0.0"}
    assert httpx.get(f"{li}/rest/adAccountUsers", params={"q": "authenticatedUser"}, headers=headers).status_code == 200

    httpx.post(f"{sandbox.url}/_sandbox/oauth/linkedin/expire-tokens")
    expired = httpx.get(f"{li}/rest/adAccountUsers", params={"q": "authenticatedUser"}, headers=headers)
    assert expired.status_code == 401 and expired.json()["serviceErrorCode"] == 65602

    httpx.post(f"{li}/oauth/v2/revoke", data={"token": tokens["refresh_token"], "client_id": "sandbox-client",
                                              "client_secret": "sandbox-secret"})
    refused = httpx.post(f"{li}/oauth/v2/accessToken", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": "sandbox-client", "client_secret": "sandbox-secret"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_oauth_refusals(li):
    assert consent(f"{li}/oauth/v2/authorization", decision="deny")[1]["error"] == "access_denied"
    code = consent(f"{li}/oauth/v2/authorization")[1]["code"]
    form = {"grant_type": "authorization_code", "code": code, "client_id": "sandbox-client",
            "client_secret": "sandbox-secret", "redirect_uri": CALLBACK}
    assert httpx.post(f"{li}/oauth/v2/accessToken", data={**form, "client_secret": "x"}).status_code == 401
    assert httpx.post(f"{li}/oauth/v2/accessToken", data={**form, "redirect_uri": "http://localhost/x"}).status_code == 400
    assert httpx.post(f"{li}/oauth/v2/accessToken", data=form).status_code == 200
    assert httpx.post(f"{li}/oauth/v2/accessToken", data=form).json()["error"] == "invalid_grant"
    empty = httpx.get(f"{li}/rest/adAccountUsers", params={"q": "authenticatedUser"},
                      headers={"LinkedIn-Version": VERSION, "X-Restli-Protocol-Version": "2.0.0"})
    assert empty.json() == {"message": "Empty oauth2_access_token", "serviceErrorCode": 401, "status": 401}


# -- headers ----------------------------------------------------------------------------

def test_version_and_protocol_headers(li, headers):
    url = f"{li}/rest/adAccountUsers?q=authenticatedUser"
    no_version = httpx.get(url, headers={k: v for k, v in headers.items() if k != "LinkedIn-Version"})
    assert no_version.status_code == 400 and no_version.json()["code"] == "VERSION_MISSING"
    sunset = httpx.get(url, headers={**headers, "LinkedIn-Version": "202201"})
    assert sunset.status_code == 426 and sunset.json()["code"] == "NONEXISTENT_VERSION"
    future = httpx.get(url, headers={**headers, "LinkedIn-Version": f"{NOW.year + 1}01"})
    assert future.status_code == 426
    assert httpx.get(url, headers={**headers, "LinkedIn-Version": VERSION + ".01"}).status_code == 200
    no_protocol = httpx.get(url, headers={k: v for k, v in headers.items() if k != "X-Restli-Protocol-Version"})
    assert no_protocol.status_code == 400


# -- ad accounts -------------------------------------------------------------------------------

def test_ad_accounts(li, headers):
    roles = httpx.get(f"{li}/rest/adAccountUsers", params={"q": "authenticatedUser"}, headers=headers).json()
    assert {r["account"] for r in roles["elements"]} >= {ACCOUNT, VIEWER_ACCOUNT}
    search = "(type:(values:List(BUSINESS)),status:(values:List(ACTIVE)),test:false)"
    accounts = httpx.get(f"{li}/rest/adAccounts", params={"q": "search", "search": search}, headers=headers).json()
    polytomic = next(a for a in accounts["elements"] if a["id"] == 512630692)
    assert polytomic["reference"] == "urn:li:organization:28818517" and polytomic["name"] == "Polytomic Inc."
    assert httpx.get(f"{li}/rest/adAccounts/512630692", headers=headers).json()["status"] == "ACTIVE"
    assert httpx.get(f"{li}/rest/adAccounts/1", headers=headers).status_code == 404


# -- segments ---------------------------------------------------------------------------------

def test_create_list_and_get_segments(li, headers):
    created = create_segment(li, headers)
    assert created.status_code == 201 and created.content == b""
    segment_id = created.headers["x-restli-id"]
    assert created.headers["location"] == f"/dmpSegments/{segment_id}"

    listed = httpx.get(f"{li}/rest/dmpSegments", headers=headers,
                       params={"q": "account", "account": ACCOUNT, "start": 0, "count": 100}).json()
    names = {s["name"] for s in listed["elements"]}
    assert "Sandbox audience" in names and listed["paging"]["total"] == len(listed["elements"])
    segment = httpx.get(f"{li}/rest/dmpSegments/{segment_id}", headers=headers).json()
    assert segment["type"] == "USER" and segment["destinations"][0]["destination"] == "LINKEDIN"

    missing = httpx.post(f"{li}/rest/dmpSegments", headers=headers, json={"name": "x", "account": ACCOUNT})
    assert missing.status_code == 422 and "sourcePlatform" in missing.json()["message"]
    viewer = create_segment(li, headers, account=VIEWER_ACCOUNT)
    assert viewer.status_code == 403


def test_new_segment_is_briefly_unavailable(sandbox, li, headers):
    sandbox.app.update_settings({"linkedin_segment_ready_seconds": 0.5})
    segment_id = create_segment(li, headers).headers["x-restli-id"]
    element = {"action": "ADD", "userIds": [{"idType": "SHA256_EMAIL", "idValue": sha256("ada@example.com")}]}
    assert batch(li, headers, segment_id, "users", [element]).status_code == 404
    status = httpx.get(f"{li}/rest/dmpSegments/{segment_id}", headers=headers).json()["destinations"][0]["status"]
    assert status == "BUILDING"
    sandbox.clock.advance(0.6)
    assert batch(li, headers, segment_id, "users", [element]).status_code == 200


def test_stream_users_by_hashed_email(li, headers):
    segment_id = create_segment(li, headers).headers["x-restli-id"]
    ada = {"action": "ADD", "userIds": [{"idType": "SHA256_EMAIL", "idValue": sha256(" Ada@Example.com ")}],
           "firstName": "Ada", "lastName": "Lovelace"}
    grace = {"action": "ADD", "userIds": [{"idType": "SHA256_EMAIL", "idValue": sha256("grace@example.com")}]}
    raw_email = {"action": "ADD", "userIds": [{"idType": "SHA256_EMAIL", "idValue": "ada@example.com"}]}
    answer = batch(li, headers, segment_id, "users", [ada, grace, raw_email])
    assert answer.status_code == 200
    statuses = answer.json()["elements"]
    assert [s["status"] for s in statuses] == [201, 201, 400] and statuses[2]["error"]["message"]

    assert batch(li, headers, segment_id, "users", [ada]).json() == {"elements": [{"status": 201}]}  # re-add
    inputs = httpx.get(f"{li}/rest/dmpSegments/{segment_id}", headers=headers).json()["destinations"][0]
    assert inputs["inputCount"] == 2

    remove = {**grace, "action": "REMOVE"}
    assert batch(li, headers, segment_id, "users", [remove, remove]).json()["elements"] == [{"status": 201}] * 2
    inputs = httpx.get(f"{li}/rest/dmpSegments/{segment_id}", headers=headers).json()["destinations"][0]
    assert inputs["inputCount"] == 1

    assert batch(li, headers, segment_id, "users", [ada], method="CREATE").status_code == 400
    singular = {"action": "ADD", "userId": {"idType": "SHA256_EMAIL", "idValue": sha256("x@y.com")}}
    assert batch(li, headers, segment_id, "users", [singular]).json()["elements"][0]["status"] == 400
    assert batch(li, headers, segment_id, "companies", [{"action": "ADD", "companyName": "Acme"}]).status_code == 400


def test_stream_companies(li, headers):
    segment_id = create_segment(li, headers, type_="COMPANY").headers["x-restli-id"]
    good = {"action": "ADD", "companyName": "LinkedIn", "organizationUrn": "urn:li:organization:1337",
            "companyWebsiteDomain": "linkedin.com", "industries": ["Software"], "country": "US"}
    too_many_industries = {"action": "ADD", "companyName": "X", "industries": ["a", "b", "c", "d"]}
    nothing = {"action": "ADD", "city": "Sunnyvale"}
    answer = batch(li, headers, segment_id, "companies", [good, too_many_industries, nothing]).json()
    assert [e["status"] for e in answer["elements"]] == [201, 400, 400]
    assert batch(li, headers, segment_id, "users", [{"action": "ADD", "firstName": "A", "lastName": "B"}]).status_code == 400


def test_per_member_minute_limit(sandbox, li, headers):
    sandbox.app.update_settings({"linkedin_users_per_minute": 2})
    segment_id = create_segment(li, headers).headers["x-restli-id"]
    element = {"action": "ADD", "userIds": [{"idType": "SHA256_EMAIL", "idValue": sha256("a@b.com")}]}
    codes = [batch(li, headers, segment_id, "users", [element]).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_scope_needed_for_segments(li):
    tokens = get_tokens(li, scope="r_ads")
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "LinkedIn-Version": VERSION,
               "X-Restli-Protocol-Version": "2.0.0"}
    assert create_segment(li, headers).status_code == 403
    assert httpx.get(f"{li}/rest/adAccountUsers", params={"q": "authenticatedUser"}, headers=headers).status_code == 200
