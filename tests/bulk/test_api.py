"""/api/bulk/syncs: definitions, schemas, executions, validation and organization walls,
on a source in memory (tests/bulk/fake_source.py) and the demo's SQLite warehouse."""

import pytest

from console.bulk import runs
from console.bulk.models import BulkExecution, BulkSync

from .conftest import Api


@pytest.fixture
def body(fake_source, salesforce, sqlite_destination):
    def make(**changes):
        return {
            "name": "Salesforce to warehouse",
            "source_connection_id": str(salesforce.pk),
            "destination_connection_id": str(sqlite_destination.pk),
            "destination_configuration": {"schema": "salesforce"},
            "default_schedule": {"frequency": "manual"},
            "schemas": [{"id": "Contact", "fields": [{"id": "Email"}, {"id": "LastName", "enabled": False}]}],
            **changes,
        }

    return make


def created(bulk_api, body) -> dict:
    response = bulk_api.post("/api/bulk/syncs", body)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def error_field(response) -> str:
    errors = response.json()["metadata"]["errors"]
    return errors[0]["field"]


def test_create_read_list_and_the_response_shape(bulk_api, body, organization):
    sync = created(bulk_api, body())
    assert sync["name"] == "Salesforce to warehouse"
    assert sync["organization_id"] == str(organization.pk)
    assert sync["mode"] == "replicate" and sync["active"] is True
    assert sync["destination_configuration"] == {"schema": "salesforce", "deleted_records": "mark"}
    assert sync["source_configuration"] == {"include_deleted": True}
    assert sync["default_schedule"]["frequency"] == "manual"
    assert sync["automatically_add_new_fields"] == "all" and sync["automatically_add_new_objects"] == "none"
    assert sync["normalize_names"] == "enabled"
    assert "schemas" not in sync, "BulkSyncResponse has no schemas; they are at .../schemas"
    assert BulkSync.objects.get(pk=sync["id"]).schemas == [{"id": "Contact", "enabled": True, "fields": [
        {"id": "Email", "enabled": True}, {"id": "LastName", "enabled": False}]}]

    fetched = bulk_api.get(f"/api/bulk/syncs/{sync['id']}").json()["data"]
    assert fetched == sync
    listed = bulk_api.get("/api/bulk/syncs").json()["data"]
    assert [s["id"] for s in listed] == [sync["id"]]
    assert bulk_api.get("/api/bulk/syncs?active=false").json()["data"] == []


def test_every_object_is_selected_when_the_body_names_none(bulk_api, body):
    request = body()
    del request["schemas"]
    sync = created(bulk_api, request)
    assert BulkSync.objects.get(pk=sync["id"]).schemas == [{"id": "Contact", "enabled": True, "fields": []},
                                                          {"id": "Account", "enabled": True, "fields": []}]


def test_schemas_list_the_source_objects_and_one_schema_has_its_fields(bulk_api, body):
    sync = created(bulk_api, body(schemas=["Contact", {"id": "Account", "user_output_name": "companies"}]))
    listed = bulk_api.get(f"/api/bulk/syncs/{sync['id']}/schemas").json()["data"]
    by_id = {s["id"]: s for s in listed}
    assert by_id["Contact"]["enabled"] and by_id["Contact"]["output_name"] == "contact"
    assert by_id["Contact"]["tracking_field"] == "SystemModstamp"
    assert "fields" not in by_id["Contact"], "BulkSchemaListItem has no fields"
    assert by_id["Account"]["output_name"] == "companies"

    one = bulk_api.get(f"/api/bulk/syncs/{sync['id']}/schemas/Contact")
    assert one.status_code == 200 and one.json()["data"]["id"] == "Contact"
    assert [(f["id"], f["output_name"], f["enabled"]) for f in one.json()["data"]["fields"]] == [
        ("Id", "id", True), ("Email", "email", True), ("LastName", "lastname", True),
        ("Score__c", "score__c", True), ("SystemModstamp", "systemmodstamp", True)]
    assert bulk_api.get(f"/api/bulk/syncs/{sync['id']}/schemas/Opportunity").status_code == 404


def test_fields_left_out_are_not_copied_but_the_key_and_the_tracking_field_always_are(bulk_api, body):
    sync = created(bulk_api, body(automatically_add_new_fields="none", schemas=[
        {"id": "Contact", "fields": [{"id": "Email"}, {"id": "LastName", "enabled": False}]}]))
    fields = bulk_api.get(f"/api/bulk/syncs/{sync['id']}/schemas/Contact").json()["data"]["fields"]
    assert {f["id"]: f["enabled"] for f in fields} == {
        "Id": True, "Email": True, "LastName": False, "Score__c": False, "SystemModstamp": True}


@pytest.mark.parametrize("changes, field", [
    ({"name": "  "}, "name"),
    ({"destination_configuration": {}}, "destination_configuration.schema"),
    ({"destination_configuration": {"schema": "1 bad"}}, "destination_configuration.schema"),
    ({"destination_configuration": {"schema": "sf", "deleted_records": "shred"}},
     "destination_configuration.deleted_records"),
    ({"destination_configuration": {"schema": "sf", "format": "csv"}}, "destination_configuration.format"),
    ({"source_configuration": {"include_deleted": "yes"}}, "source_configuration.include_deleted"),
    ({"source_configuration": {"query_api": "soap"}}, "source_configuration.query_api"),
    ({"mode": "mirror"}, "mode"),
    ({"default_schedule": {"frequency": "fortnightly"}}, "default_schedule.frequency"),
    ({"default_schedule": {"frequency": "runafter"}}, "default_schedule.frequency"),
    ({"schemas": ["Opportunity"]}, "schemas[0].id"),
    ({"schemas": ["Contact", "Contact"]}, "schemas[1].id"),
    ({"schemas": [{"id": "Contact", "fields": ["Email", "Nickname"]}]}, "schemas[0].fields[1].id"),
    ({"schemas": [{"id": "Contact", "user_output_name": "my table"}]}, "schemas[0].user_output_name"),
    ({"schemas": [{"id": "Contact", "filters": [{"field_id": "Email"}]}]}, "schemas[0].filters[0].function"),
    ({"schemas": [{"id": "Contact", "filters": [{"field_id": "Nickname", "function": "IsNull"}]}]},
     "schemas[0].filters[0].field_id"),
    ({"automatically_add_new_fields": "some"}, "automatically_add_new_fields"),
    ({"normalize_names": "shouting"}, "normalize_names"),
    ({"source_connection_id": "not-a-uuid"}, "source_connection_id"),
])
def test_validation_errors_name_the_field(bulk_api, body, changes, field):
    response = bulk_api.post("/api/bulk/syncs", body(**changes))
    assert response.status_code == 400, response.content
    assert response.json()["key"] == "validation_error"
    assert error_field(response) == field
    assert BulkSync.objects.count() == 0


def test_connections_must_fit_their_side(bulk_api, body, salesforce, sqlite_destination):
    reversed_ = bulk_api.post("/api/bulk/syncs", body(source_connection_id=str(sqlite_destination.pk),
                                                      destination_connection_id=str(salesforce.pk)))
    assert reversed_.status_code == 400
    assert error_field(reversed_) == "source_connection_id"
    assert "sqlite" in reversed_.json()["message"]


def test_only_salesforce_sources_choose_their_query_api(bulk_api, body, hubspot):
    response = bulk_api.post("/api/bulk/syncs", body(source_connection_id=str(hubspot.pk), schemas=[],
                                                     source_configuration={"query_api": "bulk"}))
    assert response.status_code == 400 and error_field(response) == "source_configuration.query_api"


def test_a_missing_required_member_is_refused(bulk_api, body):
    request = body()
    del request["destination_connection_id"]
    response = bulk_api.post("/api/bulk/syncs", request)
    assert response.status_code in (400, 422)
    assert "destination_connection_id" in response.content.decode()


def test_an_unreachable_source_is_named(bulk_api, body, fake_source):
    sync = created(bulk_api, body())
    fake_source.broken = True
    # an object the cached list lacks makes the services ask the source again
    refused = bulk_api.post("/api/bulk/syncs", body(schemas=["Opportunity"]))
    assert refused.status_code == 400 and error_field(refused) == "source_connection_id"
    assert "connection refused" in refused.json()["message"]
    answer = bulk_api.get(f"/api/bulk/syncs/{sync['id']}?refresh_schemas=true")
    assert answer.status_code == 400 and answer.json()["key"] == "source_discovery_failed"


def test_update_replaces_the_definition_and_forgets_cursors_of_objects_left_out(bulk_api, body):
    sync = created(bulk_api, body(schemas=["Contact", "Account"]))
    BulkSync.objects.filter(pk=sync["id"]).update(cursors={"Contact": "2026-01-01", "Account": "2026-01-02"})
    response = bulk_api.put(f"/api/bulk/syncs/{sync['id']}", body(
        name="Renamed", schemas=["Account"], mode="append", default_schedule={"frequency": "daily", "hour": 3,
                                                                                "minute": 30}))
    assert response.status_code == 200, response.content
    updated = response.json()["data"]
    assert updated["name"] == "Renamed" and updated["mode"] == "append"
    assert [s["id"] for s in BulkSync.objects.get(pk=sync["id"]).schemas] == ["Account"]
    assert BulkSync.objects.get(pk=sync["id"]).cursors == {"Account": "2026-01-02"}
    assert BulkSync.objects.get(pk=sync["id"]).next_run_at is not None

    renamed = bulk_api.put(f"/api/bulk/syncs/{sync['id']}", body(schemas=[
        "Contact", {"id": "Account", "user_output_name": "companies"}]))
    assert renamed.status_code == 200
    assert BulkSync.objects.get(pk=sync["id"]).cursors == {}, "a new table starts with a full read"
    BulkSync.objects.filter(pk=sync["id"]).update(cursors={"Contact": "2026-01-01"})
    moved = bulk_api.put(f"/api/bulk/syncs/{sync['id']}", body(destination_configuration={"schema": "elsewhere"}))
    assert moved.status_code == 200
    assert BulkSync.objects.get(pk=sync["id"]).cursors == {}

    refused = bulk_api.put(f"/api/bulk/syncs/{sync['id']}", body(destination_configuration={"schema": ""}))
    assert refused.status_code == 400 and error_field(refused) == "destination_configuration.schema"
    assert BulkSync.objects.get(pk=sync["id"]).name == "Salesforce to warehouse"


def test_activate_and_delete(bulk_api, body):
    sync = created(bulk_api, body(default_schedule={"frequency": "hourly", "minute": 5}))
    assert BulkSync.objects.get(pk=sync["id"]).next_run_at is not None
    paused = bulk_api.post(f"/api/bulk/syncs/{sync['id']}/activate", {"active": False})
    assert paused.json()["data"] == {"id": sync["id"], "active": False}
    assert BulkSync.objects.get(pk=sync["id"]).next_run_at is None
    assert bulk_api.get("/api/bulk/syncs?active=true").json()["data"] == []

    assert bulk_api.delete(f"/api/bulk/syncs/{sync['id']}").status_code == 200
    assert bulk_api.get(f"/api/bulk/syncs/{sync['id']}").status_code == 404


def test_a_running_sync_is_not_deleted(bulk_api, body):
    sync = created(bulk_api, body())
    bulk_api.post(f"/api/bulk/syncs/{sync['id']}/executions")
    response = bulk_api.delete(f"/api/bulk/syncs/{sync['id']}")
    assert response.status_code == 409 and response.json()["key"] == "sync_running"
    assert BulkSync.objects.filter(pk=sync["id"]).exists()


def test_another_organization_sees_nothing(bulk_api, body, other_api):
    sync = created(bulk_api, body())
    other = Api(other_api)
    base = f"/api/bulk/syncs/{sync['id']}"
    execution = bulk_api.post(f"{base}/executions").json()["data"]
    assert other.get("/api/bulk/syncs").json()["data"] == []
    for response in (other.get(base), other.put(base, body(name="Stolen")), other.delete(base),
                     other.get(f"{base}/schemas"), other.get(f"{base}/schemas/Contact"),
                     other.post(f"{base}/activate", {"active": False}), other.post(f"{base}/executions"),
                     other.get(f"{base}/executions"), other.get(f"{base}/executions/{execution['id']}"),
                     other.post(f"{base}/executions/{execution['id']}/cancel"), other.post(f"{base}/cancel"),
                     other.get(f"{base}/status"), other.get(f"/api/bulk/syncs/status?sync_id={sync['id']}")):
        assert response.status_code == 404, response.content
    assert BulkSync.objects.get(pk=sync["id"]).name == "Salesforce to warehouse"
    assert BulkExecution.objects.get(pk=execution["id"]).status == "queued"

    # nor can it name this organization's connections in its own syncs
    stolen = other.post("/api/bulk/syncs", body())
    assert stolen.status_code == 400 and error_field(stolen) == "source_connection_id"


def test_starting_checks_its_options(bulk_api, body):
    sync = created(bulk_api, body())
    base = f"/api/bulk/syncs/{sync['id']}/executions"
    for options, field in (({"resync_mode": "wipe"}, "resync_mode"), ({"fetch_mode": "some"}, "fetch_mode"),
                           ({"test": True, "resync_mode": "resync"}, "resync_mode"),
                           ({"resync": True}, "resync"), ({"schemas": ["Account"]}, "schemas[0]")):
        response = bulk_api.post(base, options)
        assert response.status_code == 400, (options, response.content)
        assert error_field(response) == field
    assert BulkExecution.objects.count() == 0


def test_one_run_at_a_time_and_cancel(bulk_api, body):
    sync = created(bulk_api, body())
    base = f"/api/bulk/syncs/{sync['id']}"
    first = bulk_api.post(f"{base}/executions", {"fetch_mode": "full"}).json()["data"]
    assert first["status"] == "scheduled", "BulkExecutionStatus has no queued"
    assert first["fetch_mode"] == "full" and first["type"] == "api"
    again = bulk_api.post(f"{base}/executions")
    assert again.status_code == 409 and again.json()["metadata"] == {"execution_id": first["id"]}
    test_run = bulk_api.post(f"{base}/executions", {"test": True})
    assert test_run.status_code == 200 and test_run.json()["data"]["is_test"] is True

    status = bulk_api.get(f"{base}/status").json()["data"]
    assert status["current_execution"]["id"] == first["id"] and status["last_execution"] is None

    canceled = bulk_api.post(f"{base}/executions/{first['id']}/cancel")
    assert canceled.json()["data"]["message"] == "Execution canceled."
    assert bulk_api.get(f"{base}/executions/{first['id']}").json()["data"]["status"] == "canceled"
    again = bulk_api.post(f"{base}/executions/{first['id']}/cancel")
    assert again.status_code == 400 and again.json()["key"] == "not_cancelable"
    assert bulk_api.post(f"{base}/cancel").json()["data"]["message"] == "No execution is running."


def test_a_run_is_reported_per_object(bulk_api, body, fake_source):
    fake_source.records["Contact"] = [
        {"Id": "c1", "Email": "ada@acme.example", "LastName": "Lovelace", "SystemModstamp": "2026-01-01T00:00:00Z"},
        {"Id": "c2", "Email": "grace@acme.example", "LastName": "Hopper", "SystemModstamp": "2026-01-02T00:00:00Z"},
        {"Id": "c3", "Email": "alan@acme.example", "LastName": "Turing", "SystemModstamp": "2026-01-03T00:00:00Z"}]
    sync = created(bulk_api, body(schemas=["Contact", "Account"]))
    base = f"/api/bulk/syncs/{sync['id']}"
    started = bulk_api.post(f"{base}/executions").json()["data"]
    runs.bulk_runs.run(started["id"])

    execution = bulk_api.get(f"{base}/executions/{started['id']}").json()["data"]
    assert execution["status"] == "completed" and execution["record_count"] == 3
    by_schema = {s["schema"]: s for s in execution["schemas"]}
    assert by_schema["Contact"]["record_count"] == 3 and by_schema["Contact"]["output_name"] == "salesforce_contact"
    assert by_schema["Account"]["record_count"] == 0 and by_schema["Account"]["status"] == "completed"

    status = bulk_api.get(f"{base}/status").json()["data"]
    assert status["current_execution"] is None and status["last_execution"]["id"] == started["id"]
    every = bulk_api.get("/api/bulk/syncs/status").json()["data"]
    assert every[0]["sync_id"] == sync["id"] and every[0]["status"] == "completed"
    assert {s["schema"]: s["record_count"] for s in every[0]["schemas"]} == {"Account": 0, "Contact": 3}

    second = bulk_api.post(f"{base}/executions").json()["data"]
    runs.bulk_runs.run(second["id"])
    assert fake_source.reads[-2:] == [("Contact", "2026-01-03T00:00:00Z"), ("Account", None)]
    listed = bulk_api.get(f"{base}/executions?limit=1")
    page = listed.json()
    assert [e["id"] for e in page["data"]] == [second["id"]]
    rest = bulk_api.get(f"{base}/executions?limit=1&page_token={page['pagination']['next_page_token']}")
    assert [e["id"] for e in rest.json()["data"]] == [started["id"]]
