"""The HubSpot CRM v3 emulation, driven with plain httpx the way HubSpot's docs describe."""

import httpx
import pytest

from integrations.base import ProviderSession
from integrations.hubspot import bulk_source

from .oauth_flow import CALLBACK, consent

KEY = {"Authorization": "Bearer pat-na1-sandbox-private-app"}


@pytest.fixture
def hs(sandbox):
    return f"{sandbox.url}/hubspot"


def api(hs, method, path, headers=None, **kwargs):
    return httpx.request(method, f"{hs}/crm/v3{path}", headers={**KEY, **(headers or {})}, **kwargs)


def upsert(hs, kind, inputs, id_property="email"):
    return api(hs, "POST", f"/objects/{kind}/batch/upsert",
               json={"inputs": [{"idProperty": id_property, **item} for item in inputs]})


def contacts(n, start=0, **extra):
    return [{"id": f"person{i}@example.com", "properties": {"firstname": f"P{i}", **extra}}
            for i in range(start, start + n)]


# -- OAuth and authentication ----------------------------------------------------------------------

def test_oauth_dance_refresh_and_uninstall(hs):
    page, back = consent(f"{hs}/oauth/authorize", scope="oauth crm.objects.contacts.read")
    assert "HubSpot" in page and "crm.objects.contacts.read" in page and back["state"] == "st-123"
    form = {"grant_type": "authorization_code", "client_id": "sandbox-client", "client_secret": "sandbox-secret",
            "redirect_uri": CALLBACK, "code": back["code"]}
    tokens = httpx.post(f"{hs}/oauth/v1/token", data=form).json()
    assert tokens["token_type"] == "bearer" and tokens["token_use"] == "access_token"
    assert tokens["expires_in"] == 1800
    assert tokens["hub_id"] and tokens["scopes"] == ["oauth", "crm.objects.contacts.read"]
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

    listed = api(hs, "GET", "/objects/contacts", headers=bearer)
    assert listed.status_code == 200
    assert "X-HubSpot-RateLimit-Daily" not in listed.headers  # not sent on OAuth calls
    assert api(hs, "GET", "/objects/0-1", headers=bearer).status_code == 200  # objectTypeId spelling
    refused = api(hs, "POST", "/objects/contacts/batch/upsert", headers=bearer, json={"inputs": []})
    assert refused.status_code == 403 and refused.json()["category"] == "MISSING_SCOPES"

    info = httpx.get(f"{hs}/oauth/v1/access-tokens/{tokens['access_token']}").json()
    assert info["hub_domain"] and info["user"] and info["hub_id"] == tokens["hub_id"]

    refresh = {"grant_type": "refresh_token", "client_id": "sandbox-client", "client_secret": "sandbox-secret",
               "refresh_token": tokens["refresh_token"]}
    renewed = httpx.post(f"{hs}/oauth/v1/token", data=refresh).json()
    assert renewed["refresh_token"] == tokens["refresh_token"]  # HubSpot keeps the refresh token
    assert renewed["access_token"] != tokens["access_token"]

    wrong = httpx.post(f"{hs}/oauth/v1/token", data={**refresh, "client_secret": "nope"})
    assert wrong.status_code == 401 and wrong.json()["status"] == "BAD_CLIENT_ID"
    bad_refresh = httpx.post(f"{hs}/oauth/v1/token", data={**refresh, "refresh_token": "unknown"})
    assert bad_refresh.status_code == 400 and bad_refresh.json()["status"] == "BAD_REFRESH_TOKEN"

    assert httpx.delete(f"{hs}/oauth/v1/refresh-tokens/{tokens['refresh_token']}").status_code == 204
    gone = api(hs, "GET", "/objects/contacts", headers={"Authorization": f"Bearer {renewed['access_token']}"})
    assert gone.status_code == 401 and gone.json()["category"] == "INVALID_AUTHENTICATION"
    assert httpx.post(f"{hs}/oauth/v1/token", data=refresh).status_code == 400


def test_private_app_token_and_missing_credentials(hs):
    answer = api(hs, "GET", "/objects/contacts", params={"limit": 1})
    assert answer.status_code == 200
    assert answer.headers["X-HubSpot-RateLimit-Max"] == "100"
    assert answer.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert int(answer.headers["X-HubSpot-RateLimit-Remaining"]) < 100
    assert answer.headers["X-HubSpot-RateLimit-Daily"] == "250000"
    missing = httpx.get(f"{hs}/crm/v3/objects/contacts")
    assert missing.status_code == 401
    assert {"status", "message", "correlationId", "category"} <= set(missing.json())


# -- properties and listing ----------------------------------------------------------------------

def test_properties(hs):
    body = api(hs, "GET", "/properties/contacts", params={"archived": "false"}).json()
    by_name = {p["name"]: p for p in body["results"]}
    assert by_name["email"]["type"] == "string" and by_name["lifecyclestage"]["options"]
    assert by_name["lastmodifieddate"]["modificationMetadata"]["readOnlyValue"] is True
    for prop in body["results"]:
        assert {"name", "label", "type", "fieldType", "groupName", "description", "options"} <= set(prop)
    companies = api(hs, "GET", "/properties/0-2").json()["results"]
    assert "domain" in {p["name"] for p in companies}
    deals = {p["name"]: p for p in api(hs, "GET", "/properties/deals").json()["results"]}
    assert deals["amount"]["type"] == "number" and deals["dealstage"]["options"]
    assert api(hs, "GET", "/properties/spaceships").status_code == 404
    assert api(hs, "GET", "/schemas").json() == {"results": []}


def test_list_pages_with_after(hs):
    assert upsert(hs, "contacts", contacts(25)).status_code == 200
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 10, "properties": "email,firstname"}
        if after:
            params["after"] = after
        page = api(hs, "GET", "/objects/contacts", params=params).json()
        pages += 1
        seen += page["results"]
        after = (page.get("paging") or {}).get("next", {}).get("after")
        if not after:
            break
    assert pages == 3 and len(seen) == 27  # two seeded contacts
    assert len({r["id"] for r in seen}) == 27
    first = seen[0]
    assert set(first["properties"]) >= {"email", "firstname", "hs_object_id", "createdate", "lastmodifieddate"}
    assert first["properties"]["hs_object_id"] == first["id"] and first["archived"] is False


# -- batch writes --------------------------------------------------------------------------------------

def test_batch_upsert_creates_then_updates_by_email(sandbox, hs):
    created = upsert(hs, "contacts", contacts(3, lifecyclestage="lead"))
    assert created.status_code == 200
    body = created.json()
    assert body["status"] == "COMPLETE" and all(r["new"] for r in body["results"])
    again = upsert(hs, "contacts", [{"id": "PERSON1@example.com", "properties": {"lastname": "Changed"}}]).json()
    assert again["results"][0]["new"] is False
    assert again["results"][0]["id"] == body["results"][1]["id"]
    stored = {d["properties"]["email"]: d for d in
              httpx.get(f"{sandbox.url}/_sandbox/state/hubspot/contacts").json()["data"]}
    assert stored["person1@example.com"]["properties"]["lastname"] == "Changed"
    assert stored["person1@example.com"]["properties"]["firstname"] == "P1"


def test_batch_upsert_reports_each_refused_input(hs):
    inputs = [
        {"id": "ok@example.com", "properties": {"firstname": "Ok"}, "objectWriteTraceId": "0"},
        {"id": "bad@example.com", "properties": {"lifecyclestage": "royalty"}, "objectWriteTraceId": "1"},
        {"id": "worse@example.com", "properties": {"nope": "x"}, "objectWriteTraceId": "2"},
        {"id": "not-an-email", "properties": {}, "objectWriteTraceId": "3"},
    ]
    answer = upsert(hs, "contacts", inputs)
    assert answer.status_code == 207
    body = answer.json()
    assert [r["objectWriteTraceId"] for r in body["results"]] == ["0"]
    assert body["numErrors"] == 3
    errors = {e["context"]["objectWriteTraceId"][0]: e for e in body["errors"]}
    assert errors["1"]["category"] == "VALIDATION_ERROR" and errors["1"]["errors"][0]["code"] == "INVALID_OPTION"
    assert "royalty was not one of the allowed options" in errors["1"]["message"]
    assert errors["2"]["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert errors["3"]["errors"][0]["code"] == "INVALID_EMAIL"


def test_batch_limits_and_id_properties(hs):
    too_many = upsert(hs, "contacts", contacts(101))
    assert too_many.status_code == 400 and too_many.json()["category"] == "VALIDATION_ERROR"
    twice = upsert(hs, "contacts", [{"id": "a@example.com", "properties": {}},
                                    {"id": "A@example.com", "properties": {}}])
    assert twice.status_code == 400 and "Duplicate IDs" in twice.json()["message"]
    by_domain = upsert(hs, "companies", [{"id": "acme.example", "properties": {"name": "Acme"}}], "domain")
    assert by_domain.status_code == 400  # a company's domain is not a unique property
    by_external = upsert(hs, "companies", [{"id": "ext-1", "properties": {"name": "Acme"}}], "external_id")
    assert by_external.status_code == 200 and by_external.json()["results"][0]["new"] is True


def test_batch_create_update_and_read(hs):
    created = api(hs, "POST", "/objects/companies/batch/create", json={"inputs": [
        {"properties": {"name": "Acme", "domain": "acme.example", "numberofemployees": 12}},
        {"properties": {"name": "Bad", "numberofemployees": "many"}, "objectWriteTraceId": "b"},
    ]})
    assert created.status_code == 207
    body = created.json()
    company_id = body["results"][0]["id"]
    assert body["results"][0]["properties"]["numberofemployees"] == "12"
    assert body["errors"][0]["errors"][0]["code"] == "INVALID_LONG"

    clash = api(hs, "POST", "/objects/contacts/batch/create",
                json={"inputs": [{"properties": {"email": "ada@lovelace.example"}}]})
    assert clash.status_code == 207 and clash.json()["errors"][0]["category"] == "CONFLICT"
    assert "Contact already exists. Existing ID:" in clash.json()["errors"][0]["message"]
    fine = api(hs, "POST", "/objects/contacts/batch/create",
               json={"inputs": [{"properties": {"email": "new@example.com"}}]})
    assert fine.status_code == 201

    updated = api(hs, "POST", "/objects/companies/batch/update", json={"inputs": [
        {"id": company_id, "properties": {"name": "Acme Inc", "numberofemployees": ""}},
        {"id": "999999", "properties": {"name": "Ghost"}},
    ]})
    assert updated.status_code == 207
    assert updated.json()["results"][0]["properties"]["name"] == "Acme Inc"
    assert updated.json()["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert updated.json()["errors"][0]["context"]["ids"] == ["999999"]

    read = api(hs, "POST", "/objects/contacts/batch/read", json={
        "idProperty": "email", "inputs": [{"id": "ada@lovelace.example"}, {"id": "nobody@example.com"}],
        "properties": ["email", "firstname"], "propertiesWithHistory": []})
    assert read.status_code == 207
    body = read.json()
    assert body["results"][0]["properties"]["firstname"] == "Ada"
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"]["ids"] == ["nobody@example.com"]
    single = api(hs, "GET", "/objects/companies/" + company_id, params={"properties": "name,numberofemployees"})
    assert single.json()["properties"]["numberofemployees"] is None


def test_archive_and_list_archived(hs):
    created = upsert(hs, "contacts", contacts(2)).json()["results"]
    assert api(hs, "DELETE", f"/objects/contacts/{created[0]['id']}").status_code == 204
    archived = api(hs, "GET", "/objects/contacts", params={"archived": "true"}).json()["results"]
    assert [a["id"] for a in archived] == [created[0]["id"]] and archived[0]["archived"] is True
    live = api(hs, "GET", "/objects/contacts", params={"limit": 100}).json()["results"]
    assert created[0]["id"] not in {r["id"] for r in live}


# -- search -------------------------------------------------------------------------------------------

def test_search_on_last_modified_pages_oldest_first(hs):
    first = upsert(hs, "contacts", contacts(5)).json()["results"]
    since = first[0]["properties"]["lastmodifieddate"]
    upsert(hs, "contacts", contacts(5, start=5))
    body = {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GT",
                                           "value": str(bulk_source.epoch_ms(since))}]}],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "properties": ["email"], "limit": 3}
    page = api(hs, "POST", "/objects/contacts/search", json=body).json()
    assert page["total"] == 5 and page["paging"]["next"]["after"] == "3"
    rest = api(hs, "POST", "/objects/contacts/search", json={**body, "after": "3"}).json()
    assert "paging" not in rest
    emails = {r["properties"]["email"] for r in page["results"] + rest["results"]}
    assert emails == {f"person{i}@example.com" for i in range(5, 10)}
    too_deep = api(hs, "POST", "/objects/contacts/search", json={**body, "after": "10000"})
    assert too_deep.status_code == 400


def test_search_by_email_and_domain(hs):
    found = api(hs, "POST", "/objects/contacts/search", json={"filterGroups": [{"filters": [
        {"propertyName": "email", "operator": "IN", "values": ["ada@lovelace.example", "x@y.example"]}]}]}).json()
    assert [r["properties"]["email"] for r in found["results"]] == ["ada@lovelace.example"]
    companies = api(hs, "POST", "/objects/companies/search", json={"filterGroups": [{"filters": [
        {"propertyName": "domain", "operator": "EQ", "value": "hopper.example"}]}], "properties": ["domain"]}).json()
    assert companies["total"] == 1 and companies["results"][0]["properties"]["domain"] == "hopper.example"


# -- lists ----------------------------------------------------------------------------------------------

def test_lists_and_memberships(hs):
    found = api(hs, "POST", "/lists/search", json={"query": "", "offset": 0, "count": 100,
                                                   "processingTypes": ["MANUAL", "SNAPSHOT"]}).json()
    assert {item["name"] for item in found["lists"]} == {"Newsletter subscribers", "Target accounts"}
    assert found["hasMore"] is False
    created = api(hs, "POST", "/lists", json={"name": "Synced audience", "objectTypeId": "0-1",
                                              "processingType": "MANUAL"}).json()["list"]
    ids = [r["id"] for r in upsert(hs, "contacts", contacts(2)).json()["results"]]
    added = api(hs, "PUT", f"/lists/{created['listId']}/memberships/add", json=ids + ["424242"]).json()
    assert sorted(added["recordsIdsAdded"]) == sorted(ids) and added["recordIdsMissing"] == ["424242"]
    removed = api(hs, "PUT", f"/lists/{created['listId']}/memberships/remove", json=[ids[0]]).json()
    assert removed["recordIdsRemoved"] == [ids[0]]
    members = api(hs, "GET", f"/lists/{created['listId']}/memberships").json()
    assert [m["recordId"] for m in members["results"]] == [ids[1]]
    assert api(hs, "GET", f"/lists/{created['listId']}").json()["list"]["size"] == 1


# -- rate limits and faults ------------------------------------------------------------------------------

def test_ten_second_budget_answers_429(sandbox, hs):
    sandbox.app.update_settings({"hubspot_requests_per_10s": 2})
    assert api(hs, "GET", "/objects/contacts").status_code == 200
    assert api(hs, "GET", "/objects/contacts").status_code == 200
    refused = api(hs, "GET", "/objects/contacts")
    assert refused.status_code == 429
    assert refused.json()["policyName"] == "TEN_SECONDLY_ROLLING" and refused.json()["errorType"] == "RATE_LIMIT"
    assert refused.headers["X-HubSpot-RateLimit-Remaining"] == "0" and int(refused.headers["Retry-After"]) >= 1


def test_injected_429_in_hubspot_shape(sandbox, hs):
    httpx.put(f"{sandbox.url}/_sandbox/faults", json={"burst_429": 1, "path": "/hubspot/"})
    refused = api(hs, "GET", "/objects/contacts")
    assert refused.status_code == 429 and refused.json()["category"] == "RATE_LIMITS"
    assert api(hs, "GET", "/objects/contacts").status_code == 200


# -- the bulk-sync source reads the sandbox --------------------------------------------------------------

def test_bulk_source_reads_full_and_incremental(sandbox, hs):
    http = httpx.Client(base_url=hs, headers=KEY)
    session = ProviderSession(config={"use_search_api": True}, http=http)
    assert [o["id"] for o in bulk_source.objects(session)] == ["contacts", "companies", "deals"]
    assert {"id", "email", "lastmodifieddate"} <= {f["id"] for f in bulk_source.fields(session, "contacts")}
    assert upsert(hs, "contacts", contacts(100)).status_code == 200
    assert upsert(hs, "contacts", contacts(20, start=100)).status_code == 200
    read = bulk_source.Read(session, "contacts", ["email", "firstname"])
    rows = [row for batch in read for row in batch]
    assert len(rows) == 122 and read.cursor

    upsert(hs, "contacts", [{"id": "person7@example.com", "properties": {"firstname": "Seven"}}])
    later = bulk_source.Read(session, "contacts", ["email", "firstname"], since=read.cursor)
    changed = [row for batch in later for row in batch]
    assert [(r["email"], r["firstname"]) for r in changed] == [("person7@example.com", "Seven")]
    http.close()


# -- HubSpot's own SDK reads every answer ------------------------------------------------------------

def test_official_sdk_models_accept_the_answers(sandbox, hs):
    """hubspot-api-client is generated from HubSpot's OpenAPI specs; with client-side validation on,
    its models refuse answers that miss required fields or use unknown enum values."""
    pytest.importorskip("hubspot")
    from hubspot import HubSpot
    from hubspot.crm import contacts as models

    client = HubSpot(access_token="sandbox-api-key", host=hs, client_side_validation=True)
    upserted = client.crm.contacts.batch_api.upsert(models.BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
        models.SimplePublicObjectBatchInputUpsert(id="x@example.com", id_property="email",
                                                  properties={"firstname": "X"}),
        models.SimplePublicObjectBatchInputUpsert(id="ada@lovelace.example", id_property="email",
                                                  properties={"lifecyclestage": "royalty"})]))
    assert upserted.status == "COMPLETE" and upserted.results[0].new is True and upserted.num_errors == 1
    read = client.crm.contacts.batch_api.read(models.BatchReadInputSimplePublicObjectId(
        id_property="email", inputs=[models.SimplePublicObjectId(id="x@example.com"),
                                     models.SimplePublicObjectId(id="no@example.com")],
        properties=["email"], properties_with_history=[]))
    assert read.results[0].properties["email"] == "x@example.com" and read.errors[0].category == "OBJECT_NOT_FOUND"
    created = client.crm.contacts.batch_api.create(models.BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[models.SimplePublicObjectBatchInputForCreate(properties={"email": "y@example.com"}, associations=[])]))
    updated = client.crm.contacts.batch_api.update(models.BatchInputSimplePublicObjectBatchInput(
        inputs=[models.SimplePublicObjectBatchInput(id=created.results[0].id, properties={"firstname": "Y"})]))
    assert updated.results[0].properties["firstname"] == "Y"
    page = client.crm.contacts.basic_api.get_page(limit=2, properties=["email"])
    assert len(page.results) == 2 and page.paging.next.after
    found = client.crm.contacts.search_api.do_search(models.PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "lastmodifieddate", "operator": "GT", "value": "0"}]}],
        sorts=["lastmodifieddate"], properties=["email"], limit=2))
    assert found.total == 4 and len(found.results) == 2
    assert len(client.crm.properties.core_api.get_all("companies").results) > 5
    lists = client.crm.lists.lists_api.do_search({"query": "", "count": 10, "offset": 0,
                                                  "processingTypes": ["MANUAL"]})
    assert [item.name for item in lists.lists] == ["Newsletter subscribers"]
    listed = client.crm.lists.lists_api.get_by_id(lists.lists[0].list_id)
    added = client.crm.lists.memberships_api.add(listed.list.list_id, [read.results[0].id])
    assert added.records_ids_added == [read.results[0].id]
