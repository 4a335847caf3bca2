"""POST/GET/PUT/DELETE /api/syncs with the seed walk-throughs' own request bodies."""

import json

import pytest

from console.syncs.models import Sync

pytestmark = pytest.mark.django_db

# Seed 000 step 6, verbatim but for the placeholder ids.
SEED_000_SYNC = """{
"name": "Snowflake to Salesloft Cadence Sync",
"mode": "updateOrCreate",
"identity": {
"source": {
"field": "email",
"model_id": "YOUR_SNOWFLAKE_MODEL_ID"
},
"target": "Email",
"function": "equality"
},
"fields": [
{
"source": {
"field": "first_name",
"model_id": "YOUR_SNOWFLAKE_MODEL_ID"
},
"target": "FirstName"
},
{
"source": {
"field": "last_name",
"model_id": "YOUR_SNOWFLAKE_MODEL_ID"
},
"target": "LastName"
}
],
"schedule": {
"frequency": "manual"
},
"target": {
"connection_id": "YOUR_SALESLOFT_CONNECTION_ID",
"object": "my-salesloft-cadence"
}
}"""


def seed_000(model, connection, cadence="cadence:10"):
    return (SEED_000_SYNC.replace("YOUR_SNOWFLAKE_MODEL_ID", str(model.pk))
            .replace("YOUR_SALESLOFT_CONNECTION_ID", str(connection.pk))
            .replace("my-salesloft-cadence", cadence))


def post(api, body, path="/api/syncs"):
    return api.post(path, body if isinstance(body, str) else json.dumps(body), content_type="application/json")


def assert_field_error(response, field, status=400):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["metadata"]["errors"][0]["field"] == field, body
    assert body["message"].startswith(f"{field}: ")
    return body["message"]


@pytest.fixture
def salesloft(target):
    return target("salesloft", "My Salesloft Connection")


@pytest.fixture
def created(api, active_users, salesloft):
    response = post(api, seed_000(active_users, salesloft))
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_seed_000_sync_is_accepted_and_read_back_as_stored(api, created, active_users, salesloft):
    model_id = str(active_users.pk)
    assert created["name"] == "Snowflake to Salesloft Cadence Sync"
    assert created["mode"] == "updateOrCreate" and created["active"] is True
    assert created["model_ids"] == [model_id]
    assert created["target"] == {"connection_id": str(salesloft.pk), "object": "cadence:10", "configuration": {}}
    assert created["identity"] == {"source": {"field": "email", "model_id": model_id},
                                   "target": "Email", "function": "Equality"}
    assert created["identities"] == {"mappings": [created["identity"]]}
    assert created["fields"] == [
        {"source": {"field": "first_name", "model_id": model_id}, "target": "FirstName"},
        {"source": {"field": "last_name", "model_id": model_id}, "target": "LastName"},
    ]
    assert created["schedule"] == {"frequency": "manual"}
    assert created["problems"] == [] and created["created_by"]["name"] == "admin@example.com"
    fetched = api.get(f"/api/syncs/{created['id']}").json()["data"]
    assert fetched == created
    sync = Sync.objects.get(pk=created["id"])
    assert sync.next_run_at is None  # manual


def test_wrong_mode_names_the_mode(api, active_users, salesloft):
    body = json.loads(seed_000(active_users, salesloft))
    body["mode"] = "create"  # a cadence adds people; it has no create-only mode
    message = assert_field_error(post(api, body), "mode")
    assert "updateOrCreate" in message
    body["mode"] = "merge"
    assert_field_error(post(api, body), "mode")


def test_unknown_fields_name_themselves(api, active_users, salesloft):
    body = json.loads(seed_000(active_users, salesloft))
    body["fields"][1]["target"] = "Surname"
    assert "Surname" in assert_field_error(post(api, body), "fields[1].target")
    body = json.loads(seed_000(active_users, salesloft))
    body["fields"][0]["source"]["field"] = "given_name"
    assert "given_name" in assert_field_error(post(api, body), "fields[0].source.field")
    body = json.loads(seed_000(active_users, salesloft))
    body["identity"]["target"] = "Title"
    assert_field_error(post(api, body), "identity.target")
    body = json.loads(seed_000(active_users, salesloft))
    body["identity"]["function"] = "soundex"
    assert_field_error(post(api, body), "identity.function")


def test_missing_identity_is_refused(api, active_users, salesloft):
    body = json.loads(seed_000(active_users, salesloft))
    del body["identity"]
    assert "identity" in assert_field_error(post(api, body), "identity")


def test_target_and_model_must_exist(api, active_users, salesloft, other_api):
    body = json.loads(seed_000(active_users, salesloft, cadence="cadence:999"))
    assert_field_error(post(api, body), "target.object")
    body = json.loads(seed_000(active_users, salesloft))
    body["target"]["connection_id"] = "9b0e7d0e-0000-4000-8000-000000000000"
    assert_field_error(post(api, body), "target.connection_id")
    body = json.loads(seed_000(active_users, salesloft))
    assert_field_error(post(other_api, body), "target.connection_id")  # not theirs
    body["fields"][0]["source"]["model_id"] = "9b0e7d0e-0000-4000-8000-000000000000"
    assert_field_error(post(api, body), "fields[0].source.model_id")


def test_required_target_fields_must_be_mapped(api, active_users, salesloft):
    body = json.loads(seed_000(active_users, salesloft, cadence="accounts"))
    body["identity"]["target"] = "Domain"
    body["fields"] = [{"source": {"model_id": str(active_users.pk), "field": "plan"}, "target": "Industry"}]
    assert "Name" in assert_field_error(post(api, body), "fields")


def test_schedules_are_checked_and_planned(api, active_users, salesloft, created):
    body = json.loads(seed_000(active_users, salesloft))
    body["schedule"] = {"frequency": "hourly", "minute": "75"}
    assert_field_error(post(api, body), "schedule.minute")
    body["schedule"] = {"frequency": "custom", "minute": "0", "hour": "25"}
    assert_field_error(post(api, body), "schedule.hour")
    body["schedule"] = {"frequency": "fortnightly"}
    assert_field_error(post(api, body), "schedule.frequency")
    body["schedule"] = {"frequency": "runafter", "run_after": {"sync_ids": []}}
    assert_field_error(post(api, body), "schedule.run_after.sync_ids")

    body["schedule"] = {"frequency": "daily", "hour": 5, "minute": "30"}
    daily = post(api, body).json()["data"]
    assert daily["schedule"] == {"frequency": "daily", "hour": "5", "minute": "30"}
    planned = Sync.objects.get(pk=daily["id"]).next_run_at
    assert (planned.hour, planned.minute) == (5, 30)

    body["schedule"] = {"frequency": "runafter", "run_after": {"sync_ids": [created["id"]]},
                        "run_after_success_only": True}
    follower = post(api, body).json()["data"]
    assert follower["schedule"]["run_after"] == {"sync_ids": [created["id"]]}


def test_put_replaces_the_whole_definition(api, created, active_users, salesloft):
    body = json.loads(seed_000(active_users, salesloft, cadence="cadence:11"))
    body["name"] = "Renamed"
    body["fields"] = body["fields"][:1]
    body["schedule"] = {"frequency": "weekly", "day_of_week": "1", "hour": "6", "minute": "0"}
    response = api.put(f"/api/syncs/{created['id']}", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert (data["name"], data["target"]["object"], len(data["fields"])) == ("Renamed", "cadence:11", 1)
    assert data["created_at"] == created["created_at"] and data["updated_at"] > created["updated_at"]
    del body["identity"]
    assert_field_error(api.put(f"/api/syncs/{created['id']}", json.dumps(body), content_type="application/json"),
                       "identity")


def test_list_is_paginated_slim_and_filtered(api, created, active_users, salesloft):
    for n in range(2):
        body = json.loads(seed_000(active_users, salesloft))
        body.update(name=f"Sync {n}", active=False)
        post(api, body)
    page = api.get("/api/syncs?limit=2").json()
    assert [s["name"] for s in page["data"]] == ["Sync 1", "Sync 0"]
    assert set(page["data"][0]) >= {"id", "name", "active", "mode", "model_ids", "target_connection_id",
                                    "target_object", "schedule", "created_at", "updated_at"}
    assert "fields" not in page["data"][0]
    rest = api.get(f"/api/syncs?limit=2&page_token={page['pagination']['next_page_token']}").json()
    assert [s["name"] for s in rest["data"]] == ["Snowflake to Salesloft Cadence Sync"]
    assert rest["pagination"].get("next_page_token") is None
    assert [s["name"] for s in api.get("/api/syncs?active=true").json()["data"]] == [created["name"]]
    assert len(api.get(f"/api/syncs?target_connection_id={salesloft.pk}&mode=updateOrCreate").json()["data"]) == 3
    assert api.get("/api/syncs?mode=remove").json()["data"] == []


def test_activate_delete_and_schedules(api, created, other_api):
    url = f"/api/syncs/{created['id']}"
    assert post(api, {"active": False}, url + "/activate").json() == {"data": {"id": created["id"], "active": False}}
    assert api.get(url).json()["data"]["active"] is False
    assert other_api.get(url).status_code == 404
    assert other_api.delete(url).status_code == 404
    assert api.delete(url).status_code == 200
    assert api.get(url).status_code == 404
    options = api.get("/api/syncs/schedules").json()["data"]["schedule_options"]
    assert [o["frequency"] for o in options][:5] == ["manual", "continuous", "hourly", "daily", "weekly"]
    assert options[3]["configuration"]["properties"]["hour"]["type"] == "string"


def test_a_value_without_source_is_stored_as_a_constant(api, active_users, salesloft):
    body = json.loads(seed_000(active_users, salesloft))
    body["fields"].append({"target": "Title", "override_value": "Customer"})
    data = post(api, body).json()["data"]
    assert [f["target"] for f in data["fields"]] == ["FirstName", "LastName"]
    assert data["override_fields"] == [{"target": "Title", "override_value": "Customer"}]


def test_a_field_the_model_lost_is_reported_as_a_problem(api, created, active_users):
    active_users.fields.filter(name="last_name").update(vanished=True)
    problems = api.get(f"/api/syncs/{created['id']}").json()["data"]["problems"]
    assert problems == [{"code": "model_field_missing", "path": "fields[1].source.field", "severity": "error",
                         "message": "The model has no field 'last_name' any more."}]


# Seed 001 step 6, verbatim but for the placeholder ids: no `fields` at all.
SEED_001_SYNC = """{
"name": "Snowflake to Gong Engage Sync",
"mode": "updateOrCreate",
"identity": {
"source": {
"field": "contact_id",
"model_id": "YOUR_SNOWFLAKE_MODEL_ID"
},
"target": "Id",
"function": "equality"
},
"schedule": {
"frequency": "manual"
},
"target": {
"connection_id": "YOUR_GONG_CONNECTION_ID",
"object": "my-gong-engage-flow"
}
}"""

# Seed 003 steps 5 and 6, verbatim but for the placeholder ids.
SEED_003_EXISTING = """{
"name": "Snowflake to LinkedIn AdsSync",
"mode": "create",
"identity": {
"source": {
"field": "email",
"model_id": "YOUR-MODEL-ID"
},
"target": "Email",
"function": "equality"
},
"fields": [
{
"source": {
"field": "first_name",
"model_id": "YOUR-MODEL-ID"
},
"target": "FirstName"
},
{
"source": {
"field": "last_name",
"model_id": "YOUR-MODEL-ID"
},
"target": "LastName"
}
],
"schedule": {
"frequency": "continuous"
},
"target": {
"connection_id": "YOUR-LINKEDIN-CONNECTION-ID",
"object": "YOUR-AUDIENCE-ID"
}
}"""

SEED_003_CREATE = """{
"name": "Snowflake to LinkedIn AdsSync",
"mode": "create",
"identity": {
"source": {
"field": "email",
"model_id": "YOUR-MODEL-ID"
},
"target": "Email",
"function": "equality"
},
"fields": [
{
"source": {
"field": "first_name",
"model_id": "YOUR-MODEL-ID"
},
"target": "FirstName"
},
{
"source": {
"field": "last_name",
"model_id": "YOUR-MODEL-ID"
},
"target": "LastName"
}
],
"schedule": {
"frequency": "continuous"
},
"target": {
"connection_id": "YOUR-LINKEDIN-CONNECTION-ID",
"create": {
"name": "New audience",
"type": "user_audience",
"account": "512630692::urn:li:organization:28818517"
}
}
}"""

AUDIENCE = "512630692::urn:li:organization:28818517~user_audience.10700"


@pytest.fixture
def gold_contacts(organization, snowflake):
    from console.datamodels.models import DataModel, ModelField

    model = DataModel.objects.create(
        organization=organization, connection=snowflake, name="Active Users",
        configuration={"query": "SELECT contact_id FROM salesforce_contacts WHERE subscription_plan = 'gold'"})
    ModelField.objects.create(model=model, name="contact_id", type="string")
    return model


def test_seed_001_gong_flow_sync_without_fields(api, gold_contacts, target, sandbox):
    gong = target("gong", "My Gong Connection")
    flows = api.post(f"/api/connections/{gong.pk}/modelsync/targetobjects",
                     content_type="application/json").json()["data"]
    flow = flows[0]["id"]
    fields = api.get(f"/api/connections/{gong.pk}/modelsync/target/fields", {"target": flow}).json()["data"]
    assert [f["id"] for f in fields["fields"] if f["supports_identity"]] == ["Id"]
    body = (SEED_001_SYNC.replace("YOUR_SNOWFLAKE_MODEL_ID", str(gold_contacts.pk))
            .replace("YOUR_GONG_CONNECTION_ID", str(gong.pk)).replace("my-gong-engage-flow", flow))
    response = post(api, body)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["fields"] == [] and data["target"]["object"] == flow
    assert data["identity"] == {"source": {"field": "contact_id", "model_id": str(gold_contacts.pk)},
                                "target": "Id", "function": "Equality"}
    assert api.get(f"/api/syncs/{data['id']}").json()["data"] == data


def test_seed_003_linkedin_listing_and_property_values(api, target):
    linkedin = target("linkedinads", "LinkedIn Ads")
    listed = api.get(f"/api/connections/{linkedin.pk}/modelsync/targetobjects",
                     HTTP_X_POLYTOMIC_VERSION="2024-02-08").json()
    assert listed["target_creation"] == {"supported": True, "properties": [
        {"id": "account", "title": "LinkedIn Ads account ID", "enum": True},
        {"id": "type", "title": "Audience type", "enum": True},
        {"id": "name", "title": "Audience name", "enum": False},
    ]}
    audience = next(o for o in listed["data"] if o["id"] == AUDIENCE)
    assert [(m["id"], m["requires_identity"], m["supports_target_filters"], m["supports_per_field_mode"])
            for m in audience["modes"]] == [("create", False, False, False), ("remove", False, False, False)]
    account = api.get(f"/api/connections/{linkedin.pk}/modelsync/targetobjects/properties/account").json()["data"]
    assert account["id"] == "account" and account["enum"] is True
    assert {"value": "512630692::urn:li:organization:28818517", "label": "Polytomic Inc. (512630692)"} \
        in account["values"]
    kinds = api.get(f"/api/connections/{linkedin.pk}/modelsync/targetobjects/properties/type").json()["data"]
    assert [v["value"] for v in kinds["values"]] == ["user_audience", "company_audience"]
    inline = api.get(f"/api/connections/{linkedin.pk}/modelsync/targetobjects",
                     {"include_target_creation_values": "true"}).json()["target_creation"]["properties"]
    assert inline[1]["values"][0] == {"value": "user_audience", "label": "User Audience"}
    assert "values" not in inline[2]
    missing = api.get(f"/api/connections/{linkedin.pk}/modelsync/targetobjects/properties/colour")
    assert missing.status_code == 404
    new = api.get(f"/api/connections/{linkedin.pk}/modelsync/target/fields",
                  {"properties[account]": "512630692::urn:li:organization:28818517",
                   "properties[type]": "user_audience", "properties[name]": "New audience"}).json()["data"]
    assert new["properties"]["target_creator"] is True and new["properties"]["new_target_label"] == "Audience name"
    assert {"Email", "FirstName", "LastName"} <= {f["id"] for f in new["fields"]}


def test_seed_003_existing_audience_and_new_audience(api, active_users, target):
    linkedin = target("linkedinads", "LinkedIn Ads")

    def seed(text):
        return (text.replace("YOUR-MODEL-ID", str(active_users.pk))
                .replace("YOUR-LINKEDIN-CONNECTION-ID", str(linkedin.pk)).replace("YOUR-AUDIENCE-ID", AUDIENCE))

    existing = post(api, seed(SEED_003_EXISTING))
    assert existing.status_code == 200, existing.content
    data = existing.json()["data"]
    assert data["target"]["object"] == AUDIENCE and data["schedule"] == {"frequency": "continuous"}
    assert [f["target"] for f in data["fields"]] == ["FirstName", "LastName"]
    assert Sync.objects.get(pk=data["id"]).next_run_at is not None  # continuous: due now

    created = post(api, seed(SEED_003_CREATE))
    assert created.status_code == 200, created.content
    data = created.json()["data"]
    assert "create" not in data["target"] and "object" not in data["target"]  # write-only
    sync = Sync.objects.get(pk=data["id"])
    assert sync.target_create == {"name": "New audience", "type": "user_audience",
                                  "account": "512630692::urn:li:organization:28818517"}
    assert api.get(f"/api/syncs/{sync.pk}").json()["data"] == data

    bad = json.loads(seed(SEED_003_CREATE))
    bad["target"]["create"]["account"] = "999::urn:li:organization:1"
    assert "999::" in assert_field_error(post(api, bad), "target.create.account")
    bad["target"]["create"] = {"name": "New audience", "type": "user_audience"}
    assert_field_error(post(api, bad), "target.create.account")
    bad["target"]["create"] = {"name": "x", "type": "user_audience", "account": "1", "colour": "red"}
    assert_field_error(post(api, bad), "target.create.colour")
    bad["target"]["create"] = {"name": "New audience", "type": "user_audience",
                               "account": "512630692::urn:li:organization:28818517"}
    bad["mode"] = "updateOrCreate"
    assert_field_error(post(api, bad), "mode")


def test_the_list_reads_its_rows_in_a_fixed_number_of_queries(api, created, active_users, salesloft):
    """No query per sync: a longer list costs the same round trips to the database."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert len(api.get("/api/syncs").json()["data"]) == 1
    for n in range(3):
        post(api, {**json.loads(seed_000(active_users, salesloft)), "name": f"Sync {n}"})
    with CaptureQueriesContext(connection) as four:
        listed = api.get("/api/syncs").json()["data"]
    assert len(listed) == 4 and all(s["schedule"] and s["created_by"] for s in listed)
    assert len(four.captured_queries) == len(one.captured_queries)
