"""GET /api/connections/{id}/bulksync/source and .../bulksync/target: what a bulk sync can read and write."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_source_lists_its_objects_and_with_include_fields_their_fields(bulk_api, fake_source, salesforce):
    offer = bulk_api.get(f"/api/connections/{salesforce.pk}/bulksync/source").json()["data"]
    assert [s["id"] for s in offer["schemas"]] == ["Contact", "Account"]
    assert offer["schemas"][0]["fields"] is None
    assert offer["capabilities"] == {"supports_namespaces": False, "supports_tracking_fields": True}
    assert set(offer["configuration"]) == {"include_deleted"}  # the fake source has no query_api
    detailed = bulk_api.get(f"/api/connections/{salesforce.pk}/bulksync/source?include_fields=true").json()["data"]
    contact = detailed["schemas"][0]["fields"]
    assert [f["id"] for f in contact] == ["Id", "Email", "LastName", "Score__c", "SystemModstamp"]
    assert contact[0] == {"id": "Id", "name": "Id", "type": "string", "remote_type": "string",
                          "is_primary_key": True}


def test_an_unreachable_source_is_a_400_saying_why(bulk_api, fake_source, salesforce):
    fake_source.broken = True
    refused = bulk_api.get(f"/api/connections/{salesforce.pk}/bulksync/source")
    assert refused.status_code == 400 and "connection refused" in refused.json()["message"]


def test_a_destination_lists_its_modes_and_settings(bulk_api, sqlite_destination):
    offer = bulk_api.get(f"/api/connections/{sqlite_destination.pk}/bulksync/target").json()["data"]
    assert [m["id"] for m in offer["modes"]] == ["replicate", "append", "snapshot"]
    assert offer["supported_resync_modes"] == ["refetch", "resync", "rebuild"]
    assert offer["configuration"]["deleted_records"]["enum"] == ["mark", "remove"]


def test_the_wrong_side_is_a_400_naming_the_connection(bulk_api, fake_source, salesforce, sqlite_destination):
    as_destination = bulk_api.get(f"/api/connections/{salesforce.pk}/bulksync/target")
    assert as_destination.status_code == 400 and as_destination.json()["metadata"]["errors"][0]["field"] == "id"
    as_source = bulk_api.get(f"/api/connections/{sqlite_destination.pk}/bulksync/source")
    assert as_source.status_code == 400 and "cannot be a bulk-sync source" in as_source.json()["message"]


def test_another_organizations_connection_is_not_found(other_api, salesforce):
    assert other_api.get(f"/api/connections/{salesforce.pk}/bulksync/source").status_code == 404
    assert other_api.get(f"/api/connections/{salesforce.pk}/bulksync/target").status_code == 404
