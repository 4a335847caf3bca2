"""The Gong emulation (Gong Engage flows), driven with plain httpx as Gong's API docs describe."""

import httpx
import pytest

from .oauth_flow import CALLBACK, consent
from .openapi import published_or_skip

KEY = ("sandbox-access-key", "sandbox-access-secret")
OWNER = "riley@sandbox.example"
FLOW = "1695493301223590792"
CONTACTS = [f"0035g00000SBX{n:03d}AA" for n in range(1, 6)]


@pytest.fixture
def gong(sandbox):
    sandbox.app.update_settings({"gong_calls_per_second": 1000})  # tests of the limit lower it again
    return f"{sandbox.url}/gong"


def call(gong, method, path, auth=KEY, **kwargs):
    return httpx.request(method, f"{gong}/v2{path}", auth=auth, **kwargs)


def token_exchange(gong, **params):
    # Gong documents the token call with query parameters and the client in Basic auth.
    return httpx.post(f"{gong}/oauth2/generate-customer-token", params=params, auth=("sandbox-client", "sandbox-secret"))


def test_oauth_dance_gives_the_customer_base_url(gong):
    page, back = consent(f"{gong}/oauth2/authorize", scope="api:flows:read api:flows:write api:users:read")
    assert "Gong" in page and "api:flows:write" in page
    tokens = token_exchange(gong, grant_type="authorization_code", code=back["code"], client_id="sandbox-client",
                            redirect_uri=CALLBACK).json()
    assert tokens["api_base_url_for_customer"] == gong and tokens["expires_in"] == 3600
    assert tokens["scope"] == "api:flows:read api:flows:write api:users:read"

    base = tokens["api_base_url_for_customer"]
    flows = httpx.get(f"{base}/v2/flows", params={"flowOwnerEmail": OWNER},
                      headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert flows.status_code == 200 and flows.json()["flows"]

    renewed = token_exchange(gong, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert renewed.status_code == 200 and renewed.json()["refresh_token"] != tokens["refresh_token"]
    reused = token_exchange(gong, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_oauth_refusals_and_401_shape(sandbox, gong):
    assert consent(f"{gong}/oauth2/authorize", decision="deny")[1]["error"] == "access_denied"
    code = consent(f"{gong}/oauth2/authorize")[1]["code"]
    wrong_secret = httpx.post(f"{gong}/oauth2/generate-customer-token", auth=("sandbox-client", "bad"),
                              params={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK})
    assert wrong_secret.status_code == 401
    wrong_redirect = token_exchange(gong, grant_type="authorization_code", code=code,
                                    redirect_uri="http://localhost:9999/callback")
    assert wrong_redirect.json()["error"] == "invalid_grant"
    tokens = token_exchange(gong, grant_type="authorization_code", code=code, redirect_uri=CALLBACK).json()
    assert token_exchange(gong, grant_type="authorization_code", code=code, redirect_uri=CALLBACK).status_code == 400

    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    httpx.post(f"{sandbox.url}/_sandbox/oauth/gong/expire-tokens")
    expired = httpx.get(f"{gong}/v2/flows", params={"flowOwnerEmail": OWNER}, headers=bearer)
    assert expired.status_code == 401
    assert set(expired.json()) == {"requestId", "errors"} and expired.json()["errors"]
    assert call(gong, "GET", "/flows", auth=("sandbox-access-key", "wrong"), params={"flowOwnerEmail": OWNER}).status_code == 401

    httpx.post(f"{sandbox.url}/_sandbox/oauth/gong/revoke-all")
    refused = token_exchange(gong, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refused.status_code == 400


def test_scopes_are_enforced_for_bearer_tokens(gong):
    code = consent(f"{gong}/oauth2/authorize", scope="api:flows:read")[1]["code"]
    tokens = token_exchange(gong, grant_type="authorization_code", code=code, redirect_uri=CALLBACK).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assign = httpx.post(f"{gong}/v2/flows/prospects/assign", headers=bearer,
                        json={"crmProspectsIds": CONTACTS[:1], "flowId": FLOW, "flowInstanceOwnerEmail": OWNER})
    assert assign.status_code == 403 and "api:flows:write" in assign.json()["errors"][0]


def test_list_flows_with_cursor_paging(sandbox, gong):
    missing = call(gong, "GET", "/flows")
    assert missing.status_code == 400 and missing.json()["errors"] == ["flowOwnerEmail is required"]

    sandbox.app.update_settings({"gong_page_size": 2})
    flows, cursor, pages = [], None, 0
    while True:
        params = {"flowOwnerEmail": OWNER, **({"cursor": cursor} if cursor else {})}
        body = call(gong, "GET", "/flows", params=params).json()
        flows += body["flows"]
        pages += 1
        assert body["records"]["totalRecords"] == 6 and body["records"]["currentPageNumber"] == pages - 1
        cursor = body["records"].get("cursor")
        if not cursor:
            break
    assert pages == 3
    assert {f["visibility"] for f in flows} == {"Company", "Personal"}
    assert "Riley's Warm Leads" in [f["name"] for f in flows] and "Sam's Re-engage" not in [f["name"] for f in flows]

    first = call(gong, "GET", "/flows", params={"flowOwnerEmail": OWNER}).json()["records"]["cursor"]
    other = call(gong, "GET", "/flows", params={"flowOwnerEmail": "sam@sandbox.example", "cursor": first})
    assert other.status_code == 400  # a cursor is only good for the same inputs
    workspace = call(gong, "GET", "/flows", params={"flowOwnerEmail": OWNER, "workspaceId": "723457276584335"})
    assert [f["name"] for f in workspace.json()["flows"]] == ["Customer Expansion"]


def test_assign_lookup_and_unassign(gong):
    body = {"crmProspectsIds": CONTACTS[:3] + ["0035g00000NOPE01AA"], "flowId": FLOW, "flowInstanceOwnerEmail": OWNER}
    answer = call(gong, "POST", "/flows/prospects/assign", json=body)
    assert answer.status_code == 200
    result = answer.json()
    assert [a["crmProspectId"] for a in result["prospectsAssigned"]] == CONTACTS[:3]
    assert result["prospectsAssigned"][0]["flowInstanceOwnerEmail"] == OWNER
    assert result["prospectsNotAssigned"] == [{"flowId": FLOW, "crmProspectId": "0035g00000NOPE01AA",
                                               "errorCode": "InvalidArgument",
                                               "errorMessage": "Invalid crmId 0035g00000NOPE01AA"}]

    again = call(gong, "POST", "/flows/prospects/assign", json={**body, "crmProspectsIds": CONTACTS[:1]}).json()
    assert again["prospectsAssigned"] == [] and again["prospectsNotAssigned"][0]["errorCode"] == "InvalidState"

    lookup = call(gong, "POST", "/flows/prospects", json={"crmProspectsIds": CONTACTS}).json()
    assert sorted(a["crmProspectId"] for a in lookup["prospectsAssigned"]) == CONTACTS[:3]

    by_crm = call(gong, "POST", "/flows/prospects/unassign-flows-by-crm-id",
                  json={"crmProspectId": CONTACTS[0], "flowId": FLOW, "unassignedByUserEmail": "admin@sandbox.example"})
    assert by_crm.json()["unassignedFlowInstanceIds"] == [result["prospectsAssigned"][0]["flowInstanceId"]]
    instance = result["prospectsAssigned"][1]["flowInstanceId"]
    by_instance = call(gong, "POST", "/flows/prospects/unassign-flows-by-instance-id",
                       json={"flowInstanceIds": [instance, "999"]})
    assert by_instance.json()["unassignedFlowInstanceIds"] == [instance]
    left = call(gong, "POST", "/flows/prospects", json={"crmProspectsIds": CONTACTS}).json()["prospectsAssigned"]
    assert [a["crmProspectId"] for a in left] == [CONTACTS[2]]
    # after removal the prospect can be assigned again
    readd = call(gong, "POST", "/flows/prospects/assign", json={**body, "crmProspectsIds": CONTACTS[:1]}).json()
    assert len(readd["prospectsAssigned"]) == 1


def test_assign_request_errors(gong):
    too_many = {"crmProspectsIds": [f"id{n}" for n in range(201)], "flowId": FLOW, "flowInstanceOwnerEmail": OWNER}
    assert call(gong, "POST", "/flows/prospects/assign", json=too_many).status_code == 400
    missing = call(gong, "POST", "/flows/prospects/assign", json={"crmProspectsIds": CONTACTS})
    assert missing.status_code == 400 and len(missing.json()["errors"]) == 2
    unknown_flow = call(gong, "POST", "/flows/prospects/assign",
                        json={"crmProspectsIds": CONTACTS, "flowId": "1", "flowInstanceOwnerEmail": OWNER})
    assert unknown_flow.status_code == 400
    personal = call(gong, "POST", "/flows/prospects/assign",
                    json={"crmProspectsIds": CONTACTS, "flowId": "1695493301223590798", "flowInstanceOwnerEmail": OWNER})
    assert personal.status_code == 400  # Sam's personal flow
    malformed = httpx.post(f"{gong}/v2/flows/prospects/assign", auth=KEY, content=b"{nope",
                           headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and "requestId" in malformed.json()


def test_seeded_prospects_can_be_extended(sandbox, gong):
    httpx.post(f"{sandbox.url}/_sandbox/state/gong/crm_prospects", json={"id": "0035g00000EXTRA1AA", "type": "Contact"})
    answer = call(gong, "POST", "/flows/prospects/assign",
                  json={"crmProspectsIds": ["0035g00000EXTRA1AA"], "flowId": FLOW, "flowInstanceOwnerEmail": OWNER})
    assert len(answer.json()["prospectsAssigned"]) == 1


def test_three_calls_per_second(sandbox, gong):
    sandbox.app.update_settings({"gong_calls_per_second": 3})
    statuses = [call(gong, "GET", "/flows", params={"flowOwnerEmail": OWNER}) for _ in range(4)]
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
    limited = statuses[3]
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert set(limited.json()) == {"requestId", "errors"}
    sandbox.clock.advance(1.05)
    assert call(gong, "GET", "/flows", params={"flowOwnerEmail": OWNER}).status_code == 200


def test_daily_budget(sandbox, gong):
    sandbox.app.update_settings({"gong_calls_per_day": 2})
    codes = [call(gong, "GET", "/users").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_burst_of_injected_429s(sandbox, gong):
    httpx.put(f"{sandbox.url}/_sandbox/faults", json={"burst_429": 1, "retry_after": 2})
    first = call(gong, "GET", "/users")
    assert first.status_code == 429 and first.headers["retry-after"] == "2" and "requestId" in first.json()
    assert call(gong, "GET", "/users").status_code == 200


def test_responses_match_the_published_spec(gong):
    contract = published_or_skip("gong")
    flows = call(gong, "GET", "/flows", params={"flowOwnerEmail": OWNER})
    assign = call(gong, "POST", "/flows/prospects/assign",
                  json={"crmProspectsIds": CONTACTS[:2] + ["bad"], "flowId": FLOW, "flowInstanceOwnerEmail": OWNER})
    lookup = call(gong, "POST", "/flows/prospects", json={"crmProspectsIds": CONTACTS})
    for response in (flows, assign, lookup):
        assert response.status_code == 200 and contract.problems(response) == []
    error = call(gong, "GET", "/flows")  # no flowOwnerEmail: a 400 in the spec's error shape
    assert error.status_code == 400 and contract.answer_problems(error) == []
