"""The models API with the seed documents' requests, against the demo warehouse."""

import json
import sqlite3

import pytest

from console.datamodels.models import DataModel

pytestmark = pytest.mark.django_db

# Seed 000's body as the documentation prints it (the comma after the query is its own).
SEED_000_BODY = """{
"name": "Active Users",
"configuration": {
"query": "SELECT MAX(last_activity_date) AS last_activity_date, plan, first_name, last_name, email FROM users GROUP BY plan, first_name, last_name, email",
},
"connection_id": "%s"
}"""
SEED_003_QUERY = "SELECT first_name, last_name, email FROM users"
VERSION = {"HTTP_X_POLYTOMIC_VERSION": "2024-02-08"}


def post(api, path, body, **headers):
    text = body if isinstance(body, str) else json.dumps(body)
    return api.post(path, text, content_type="application/json", **VERSION, **headers)


def fixed(body: str) -> str:
    return body.replace('email",\n}', 'email"\n}')


def field_types(response) -> dict:
    """Field names and types (Snowflake upper-cases unquoted names; compared in lower case)."""
    return {f["name"].lower(): f["type"] for f in response.json()["data"]["fields"]}


def test_seed_000_model_with_its_trailing_comma_is_a_400_naming_line_and_column(api, snowflake):
    response = post(api, "/api/models", SEED_000_BODY % snowflake.pk)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and "line 5" in body["message"] and "column 1" in body["message"]
    assert not DataModel.objects.exists()


def test_seed_000_model_once_fixed_returns_its_fields(api, snowflake):
    response = post(api, "/api/models", fixed(SEED_000_BODY % snowflake.pk))
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["name"] == "Active Users" and data["connection_id"] == str(snowflake.pk)
    assert field_types(response) == {"last_activity_date": "date", "plan": "string", "first_name": "string",
                                     "last_name": "string", "email": "string"}
    assert DataModel.objects.get(pk=data["id"]).fields.count() == 5


def test_seed_003_model_returns_its_fields(api, snowflake):
    body = {"name": "Active Users", "configuration": {"query": SEED_003_QUERY}, "connection_id": str(snowflake.pk)}
    response = post(api, "/api/models", body)
    assert response.status_code == 200, response.content
    assert list(field_types(response)) == ["first_name", "last_name", "email"]


def test_seed_001_query_as_the_shell_delivers_it_carries_the_warehouse_error(api, snowflake):
    # the shell's single quotes swallow the ones around 'gold'
    query = "SELECT contact_id FROM salesforce_contacts WHERE subscription_plan = gold"
    response = post(api, "/api/models", {"name": "Active Users", "configuration": {"query": query},
                                         "connection_id": str(snowflake.pk)})
    assert response.status_code == 400
    body = response.json()
    assert body["key"] == "query_error"
    assert body["message"].startswith("The warehouse rejected the query: ")
    assert "gold" in body["metadata"]["warehouse_message"].lower()
    assert not DataModel.objects.exists()


def test_seed_001_query_quoted_as_intended_creates_the_model(api, snowflake):
    query = "SELECT contact_id FROM salesforce_contacts WHERE subscription_plan = 'gold'"
    response = post(api, "/api/models", {"name": "Active Users", "configuration": {"query": query},
                                         "connection_id": str(snowflake.pk)})
    assert response.status_code == 200, response.content
    assert field_types(response) == {"contact_id": "string"}


def test_an_unreachable_warehouse_is_named(api, organization, settings):
    from console.connections.services import create_connection

    settings.SNOWFLAKE_ENDPOINT = "http://127.0.0.1:9"  # nothing listens there
    down = create_connection(organization, name="Closed Snowflake", type_id="snowflake",
                             configuration={"account": "a", "username": "u", "password": "topsecret-pw",
                                            "dbname": "d"}, validate=False)
    response = post(api, "/api/models", {"name": "M", "configuration": {"query": "SELECT 1 AS one"},
                                         "connection_id": str(down.pk)})
    assert response.status_code == 400
    body = response.json()
    assert body["key"] == "connection_error" and "'Closed Snowflake'" in body["message"]
    assert "topsecret-pw" not in response.content.decode()


@pytest.mark.parametrize("body, field", [
    ({"configuration": {"query": "SELECT 1"}}, "name"),
    ({"name": "M", "configuration": {"query": "SELECT 1"}}, "connection_id"),
    ({"name": "M", "configuration": {}}, "configuration"),
    ({"name": "M", "configuration": {"query": "SELECT 1", "table": "USERS"}}, "configuration"),
    ({"name": "M", "configuration": {"table": "NO_SUCH_TABLE"}}, "configuration.table"),
    ({"name": "M", "configuration": {"query": SEED_003_QUERY}, "identifier": "phone"}, "identifier"),
])
def test_bad_definitions_name_the_field(api, snowflake, body, field):
    body.setdefault("connection_id", str(snowflake.pk))
    if field == "connection_id":
        body["connection_id"] = "00000000-0000-0000-0000-000000000000"
    response = post(api, "/api/models", body)
    assert response.status_code in (400, 404, 422), response.content
    assert [e["field"] for e in response.json()["metadata"]["errors"]] == [field]


def test_a_table_model_with_identifier_labels_and_tracking_columns(api, snowflake):
    response = post(api, "/api/models", {
        "name": "Users table", "configuration": {"table": "public.users"}, "connection_id": str(snowflake.pk),
        "identifier": "email", "labels": ["crm"], "tracking_columns": ["plan"]})
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["configuration"] == {"table": "public.users"}
    assert data["identifier"] == "email" and data["labels"] == ["crm"] and data["tracking_columns"] == ["plan"]
    assert [f["name"].lower() for f in data["fields"] if f["unique"]] == ["email"]
    assert "plan" in field_types(response)


def test_get_list_update_sample_and_delete(api, snowflake):
    created = post(api, "/api/models", {"name": "People", "configuration": {"query": SEED_003_QUERY},
                                        "connection_id": str(snowflake.pk)}).json()["data"]
    path = f"/api/models/{created['id']}"
    assert api.get(path).json()["data"]["name"] == "People"
    assert [m["id"] for m in api.get("/api/models").json()["data"]] == [created["id"]]

    updated = post(api, path, {"name": "People (emails)", "configuration": {"query": "SELECT email FROM users"},
                               "connection_id": str(snowflake.pk)})  # seed 003 updates with POST
    assert updated.status_code == 200, updated.content
    assert updated.json()["data"]["name"] == "People (emails)"
    assert list(field_types(updated)) == ["email"]

    sample = api.get(f"{path}/sample?limit=3").json()["data"]["records"]
    assert len(sample) == 3 and all("@" in record[created["id"]]["EMAIL"] for record in sample)

    assert api.delete(path).status_code == 200
    assert api.get(path).status_code == 404


def test_async_create_answers_with_a_finished_job(api, snowflake):
    response = post(api, "/api/models?async=true", {"name": "People", "configuration": {"query": SEED_003_QUERY},
                                                    "connection_id": str(snowflake.pk)})
    assert response.status_code == 200
    job = response.json()["job"]
    assert job["status"] == "done" and job["type"] == "createmodel"
    polled = api.get(f"/api/jobs/createmodel/{job['job_id']}").json()["data"]
    assert polled["status"] == "done" and polled["result"]["name"] == "People"


def test_preview_lists_fields_without_saving(api, snowflake):
    response = post(api, "/api/model-preview", {"name": "P", "configuration": {"query": SEED_003_QUERY},
                                                "connection_id": str(snowflake.pk)})
    assert response.status_code == 200, response.content
    assert response.json()["data"]["id"] is None
    assert list(field_types(response)) == ["first_name", "last_name", "email"]
    assert not DataModel.objects.exists()


def test_deleting_a_model_that_syncs_use_is_refused_with_their_names(api, sqlite_warehouse, sync_using):
    created = post(api, "/api/models", {"name": "People", "configuration": {"table": "people"},
                                        "connection_id": str(sqlite_warehouse.pk)}).json()["data"]
    model = DataModel.objects.get(pk=created["id"])
    sync = sync_using(model, "email", "first_name")
    response = api.delete(f"/api/models/{model.pk}")
    assert response.status_code == 409
    body = response.json()
    assert "'People to CRM'" in body["message"]
    assert body["metadata"]["syncs"] == [{"id": str(sync.pk), "name": "People to CRM",
                                          "fields": ["email", "first_name"]}]
    assert DataModel.objects.filter(pk=model.pk).exists()


def test_a_vanished_column_is_detected_on_refresh_and_flags_the_syncs_using_it(
        api, sqlite_warehouse, sqlite_file, sync_using):
    created = post(api, "/api/models", {"name": "People", "configuration": {"table": "people"},
                                        "connection_id": str(sqlite_warehouse.pk)}).json()["data"]
    model = DataModel.objects.get(pk=created["id"])
    sync_using(model, "email", "first_name")
    with sqlite3.connect(sqlite_file) as db:
        db.execute("ALTER TABLE people DROP COLUMN first_name")
        db.execute("ALTER TABLE people ADD COLUMN city TEXT")

    from console.datamodels.services import refresh_fields
    refresh = refresh_fields(model)
    assert refresh.added == ["city"] and refresh.vanished == ["first_name"]
    assert [s["name"] for s in refresh.affected_syncs] == ["People to CRM"]
    assert model.fields.get(name="first_name").vanished  # kept while a sync maps it
    assert [f["name"] for f in api.get(f"/api/models/{model.pk}").json()["data"]["fields"]] == [
        "email", "score", "city"]


def test_other_organizations_models_are_404(api, other_api, snowflake):
    created = post(api, "/api/models", {"name": "People", "configuration": {"query": SEED_003_QUERY},
                                        "connection_id": str(snowflake.pk)}).json()["data"]
    path = f"/api/models/{created['id']}"
    assert other_api.get(path).status_code == 404
    assert other_api.delete(path).status_code == 404
    assert post(other_api, path, {"name": "Mine", "configuration": {"query": "SELECT 1"},
                                  "connection_id": str(snowflake.pk)}).status_code == 404
    assert other_api.get("/api/models").json()["data"] == []
    # nor may another organization build a model on this organization's connection
    stolen = post(other_api, "/api/models", {"name": "X", "configuration": {"query": "SELECT 1"},
                                             "connection_id": str(snowflake.pk)})
    assert stolen.status_code == 404
