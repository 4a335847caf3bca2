"""The Salesforce emulation, driven with plain httpx the way the REST API and Bulk API 2.0 guides describe."""

import base64
import csv
import hashlib
import io
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from integrations.salesforce import bulk_source
from integrations.base import ProviderSession

from .oauth_flow import CALLBACK, consent

KEY = {"Authorization": "Bearer sandbox-api-key"}
V = "/services/data/v62.0"


@pytest.fixture
def sf(sandbox):
    return f"{sandbox.url}/salesforce"


def api(sf, method, path, **kwargs):
    headers = {**KEY, **kwargs.pop("headers", {})}
    return httpx.request(method, f"{sf}{V}{path}", headers=headers, **kwargs)


def query(sf, soql, endpoint="query", **kwargs):
    return api(sf, "GET", f"/{endpoint}", params={"q": soql}, **kwargs)


def contact(last, email=None, **fields):
    record = {"attributes": {"type": "Contact"}, "LastName": last, **fields}
    if email:
        record["Email"] = email
    return record


# -- OAuth ---------------------------------------------------------------------------

def exchange(sf, code, **overrides):
    form = {"grant_type": "authorization_code", "code": code, "client_id": "sandbox-client",
            "client_secret": "sandbox-secret", "redirect_uri": CALLBACK, **overrides}
    return httpx.post(f"{sf}/services/oauth2/token", data=form)


def test_web_server_flow_names_the_instance_url(sf):
    page, back = consent(f"{sf}/services/oauth2/authorize", scope="api refresh_token")
    assert "Salesforce" in page and "refresh_token" in page and back["state"] == "st-123"
    answer = exchange(sf, back["code"])
    assert answer.status_code == 200
    tokens = answer.json()
    assert tokens["instance_url"] == sf and tokens["token_type"] == "Bearer"
    assert "expires_in" not in tokens and tokens["refresh_token"] and tokens["issued_at"].isdigit()
    assert tokens["id"].startswith(f"{sf}/id/00D")
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    listed = httpx.get(f"{tokens['instance_url']}{V}/sobjects", headers=bearer)
    assert listed.status_code == 200 and listed.headers["Sforce-Limit-Info"].startswith("api-usage=")
    who = httpx.get(tokens["id"], headers=bearer).json()
    assert who["username"] == "admin@sandbox.example"


def test_refresh_keeps_the_refresh_token_and_expiry_answers_invalid_session(sandbox, sf):
    tokens = exchange(sf, consent(f"{sf}/services/oauth2/authorize")[1]["code"]).json()
    httpx.post(f"{sandbox.url}/_sandbox/oauth/salesforce/expire-tokens")
    expired = httpx.get(f"{sf}{V}/sobjects", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert expired.status_code == 401
    assert expired.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": "sandbox-client",
            "client_secret": "sandbox-secret"}
    renewed = httpx.post(f"{sf}/services/oauth2/token", data=form).json()
    assert "refresh_token" not in renewed and renewed["instance_url"] == sf
    again = httpx.post(f"{sf}/services/oauth2/token", data=form)  # not rotated: still valid
    assert again.status_code == 200
    bearer = {"Authorization": f"Bearer {again.json()['access_token']}"}
    assert httpx.get(f"{sf}{V}/sobjects", headers=bearer).status_code == 200
    httpx.post(f"{sf}/services/oauth2/revoke", data={"token": tokens["refresh_token"]})
    refused = httpx.post(f"{sf}/services/oauth2/token", data=form)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert httpx.get(f"{sf}{V}/sobjects", headers=bearer).status_code == 401


def test_token_refusals(sf):
    code = consent(f"{sf}/services/oauth2/authorize")[1]["code"]
    wrong_secret = exchange(sf, code, client_secret="nope")
    assert wrong_secret.status_code == 400 and wrong_secret.json()["error"] == "invalid_client"
    wrong_redirect = exchange(sf, code, redirect_uri="http://127.0.0.1:8000/elsewhere")
    assert wrong_redirect.status_code == 400 and wrong_redirect.json()["error"] == "invalid_grant"
    denied = consent(f"{sf}/services/oauth2/authorize", decision="deny")[1]
    assert denied["error"] == "access_denied"


def test_pkce_code_verifier_must_match_the_challenge(sf):
    verifier = "a-long-random-verifier-string-of-at-least-43-characters-xyz"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    authorize = f"{sf}/services/oauth2/authorize"
    params = {"response_type": "code", "client_id": "sandbox-client", "redirect_uri": CALLBACK, "state": "s",
              "code_challenge": challenge, "code_challenge_method": "S256"}
    assert httpx.get(authorize, params=params).status_code == 200

    def code():
        answer = httpx.post(authorize, data={**params, "decision": "allow"})
        return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]

    wrong = exchange(sf, code(), code_verifier="something-else")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert exchange(sf, code()).status_code == 400  # no verifier at all
    assert exchange(sf, code(), code_verifier=verifier).status_code == 200


def test_client_credentials_flow(sf):
    answer = httpx.post(f"{sf}/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "sandbox-client", "client_secret": "sandbox-secret"})
    assert answer.status_code == 200 and answer.json()["instance_url"] == sf
    assert "refresh_token" not in answer.json()


# -- describe ------------------------------------------------------------------------

def test_describe_global_and_objects(sf):
    listed = api(sf, "GET", "/sobjects").json()
    assert listed["maxBatchSize"] == 200
    names = {s["name"]: s for s in listed["sobjects"]}
    assert {"Lead", "Contact", "Account", "Customer_Score__c"} <= set(names)
    assert names["Customer_Score__c"]["custom"] is True
    assert names["Contact"]["urls"]["describe"] == f"{V}/sobjects/Contact/describe"

    contact_fields = {f["name"]: f for f in api(sf, "GET", "/sobjects/Contact/describe").json()["fields"]}
    assert contact_fields["Email"]["idLookup"] is True and contact_fields["Email"]["externalId"] is False
    assert contact_fields["External_Id__c"]["externalId"] is True
    assert contact_fields["LastName"]["nillable"] is False
    custom = api(sf, "GET", "/sobjects/customer_score__c/describe").json()
    assert custom["name"] == "Customer_Score__c" and any(f["name"] == "Tier__c" for f in custom["fields"])

    unchanged = api(sf, "GET", "/sobjects/Contact/describe", headers={"If-Modified-Since": "Tue, 01 Sep 2026 00:00:00 GMT"})
    assert unchanged.status_code == 304 and unchanged.content == b""
    older = api(sf, "GET", "/sobjects/Contact/describe", headers={"If-Modified-Since": "Wed, 01 Jan 2025 00:00:00 GMT"})
    assert older.status_code == 200
    missing = api(sf, "GET", "/sobjects/Nope__c/describe")
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"
    assert api(sf, "GET", "/sobjects", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(f"{sf}/services/data/v12.0/sobjects", headers=KEY).status_code == 404


# -- SOQL ------------------------------------------------------------------------------

def test_query_with_relationships_and_errors(sf):
    found = query(sf, "SELECT Id, Email, Account.Name FROM Contact WHERE Email = 'ADA@acme.example'").json()
    assert found["totalSize"] == 1 and found["done"] is True
    record = found["records"][0]
    assert record["attributes"]["type"] == "Contact" and record["Id"].startswith("003") and len(record["Id"]) == 18
    assert record["Account"]["Name"] == "Acme Corporation"
    emails = query(sf, "SELECT Email FROM Contact WHERE Email IN ('grace@globex.example', 'alan@initech.example') "
                       "ORDER BY Email").json()
    assert [r["Email"] for r in emails["records"]] == ["alan@initech.example", "grace@globex.example"]
    count = query(sf, "SELECT COUNT() FROM Lead").json()
    assert count["totalSize"] == 3 and count["records"] == []

    bad = query(sf, "SELECT Id FROM Contact WHERE")
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "MALFORMED_QUERY"
    no_column = query(sf, "SELECT Nope FROM Contact")
    assert no_column.status_code == 400 and no_column.json()[0]["errorCode"] == "INVALID_FIELD"


def test_query_pages_follow_next_records_url(sf):
    records = [contact(f"Person {i}", f"p{i}@example.com") for i in range(200)]
    for start in (0, 200):
        answer = api(sf, "POST", "/composite/sobjects",
                     json={"records": [contact(f"P{start + i}", f"q{start + i}@example.com") for i in range(200)]})
        assert all(r["success"] for r in answer.json())
    assert records
    first = query(sf, "SELECT Id, Email FROM Contact ORDER BY Id", headers={"Sforce-Query-Options": "batchSize=250"})
    body = first.json()
    assert body["totalSize"] == 404 and body["done"] is False and len(body["records"]) == 250
    assert body["nextRecordsUrl"].startswith(f"{V}/query/01g")
    second = httpx.get(sf + body["nextRecordsUrl"], headers=KEY).json()
    assert second["done"] is True and "nextRecordsUrl" not in second and len(second["records"]) == 154
    ids = [r["Id"] for r in body["records"] + second["records"]]
    assert len(set(ids)) == 404
    bad = httpx.get(f"{sf}{V}/query/01gXXXXXXXXXXXX-2000", headers=KEY)
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_all_returns_deleted_records_and_modstamp_filters(sf):
    made = api(sf, "POST", "/composite/sobjects", json={"records": [contact("Gone", "gone@example.com")]}).json()
    gone = made[0]["id"]
    deleted = api(sf, "DELETE", "/composite/sobjects", params={"ids": gone}).json()
    assert deleted == [{"id": gone, "success": True, "errors": []}]
    live = query(sf, "SELECT Id FROM Contact WHERE Email = 'gone@example.com'").json()
    assert live["totalSize"] == 0
    everything = query(sf, "SELECT Id, IsDeleted FROM Contact WHERE Email = 'gone@example.com'", "queryAll").json()
    assert everything["records"][0]["IsDeleted"] is True
    recent = query(sf, "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > 2026-01-06T00:00:00.000Z "
                       "ORDER BY SystemModstamp ASC", "queryAll").json()
    assert [r["Id"] for r in recent["records"]] == [gone]
    assert recent["records"][0]["SystemModstamp"].endswith("+0000")


def test_a_full_export_is_ordered_as_a_filtered_query_is(sf):
    names = ["beta", "Alpha", None, "gamma", "alpha"]
    made = api(sf, "POST", "/composite/sobjects", json={"records": [
        contact(f"Sort {n}", f"sort{n}@example.com", Title=title) for n, title in enumerate(names)]}).json()
    api(sf, "DELETE", "/composite/sobjects", params={"ids": made[3]["id"]})  # gamma
    for order in ("Title ASC", "Title DESC", "Title ASC NULLS LAST", "Title DESC NULLS FIRST, Email DESC"):
        # no WHERE: ordered inside sqlite; with one: by the evaluator over decoded records
        export = query(sf, f"SELECT Id, Title FROM Contact ORDER BY {order}").json()["records"]
        filtered = query(sf, f"SELECT Id, Title FROM Contact WHERE Email LIKE 'sort%' ORDER BY {order}").json()
        mine = [r["Title"] for r in export if r["Id"] in {m["id"] for m in made}]
        assert mine == [r["Title"] for r in filtered["records"]]
        assert len(mine) == 4 and "gamma" not in mine
    ascending = query(sf, "SELECT Id, Title FROM Contact ORDER BY Title ASC NULLS LAST").json()["records"]
    assert [r["Title"] for r in ascending if r["Title"] in names][:3] == ["Alpha", "alpha", "beta"]
    everything = query(sf, "SELECT Id, Title FROM Contact ORDER BY Title DESC", "queryAll").json()["records"]
    assert [r["Title"] for r in everything if r["Id"] == made[3]["id"]] == ["gamma"]


def test_bulk_source_reads_through_the_sandbox(sandbox, sf):
    """integrations/salesforce/bulk_source.py is this sandbox's client: objects, fields and incremental reads."""
    http = httpx.Client(base_url=f"{sf}{V}/", headers=KEY)
    session = ProviderSession(config={}, http=http)
    assert {"id": "Contact", "name": "Contact"} in bulk_source.objects(session)
    fields = {f["id"]: f for f in bulk_source.fields(session, "Contact")}
    assert fields["Id"]["is_primary_key"] and fields["SystemModstamp"]["type"] == "datetime"
    api(sf, "POST", "/composite/sobjects",
        json={"records": [contact(f"Bulk {i}", f"bulk{i}@example.com") for i in range(150)]})
    read = bulk_source.Read(session, "Contact", ["Email", "LastName", "SystemModstamp"])
    batches = list(read)
    assert sum(len(b) for b in batches) == 154
    assert read.cursor and read.cursor.endswith("+0000")
    cursor = read.cursor
    changed = query(sf, "SELECT Id FROM Contact WHERE Email = 'bulk3@example.com'").json()["records"][0]["Id"]
    time.sleep(0.01)
    api(sf, "PATCH", "/composite/sobjects",
        json={"records": [{"attributes": {"type": "Contact"}, "id": changed, "Title": "CTO"}]})
    api(sf, "DELETE", "/composite/sobjects", params={"ids": changed})
    later = [r for b in bulk_source.Read(session, "Contact", ["Email", "SystemModstamp"], since=cursor) for r in b]
    assert [(r["Id"], r["_deleted"]) for r in later] == [(changed, True)]
    http.close()


# -- sObject collections -------------------------------------------------------------

def test_collection_insert_and_update_with_per_record_errors(sf):
    answer = api(sf, "POST", "/composite/sobjects", json={"allOrNone": False, "records": [
        contact("Lamport", "leslie@example.com", Title="Researcher"),
        {"attributes": {"type": "Contact"}, "Email": "nolast@example.com"},
        contact("Bad", "not-an-email"),
        {"attributes": {"type": "Lead"}, "LastName": "Knuth", "Company": "Stanford"},
        contact("Readonly", "ro@example.com", IsDeleted=True),
    ]})
    assert answer.status_code == 200
    results = answer.json()
    assert results[0]["success"] and results[0]["id"].startswith("003") and results[0]["errors"] == []
    assert results[1] == {"success": False, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING",
                                                        "message": "Required fields are missing: [LastName]",
                                                        "fields": ["LastName"]}]}
    assert results[2]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert results[3]["success"] and results[3]["id"].startswith("00Q")
    assert results[4]["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"

    updated = api(sf, "PATCH", "/composite/sobjects", json={"records": [
        {"attributes": {"type": "Contact"}, "id": results[0]["id"], "Title": "Turing Award", "Email": None},
        {"attributes": {"type": "Contact"}, "id": "003000000000000AAA", "Title": "x"},
        {"attributes": {"type": "Contact"}, "Title": "no id"},
    ]}).json()
    assert updated[0] == {"id": results[0]["id"], "success": True, "errors": []}
    assert updated[1]["errors"][0]["statusCode"] in ("INVALID_CROSS_REFERENCE_KEY", "MALFORMED_ID")
    assert updated[2]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    record = api(sf, "GET", f"/sobjects/Contact/{results[0]['id']}").json()
    assert record["Title"] == "Turing Award" and record["Email"] is None and record["Name"] == "Lamport"


def test_collection_limits_and_malformed_requests(sf):
    too_many = api(sf, "POST", "/composite/sobjects", json={"records": [contact(f"n{i}") for i in range(201)]})
    assert too_many.status_code == 400 and too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    untyped = api(sf, "POST", "/composite/sobjects", json={"records": [{"LastName": "x"}]})
    assert untyped.status_code == 400 and untyped.json()[0]["errorCode"] == "INVALID_TYPE"
    unknown = api(sf, "POST", "/composite/sobjects", json={"records": [contact("x", Nope__c=1)]})
    assert unknown.status_code == 400 and unknown.json()[0]["errorCode"] == "INVALID_FIELD"


def test_all_or_none_rolls_everything_back(sf):
    results = api(sf, "POST", "/composite/sobjects", json={"allOrNone": True, "records": [
        contact("Kept?", "kept@example.com"), contact("Broken", "broken")]}).json()
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert query(sf, "SELECT COUNT() FROM Contact WHERE Email = 'kept@example.com'").json()["totalSize"] == 0


def test_upsert_on_an_external_id(sf):
    path = "/composite/sobjects/Contact/External_Id__c"
    first = api(sf, "PATCH", path, json={"records": [
        contact("Hopper", External_Id__c="EXT-1"), contact("Liskov", External_Id__c="EXT-2")]}).json()
    assert [r["created"] for r in first] == [True, True]
    second = api(sf, "PATCH", path, json={"records": [
        contact("Hopper", External_Id__c="ext-1", Title="Admiral"), contact("Dup", External_Id__c="EXT-3"),
        contact("Dup", External_Id__c="EXT-3"), contact("No ext")]}).json()
    assert second[0] == {"id": first[0]["id"], "success": True, "errors": [], "created": False}
    assert second[1]["errors"] == [{"statusCode": "DUPLICATE_VALUE", "message": "Duplicate external id specified: EXT-3",
                                    "fields": ["External_Id__c"]}]
    assert second[2]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    assert second[3]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    assert api(sf, "GET", f"/sobjects/Contact/{first[0]['id']}").json()["Title"] == "Admiral"

    by_email = api(sf, "PATCH", "/composite/sobjects/Contact/Email", json={"records": [contact("x")]})
    assert by_email.status_code == 400 and by_email.json()[0]["errorCode"] == "INVALID_FIELD"
    unknown = api(sf, "PATCH", "/composite/sobjects/Contact/Nope__c", json={"records": [contact("x")]})
    assert unknown.status_code == 404
    single = api(sf, "PATCH", "/sobjects/Contact/External_Id__c/EXT-9", json={"LastName": "Single"})
    assert single.status_code == 201 and single.json()["created"] is True
    again = api(sf, "PATCH", "/sobjects/Contact/External_Id__c/EXT-9", json={"LastName": "Single 2"})
    assert again.status_code == 200 and again.json()["created"] is False


def test_converted_leads_and_restricted_picklists_refuse_writes(sf):
    converted = query(sf, "SELECT Id FROM Lead WHERE IsConverted = true").json()["records"][0]["Id"]
    refused = api(sf, "PATCH", "/composite/sobjects", json={"records": [
        {"attributes": {"type": "Lead"}, "id": converted, "Title": "x"}]}).json()
    assert refused[0]["errors"][0]["statusCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    score = api(sf, "POST", "/composite/sobjects", json={"records": [
        {"attributes": {"type": "Customer_Score__c"}, "Name": "s", "Tier__c": "Diamond"}]}).json()
    assert score[0]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


# -- Bulk API 2.0 ----------------------------------------------------------------------

def run_job(sandbox, sf, job, data):
    sandbox.app.update_settings({"salesforce_bulk_seconds": 0})
    created = api(sf, "POST", "/jobs/ingest", json={"contentType": "CSV", "lineEnding": "LF", **job})
    assert created.status_code == 200, created.text
    info = created.json()
    assert info["state"] == "Open" and info["contentUrl"].endswith(f"/jobs/ingest/{info['id']}/batches")
    upload = api(sf, "PUT", f"/jobs/ingest/{info['id']}/batches", content=data.encode(),
                 headers={"Content-Type": "text/csv"})
    assert upload.status_code == 201
    closed = api(sf, "PATCH", f"/jobs/ingest/{info['id']}", json={"state": "UploadComplete"})
    assert closed.json()["state"] == "UploadComplete"
    for _ in range(50):
        state = api(sf, "GET", f"/jobs/ingest/{info['id']}").json()
        if state["state"] in ("JobComplete", "Failed", "Aborted"):
            return state
        time.sleep(0.05)
    raise AssertionError("the job never finished")


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_bulk_insert_job_reports_successes_and_failures(sandbox, sf):
    data = "LastName,Email,Title\nWirth,niklaus@example.com,Professor\n,nolast@example.com,\nHoare,bad-email,\n"
    job = run_job(sandbox, sf, {"object": "Contact", "operation": "insert"}, data)
    assert job["state"] == "JobComplete" and job["numberRecordsProcessed"] == 3 and job["numberRecordsFailed"] == 2
    ok = api(sf, "GET", f"/jobs/ingest/{job['id']}/successfulResults/")
    assert ok.headers["content-type"].startswith("text/csv")
    assert ok.text.splitlines()[0] == '"sf__Id","sf__Created","LastName","Email","Title"'
    [done] = rows(ok.text)
    assert done["sf__Created"] == "true" and done["Email"] == "niklaus@example.com" and done["sf__Id"].startswith("003")
    failed = rows(api(sf, "GET", f"/jobs/ingest/{job['id']}/failedResults/").text)
    assert [r["Email"] for r in failed] == ["nolast@example.com", "bad-email"]
    assert failed[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]")
    assert failed[1]["sf__Error"].startswith("INVALID_EMAIL_ADDRESS:")
    listed = api(sf, "GET", "/jobs/ingest").json()
    assert job["id"] in [j["id"] for j in listed["records"]]


def test_bulk_upsert_and_update_jobs(sandbox, sf):
    data = "External_Id__c,LastName,Title\nB-1,Backus,\nB-2,Naur,Editor\n"
    first = run_job(sandbox, sf, {"object": "Contact", "operation": "upsert", "externalIdFieldName": "External_Id__c"},
                     data)
    assert first["numberRecordsFailed"] == 0
    created = rows(api(sf, "GET", f"/jobs/ingest/{first['id']}/successfulResults").text)
    assert [r["sf__Created"] for r in created] == ["true", "true"]
    again = run_job(sandbox, sf, {"object": "Contact", "operation": "upsert", "externalIdFieldName": "External_Id__c"},
                    "External_Id__c,Title\nB-1,Compiler\nB-2,#N/A\n")
    results = rows(api(sf, "GET", f"/jobs/ingest/{again['id']}/successfulResults").text)
    assert [r["sf__Created"] for r in results] == ["false", "false"]
    found = query(sf, "SELECT External_Id__c, Title, LastName FROM Contact WHERE External_Id__c IN ('B-1', 'B-2') "
                      "ORDER BY External_Id__c").json()["records"]
    assert [(r["LastName"], r["Title"]) for r in found] == [("Backus", "Compiler"), ("Naur", None)]
    repeated = run_job(sandbox, sf, {"object": "Contact", "operation": "upsert", "externalIdFieldName": "External_Id__c"},
                       "External_Id__c,LastName\nB-3,One\nb-3,Two\nB-4,Four\n")
    assert repeated["numberRecordsFailed"] == 2
    refused = rows(api(sf, "GET", f"/jobs/ingest/{repeated['id']}/failedResults").text)
    assert {r["sf__Error"] for r in refused} == {"DUPLICATE_VALUE:Duplicate external id specified: B-3:External_Id__c --",
                                               "DUPLICATE_VALUE:Duplicate external id specified: b-3:External_Id__c --"}
    update = run_job(sandbox, sf, {"object": "Contact", "operation": "update"},
                     f"Id,Title\n{created[0]['sf__Id']},Fortran\n003000000000000AAA,x\n")
    assert update["numberRecordsFailed"] == 1


def test_bulk_job_states_and_refusals(sandbox, sf):
    sandbox.app.update_settings({"salesforce_bulk_seconds": 30})
    assert api(sf, "POST", "/jobs/ingest", json={"object": "Nope", "operation": "insert"}).status_code == 400
    assert api(sf, "POST", "/jobs/ingest", json={"object": "Contact", "operation": "upsert"}).status_code == 400
    job = api(sf, "POST", "/jobs/ingest", json={"object": "Contact", "operation": "insert"}).json()
    url = f"/jobs/ingest/{job['id']}"
    early = api(sf, "GET", f"{url}/successfulResults")
    assert early.status_code == 409
    api(sf, "PUT", f"{url}/batches", content=b"LastName\nA\n", headers={"Content-Type": "text/csv"})
    second = api(sf, "PUT", f"{url}/batches", content=b"LastName\nB\n", headers={"Content-Type": "text/csv"})
    assert second.status_code == 409
    api(sf, "PATCH", url, json={"state": "UploadComplete"})
    assert api(sf, "GET", url).json()["state"] in ("UploadComplete", "InProgress")
    aborted = api(sf, "PATCH", url, json={"state": "Aborted"}).json()
    assert aborted["state"] == "Aborted"
    assert rows(api(sf, "GET", f"{url}/unprocessedrecords").text) == [{"LastName": "A"}]
    assert api(sf, "DELETE", url).status_code == 204
    assert api(sf, "GET", url).status_code == 404
    sandbox.app.update_settings({"salesforce_bulk_seconds": 0})
    failed = run_job(sandbox, sf, {"object": "Contact", "operation": "insert"}, "LastName,Nope__c\nA,b\n")
    assert failed["state"] == "Failed" and "Nope__c" in failed["errorMessage"]


# -- limits and faults ------------------------------------------------------------------

def test_daily_allocation_and_injected_faults(sandbox, sf):
    sandbox.app.update_settings({"salesforce_daily_api_requests": 3})
    assert api(sf, "GET", "/limits").json()["DailyApiRequests"] == {"Max": 3, "Remaining": 2}
    assert api(sf, "GET", "/sobjects").headers["Sforce-Limit-Info"] == "api-usage=2/3"
    api(sf, "GET", "/sobjects")
    spent = api(sf, "GET", "/sobjects")
    assert spent.status_code == 403 and spent.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert spent.headers["Sforce-Limit-Info"] == "api-usage=3/3"

    sandbox.app.update_settings({"salesforce_daily_api_requests": 1000})
    httpx.put(f"{sandbox.url}/_sandbox/faults", json={"burst_429": 1, "retry_after": 2, "path": "/salesforce"})
    limited = api(sf, "GET", "/sobjects")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert limited.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    httpx.put(f"{sandbox.url}/_sandbox/faults", json={"error_rate": 1.0, "statuses": [503]})
    unavailable = api(sf, "GET", "/sobjects")
    assert unavailable.status_code == 503 and unavailable.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"


def test_inspection_api_sees_records_and_accepts_seeds(sandbox, sf):
    posted = httpx.post(f"{sandbox.url}/_sandbox/state/salesforce/Contact",
                        json={"LastName": "Seeded", "Email": "Seeded@Example.com"})
    assert posted.status_code == 201
    seeded = posted.json()["data"][0]
    assert seeded["Id"].startswith("003") and seeded["_email"] == "seeded@example.com"
    found = query(sf, "SELECT Id FROM Contact WHERE Email = 'seeded@example.com'").json()
    assert found["records"][0]["Id"] == seeded["Id"]
    held = httpx.get(f"{sandbox.url}/_sandbox/state/salesforce/Contact").json()["data"]
    assert any(doc["Id"] == seeded["Id"] for doc in held)


def test_bulk_query_job_results_come_in_sets(sandbox, sf):
    sandbox.app.update_settings({"salesforce_bulk_seconds": 0})
    created = api(sf, "POST", "/jobs/query", json={
        "operation": "queryAll", "query": "SELECT Id, Email, Account.Name FROM Contact ORDER BY Email"})
    assert created.status_code == 200 and created.json()["state"] == "UploadComplete"
    job = created.json()["id"]
    assert api(sf, "GET", f"/jobs/query/{job}").json()["state"] == "JobComplete"
    first = api(sf, "GET", f"/jobs/query/{job}/results", params={"maxRecords": 3})
    assert first.headers["Sforce-NumberOfRecords"] == "3" and first.headers["Sforce-Locator"] != "null"
    assert first.text.splitlines()[0] == '"Id","Email","Account.Name"'
    rest = api(sf, "GET", f"/jobs/query/{job}/results",
               params={"maxRecords": 3, "locator": first.headers["Sforce-Locator"]})
    assert rest.headers["Sforce-Locator"] == "null"
    emails = [r["Email"] for r in rows(first.text) + rows(rest.text)]
    assert emails == sorted(emails) and len(emails) == 4
    assert rows(first.text)[0]["Account.Name"] == "Acme Corporation"
    bad = api(sf, "POST", "/jobs/query", json={"operation": "query", "query": "SELECT Nope FROM Contact"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"
    assert api(sf, "DELETE", f"/jobs/query/{job}").status_code == 204
