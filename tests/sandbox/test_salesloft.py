"""The Salesloft emulation, driven with plain httpx the way Salesloft's v2 docs describe."""

import httpx
import pytest

from .oauth_flow import CALLBACK, consent
from .openapi import published_or_skip

KEY = {"Authorization": "Bearer sandbox-api-key"}


@pytest.fixture
def sl(sandbox):
    return f"{sandbox.url}/salesloft"


def api(sl, method, path, **kwargs):
    headers = {**KEY, **kwargs.pop("headers", {})}
    return httpx.request(method, f"{sl}/v2{path}", headers=headers, **kwargs)


def exchange(sl, code, **overrides):
    body = {"client_id": "sandbox-client", "client_secret": "sandbox-secret", "code": code,
            "grant_type": "authorization_code", "redirect_uri": CALLBACK, **overrides}
    return httpx.post(f"{sl}/oauth/token", json=body)


# -- OAuth ---------------------------------------------------------------------------

def test_oauth_dance_then_api_call(sl):
    page, back = consent(f"{sl}/oauth/authorize")
    assert "Salesloft" in page and "sandbox-client" in page and "people:read" in page
    assert back["state"] == "st-123" and back["code"] and "context" in back and "scope" in back

    answer = exchange(sl, back["code"], context=back["context"], scope=back["scope"])
    assert answer.status_code == 200
    tokens = answer.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 3600
    assert tokens["refresh_token"] and isinstance(tokens["created_at"], int)

    me = httpx.get(f"{sl}/v2/me.json", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.json()["data"]["email"] == "admin@sandbox.example"
    assert me.headers["x-ratelimit-endpoint-cost"] == "1"


def test_oauth_refusals(sl):
    assert consent(f"{sl}/oauth/authorize", decision="deny")[1]["error"] == "access_denied"
    code = consent(f"{sl}/oauth/authorize")[1]["code"]
    wrong_secret = exchange(sl, code, client_secret="nope")
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    wrong_redirect = exchange(sl, code, redirect_uri="http://127.0.0.1:8000/elsewhere")
    assert wrong_redirect.status_code == 400 and wrong_redirect.json()["error"] == "invalid_grant"
    assert exchange(sl, code).status_code == 200
    replay = exchange(sl, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # a redirect_uri off localhost never reaches the consent page
    bad = httpx.get(f"{sl}/oauth/authorize", params={"client_id": "sandbox-client", "response_type": "code",
                                                      "redirect_uri": "https://attacker.example/cb"})
    assert bad.status_code == 400


def test_refresh_expiry_and_revocation(sandbox, sl):
    tokens = exchange(sl, consent(f"{sl}/oauth/authorize")[1]["code"]).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    httpx.post(f"{sandbox.url}/_sandbox/oauth/salesloft/expire-tokens")
    expired = httpx.get(f"{sl}/v2/me.json", headers=bearer)
    assert expired.status_code == 401 and expired.json()["error"] == "Not authorized"

    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
               "client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    renewed = httpx.post(f"{sl}/oauth/token", data=refresh).json()
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert httpx.post(f"{sl}/oauth/token", data=refresh).status_code == 400  # single use
    bearer = {"Authorization": f"Bearer {renewed['access_token']}"}
    assert httpx.get(f"{sl}/v2/me.json", headers=bearer).status_code == 200

    httpx.post(f"{sandbox.url}/_sandbox/oauth/salesloft/revoke-all")
    assert httpx.get(f"{sl}/v2/me.json", headers=bearer).status_code == 401
    again = httpx.post(f"{sl}/oauth/token", data={**refresh, "refresh_token": renewed["refresh_token"]})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_short_token_lifetime(sandbox, sl):
    sandbox.app.update_settings({"token_lifetime": 1})
    tokens = exchange(sl, consent(f"{sl}/oauth/authorize")[1]["code"]).json()
    assert tokens["expires_in"] == 1
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(f"{sl}/v2/me", headers=bearer).status_code == 200
    sandbox.clock.advance(1.2)
    assert httpx.get(f"{sl}/v2/me", headers=bearer).status_code == 401


def test_api_key_and_missing_token(sl):
    assert httpx.get(f"{sl}/v2/me.json", headers=KEY).status_code == 200
    missing = httpx.get(f"{sl}/v2/me.json")
    assert missing.status_code == 401 and "error" in missing.json()


# -- people ----------------------------------------------------------------------------

def test_person_create_rule_and_duplicates(sl):
    ada = api(sl, "POST", "/people.json", json={"email_address": "Ada@Example.com", "first_name": "Ada",
                                                "last_name": "Lovelace", "custom_fields": {"Plan": "gold"}})
    assert ada.status_code == 200
    person = ada.json()["data"]
    assert person["display_name"] == "Ada Lovelace" and person["custom_fields"] == {"Plan": "gold"}
    assert person["owner"]["id"] == 1 and person["owner"]["_href"].endswith("/v2/users/1")

    phone_only = api(sl, "POST", "/people", data={"phone": "5550100", "last_name": "Hopper"})  # form body
    assert phone_only.status_code == 200
    neither = api(sl, "POST", "/people.json", json={"first_name": "Nobody"})
    assert neither.status_code == 422 and "base" in neither.json()["errors"]
    duplicate = api(sl, "POST", "/people.json", json={"email_address": "ada@example.com"})
    assert duplicate.status_code == 422
    assert duplicate.json() == {"errors": {"email_address": ["has already been taken"]}}
    bad = api(sl, "POST", "/people.json", json={"email_address": "x@y.com", "job_seniority": "intern"})
    assert bad.status_code == 422 and "job_seniority" in bad.json()["errors"]


def test_person_lookup_update_delete(sl):
    ada = api(sl, "POST", "/people.json", json={"email_address": "ada@example.com", "first_name": "Ada",
                                                "title": "Countess"}).json()["data"]
    api(sl, "POST", "/people.json", json={"email_address": "grace@example.com"})
    rails = api(sl, "GET", "/people.json", params={"email_addresses[]": ["ADA@example.com", "nobody@x.com"]})
    comma = api(sl, "GET", "/people", params={"email_addresses": "ada@example.com,grace@example.com"})
    assert [p["id"] for p in rails.json()["data"]] == [ada["id"]]
    assert len(comma.json()["data"]) == 2

    updated = api(sl, "PUT", f"/people/{ada['id']}.json", json={"last_name": "Lovelace", "title": ""}).json()["data"]
    assert updated["first_name"] == "Ada" and updated["last_name"] == "Lovelace" and updated["title"] is None
    assert api(sl, "GET", f"/people/{ada['id']}").json()["data"]["last_name"] == "Lovelace"
    assert api(sl, "PUT", "/people/999999.json", json={"title": "x"}).json() == {"status": 404, "error": "Not Found"}

    crm = api(sl, "PUT", f"/people/{ada['id']}.json", json={"crm_id": "003000000000001AAA", "crm_id_type": "salesforce"})
    assert crm.status_code == 200 and crm.json()["data"]["crm_id"] == "003000000000001AAA"
    wrong = api(sl, "PUT", f"/people/{ada['id']}.json", json={"crm_id": "001000000000001AAA", "crm_id_type": "salesforce"})
    assert wrong.status_code == 422 and "crm_id" in wrong.json()["errors"]
    assert api(sl, "GET", "/people.json", params={"crm_id": "003000000000001AAA"}).json()["data"][0]["id"] == ada["id"]

    assert api(sl, "DELETE", f"/people/{ada['id']}.json").status_code == 204
    assert api(sl, "GET", f"/people/{ada['id']}.json").status_code == 404


def test_people_pagination(sandbox, sl):
    sandbox.app.update_settings({"salesloft_cost_per_minute": 10_000})
    for n in range(23):
        api(sl, "POST", "/people.json", json={"email_address": f"p{n:02d}@example.com"})
    seen, page = [], 1
    while page:
        answer = api(sl, "GET", "/people.json", params={"per_page": 10, "page": page, "sort_by": "created_at",
                                                         "sort_direction": "ASC", "include_paging_counts": "true"})
        body = answer.json()
        seen += [p["email_address"] for p in body["data"]]
        paging = body["metadata"]["paging"]
        assert paging["total_count"] == 23 and paging["total_pages"] == 3
        page = paging["next_page"]
    assert seen == [f"p{n:02d}@example.com" for n in range(23)]
    last = api(sl, "GET", "/people.json", params={"per_page": 10, "page": 3}).json()["metadata"]["paging"]
    assert last["next_page"] is None and last["prev_page"] == 2 and "total_count" not in last
    assert api(sl, "GET", "/people.json", params={"per_page": 101}).status_code == 422
    assert api(sl, "GET", "/people.json", params={"page": 101}).headers["x-ratelimit-endpoint-cost"] == "3"


def test_person_upserts(sandbox, sl):
    first = api(sl, "POST", "/person_upserts.json", json={"upsert_key": "email_address",
                                                          "email_address": "ada@example.com", "first_name": "Ada"})
    assert first.status_code == 200 and first.json()["data"]["upsert_type"] == "create"
    again = api(sl, "POST", "/person_upserts.json", json={"upsert_key": "email_address",
                                                          "email_address": "ADA@example.com", "title": "CTO"})
    data = again.json()["data"]
    assert data["upsert_type"] == "update" and data["person"]["title"] == "CTO"
    assert data["person"]["id"] == first.json()["data"]["person"]["id"] and data["person"]["first_name"] == "Ada"

    missing = api(sl, "POST", "/person_upserts.json", json={"upsert_key": "crm_id", "email_address": "z@x.com"})
    assert missing.status_code == 422 and "crm_id" in missing.json()["errors"]
    no_key = api(sl, "POST", "/person_upserts.json", json={"email_address": "ada@example.com"})
    assert no_key.status_code == 422  # without upsert_key it only creates

    sandbox.app.update_settings({"salesloft_allow_duplicate_emails": True})
    assert api(sl, "POST", "/people.json", json={"email_address": "ada@example.com"}).status_code == 200
    ambiguous = api(sl, "POST", "/person_upserts.json", json={"upsert_key": "email_address",
                                                              "email_address": "ada@example.com"})
    assert ambiguous.status_code == 422


# -- accounts ------------------------------------------------------------------------------

def test_accounts_create_and_upsert_by_domain(sl):
    assert api(sl, "POST", "/accounts.json", json={"name": "Acme"}).status_code == 422
    acme = api(sl, "POST", "/accounts.json", json={"name": "Acme", "domain": "Acme.com"})
    assert acme.status_code == 200 and acme.json()["data"]["domain"] == "acme.com"
    clash = api(sl, "POST", "/accounts.json", json={"name": "Acme 2", "domain": "acme.com"})
    assert clash.status_code == 422 and clash.json()["errors"]["domain"] == ["has already been taken"]

    updated = api(sl, "POST", "/account_upserts.json", json={"upsert_key": "domain", "domain": "acme.com",
                                                             "name": "Acme Corp", "industry": "Anvils"}).json()["data"]
    assert updated["upsert_type"] == "update" and updated["account"]["id"] == acme.json()["data"]["id"]
    assert updated["account"]["industry"] == "Anvils"
    created = api(sl, "POST", "/account_upserts.json", json={"upsert_key": "domain", "domain": "globex.com",
                                                             "name": "Globex"}).json()["data"]
    assert created["upsert_type"] == "create"
    assert [a["name"] for a in api(sl, "GET", "/accounts.json", params={"domain": "globex.com"}).json()["data"]] == ["Globex"]

    person = api(sl, "POST", "/people.json", json={"email_address": "w@acme.com", "account_id": updated["account"]["id"]})
    assert person.json()["data"]["account"]["id"] == updated["account"]["id"]
    assert api(sl, "GET", f"/accounts/{updated['account']['id']}.json").json()["data"]["counts"]["people"] == 1
    assert api(sl, "DELETE", f"/accounts/{created['account']['id']}").status_code == 204


# -- cadences and memberships ------------------------------------------------------------------

def test_cadences_are_seeded(sl):
    cadences = api(sl, "GET", "/cadences.json", params={"per_page": 100}).json()["data"]
    assert len(cadences) >= 3
    addable = api(sl, "GET", "/cadences.json", params={"people_addable": "true"}).json()["data"]
    assert all(c["current_state"] == "active" for c in addable) and len(addable) < len(cadences)


def test_cadence_membership_lifecycle(sl):
    person = api(sl, "POST", "/people.json", json={"email_address": "ada@example.com"}).json()["data"]
    added = api(sl, "POST", "/cadence_memberships.json", params={"person_id": person["id"], "cadence_id": 10})
    assert added.status_code == 200
    membership = added.json()["data"]
    assert membership["currently_on_cadence"] is True and membership["cadence"]["id"] == 10

    again = api(sl, "POST", "/cadence_memberships.json", json={"person_id": person["id"], "cadence_id": 10})
    assert again.status_code == 422 and "already on this cadence" in again.json()["errors"]["base"][0]
    listed = api(sl, "GET", "/cadence_memberships.json", params={"person_id": person["id"], "cadence_id": 10,
                                                                  "currently_on_cadence": "true"}).json()["data"]
    assert [m["id"] for m in listed] == [membership["id"]]
    assert api(sl, "GET", "/people.json", params={"cadence_id": 10}).json()["data"][0]["id"] == person["id"]

    removed = api(sl, "DELETE", f"/cadence_memberships/{membership['id']}.json")
    assert removed.status_code == 204 and removed.content == b""
    assert api(sl, "GET", "/cadence_memberships.json", params={"person_id": person["id"],
                                                               "currently_on_cadence": "true"}).json()["data"] == []
    readded = api(sl, "POST", "/cadence_memberships.json", params={"person_id": person["id"], "cadence_id": 10})
    assert readded.json()["data"]["id"] == membership["id"]  # one record per person and cadence

    assert api(sl, "POST", "/cadence_memberships.json", params={"person_id": 424242, "cadence_id": 10}).status_code == 404
    archived = api(sl, "POST", "/cadence_memberships.json", params={"person_id": person["id"], "cadence_id": 13})
    assert archived.status_code == 422
    assert api(sl, "POST", "/cadence_memberships.json", json={"cadence_id": 10}).json()["errors"]["person_id"]


# -- activities -------------------------------------------------------------------------------

def test_calls_and_integration_activities(sl):
    person = api(sl, "POST", "/people.json", json={"email_address": "ada@example.com"}).json()["data"]
    call = api(sl, "POST", "/activities/calls.json", json={"person_id": person["id"], "duration": 61,
                                                           "disposition": "Connected", "notes": "Good chat"})
    assert call.status_code == 200 and call.json()["data"]["called_person"]["id"] == person["id"]
    assert len(api(sl, "GET", "/activities/calls.json", params={"person_id": person["id"]}).json()["data"]) == 1
    assert api(sl, "POST", "/activities/calls.json", json={}).status_code == 422

    done = api(sl, "POST", "/activities.json", json={"action_id": 501})
    assert done.status_code == 200 and done.json()["data"]["updated_at"]
    assert api(sl, "POST", "/activities.json", json={"action_id": 501}).status_code == 422
    assert api(sl, "POST", "/activities.json", json={"action_id": 503}).status_code == 422  # a phone action


# -- bulk jobs ------------------------------------------------------------------------------------

def test_bulk_job_state_machine(sandbox, sl):
    sandbox.app.update_settings({"salesloft_bulk_seconds": 300})  # far longer than a loaded machine takes
    assert api(sl, "POST", "/bulk_jobs", json={"type": "account/delete"}).status_code == 422
    job = api(sl, "POST", "/bulk_jobs", json={"type": "person/upsert", "name": "nightly"}).json()["data"]
    assert job["state"] == "open" and job["ready_to_execute"] is False
    rows = [{"email_address": "t1@example.com", "first_name": "T", "upsert_key": "email_address"},
            {"first_name": "No email", "upsert_key": "email_address"}]
    loaded = api(sl, "POST", f"/bulk_jobs/{job['id']}/job_data", json={"data": rows})
    assert loaded.json() == {"data": {"records": 2}}
    too_many = api(sl, "POST", f"/bulk_jobs/{job['id']}/job_data", json={"data": [{"email_address": "x@y.z"}] * 5001})
    assert too_many.status_code == 422
    assert api(sl, "GET", f"/bulk_jobs/{job['id']}/results").json()["data"] == []

    ready = api(sl, "PUT", f"/bulk_jobs/{job['id']}", json={"ready_to_execute": True}).json()["data"]
    assert ready["state"] == "executing" and ready["total"] == 2
    assert api(sl, "GET", f"/bulk_jobs/{job['id']}/results").json()["data"] == []
    assert api(sl, "POST", f"/bulk_jobs/{job['id']}/job_data", json={"data": rows}).status_code == 422
    assert api(sl, "PUT", f"/bulk_jobs/{job['id']}", json={"name": "late"}).status_code == 422

    assert api(sl, "GET", f"/bulk_jobs/{job['id']}").json()["data"]["state"] == "executing"
    sandbox.clock.advance(300)
    state = api(sl, "GET", f"/bulk_jobs/{job['id']}").json()["data"]
    assert state["state"] == "done"
    assert state["processed"] == 2 and state["errors"] == 1 and state["finished_at"]
    results = api(sl, "GET", f"/bulk_jobs/{job['id']}/results", params={"per_page": 100}).json()["data"]
    assert [r["status"] for r in results] == ["success", "error"]
    assert results[0]["resource"]["upsert_type"] == "create" and results[1]["error"]
    after = api(sl, "GET", f"/bulk_jobs/{job['id']}/results", params={"id[gt]": results[0]["id"]}).json()["data"]
    assert [r["id"] for r in after] == [results[1]["id"]]
    errors = api(sl, "GET", f"/bulk_jobs/{job['id']}/results", params={"status": "error"}).json()["data"]
    assert len(errors) == 1
    assert api(sl, "GET", "/people.json", params={"email_addresses": "t1@example.com"}).json()["data"]
    listed = api(sl, "GET", "/bulk_jobs", params={"state": "done"}).json()["data"]
    assert [j["id"] for j in listed] == [job["id"]]


# -- limits, faults, shapes -------------------------------------------------------------------------

def test_cost_budget_per_minute(sandbox, sl):
    sandbox.app.update_settings({"salesloft_cost_per_minute": 3})
    remaining = [api(sl, "GET", "/me.json").headers["x-ratelimit-remaining-minute"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    limited = api(sl, "GET", "/me.json")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert limited.json()["status"] == 429


def test_injected_faults_use_salesloft_shape(sandbox, sl):
    httpx.put(f"{sandbox.url}/_sandbox/faults", json={"error_rate": 1.0, "statuses": [503], "path": "/salesloft/v2/people"})
    failed = api(sl, "GET", "/people.json")
    assert failed.status_code == 503 and failed.json()["status"] == 503
    assert api(sl, "GET", "/me.json").status_code == 200
    counts = httpx.get(f"{sandbox.url}/_sandbox/requests").json()
    assert counts["providers"]["salesloft"] == 2 and counts["rules"]["GET /salesloft/v2/people.json"] == 1


def test_unknown_path_answers_salesloft_404(sl):
    assert api(sl, "GET", "/nothing_here.json").json() == {"status": 404, "error": "Not Found"}


def test_inspection_seed_and_read(sandbox, sl):
    seeded = httpx.post(f"{sandbox.url}/_sandbox/state/salesloft/people",
                        json=[{"email_address": "Seeded@example.com", "first_name": "Seed"}])
    assert seeded.status_code == 201
    found = api(sl, "GET", "/people.json", params={"email_addresses": "seeded@example.com"}).json()["data"]
    assert [p["display_name"] for p in found] == ["Seed"]
    docs = httpx.get(f"{sandbox.url}/_sandbox/state/salesloft/cadences").json()["data"]
    assert {d["id"] for d in docs} >= {10, 11, 12}


# -- the published spec ---------------------------------------------------------------------------------

def test_responses_match_the_published_spec(sandbox, sl):
    contract = published_or_skip("salesloft")
    sandbox.app.update_settings({"salesloft_bulk_seconds": 0})

    def check(method, path, response):
        assert response.status_code == 200, response.text
        assert (response.request.method, response.request.url.path) == (method, f"/salesloft{path}")
        assert contract.answer_problems(response) == []  # the sandbox's answer; our requests: tests/contract

    account = api(sl, "POST", "/accounts.json", json={"name": "Acme", "domain": "acme.com"})
    check("POST", "/v2/accounts.json", account)
    person = api(sl, "POST", "/people.json", json={"email_address": "ada@example.com", "account_id": account.json()["data"]["id"]})
    check("POST", "/v2/people.json", person)
    pid = person.json()["data"]["id"]
    check("GET", "/v2/people.json", api(sl, "GET", "/people.json"))
    check("GET", f"/v2/people/{pid}.json", api(sl, "GET", f"/people/{pid}.json"))
    check("POST", "/v2/person_upserts.json", api(sl, "POST", "/person_upserts.json",
                                                 json={"upsert_key": "email_address", "email_address": "ada@example.com"}))
    check("POST", "/v2/account_upserts.json", api(sl, "POST", "/account_upserts.json",
                                                  json={"upsert_key": "domain", "domain": "acme.com", "name": "Acme"}))
    check("GET", "/v2/accounts.json", api(sl, "GET", "/accounts.json"))
    check("GET", "/v2/cadences.json", api(sl, "GET", "/cadences.json"))
    check("GET", "/v2/cadences/10.json", api(sl, "GET", "/cadences/10.json"))
    membership = api(sl, "POST", "/cadence_memberships.json", params={"person_id": pid, "cadence_id": 10})
    check("POST", "/v2/cadence_memberships.json", membership)
    check("GET", "/v2/cadence_memberships.json", api(sl, "GET", "/cadence_memberships.json"))
    check("GET", "/v2/me.json", api(sl, "GET", "/me.json"))
    check("GET", "/v2/users.json", api(sl, "GET", "/users.json"))
    check("GET", "/v2/custom_fields.json", api(sl, "GET", "/custom_fields.json"))
    check("POST", "/v2/activities/calls.json", api(sl, "POST", "/activities/calls.json", json={"person_id": pid}))
    check("GET", "/v2/activities/calls.json", api(sl, "GET", "/activities/calls.json"))
    job = api(sl, "POST", "/bulk_jobs", json={"type": "person/upsert"})
    check("POST", "/v2/bulk_jobs", job)
    jid = job.json()["data"]["id"]
    check("POST", f"/v2/bulk_jobs/{jid}/job_data",
          api(sl, "POST", f"/bulk_jobs/{jid}/job_data", json={"data": [{"email_address": "b@x.com"}]}))
    check("PUT", f"/v2/bulk_jobs/{jid}", api(sl, "PUT", f"/bulk_jobs/{jid}", json={"ready_to_execute": True}))
    check("GET", f"/v2/bulk_jobs/{jid}", api(sl, "GET", f"/bulk_jobs/{jid}"))
    check("GET", f"/v2/bulk_jobs/{jid}/results", api(sl, "GET", f"/bulk_jobs/{jid}/results"))
    check("GET", "/v2/bulk_jobs", api(sl, "GET", "/bulk_jobs"))
