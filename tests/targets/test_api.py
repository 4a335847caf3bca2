"""GET/POST /api/connections/{id}/modelsync/targetobjects, .../properties/{property},
.../target/fields, against the sandbox."""

import pytest

from console.targets.models import DiscoveryCache

pytestmark = pytest.mark.django_db


def test_seed_000_lists_salesloft_cadences_with_post(api, target):
    salesloft = target("salesloft")
    # Seed 000 step 4, verbatim: POST, JSON content type, no body.
    response = api.post(f"/api/connections/{salesloft.pk}/modelsync/targetobjects",
                        content_type="application/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    ids = [o["id"] for o in body["data"]]
    assert ids[:2] == ["accounts", "people"] and "cadence:10" in ids
    cadence = next(o for o in body["data"] if o["id"] == "cadence:10")
    assert cadence["name"] == "Cadence: Inbound Leads - Fast Follow"
    assert {"id": "updateOrCreate", "requires_identity": True, "supports_target_filters": False,
            "supports_per_field_mode": True} .items() <= cadence["modes"][0].items()
    assert body["target_creation"] == {"supported": False, "properties": []}
    assert api.get(f"/api/connections/{salesloft.pk}/modelsync/targetobjects").json() == body


def test_discovery_is_cached_until_refreshed(api, target, sandbox):
    salesloft = target("salesloft")
    url = f"/api/connections/{salesloft.pk}/modelsync/targetobjects"
    api.get(url)
    sandbox.state.scoped("salesloft").update("cadences", 12, {"name": "Webinar Follow-up (2026)"})
    names = [o["name"] for o in api.get(url).json()["data"]]
    assert "Cadence: Webinar Follow-up" in names  # from the cache
    names = [o["name"] for o in api.get(url + "?refresh=true").json()["data"]]
    assert "Cadence: Webinar Follow-up (2026)" in names
    assert DiscoveryCache.objects.filter(connection=salesloft, key="objects").count() == 1


def test_seed_000_target_fields_of_a_cadence(api, target):
    salesloft = target("salesloft")
    response = api.get(f"/api/connections/{salesloft.pk}/modelsync/target/fields",
                       {"target": "cadence:10"})
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["id"] == "cadence:10" and data["name"] == "Cadence: Inbound Leads - Fast Follow"
    fields = {f["id"]: f for f in data["fields"]}
    assert fields["Email"]["supports_identity"] and fields["Email"]["identity_functions"][0]["id"] == "Equality"
    assert fields["FirstName"]["name"] == "First name" and fields["FirstName"]["createable"]
    assert [m["mode"] for m in data["modes"]] == ["updateOrCreate", "update", "remove"]
    assert all(m["label"] and m["description"] for m in data["modes"])
    assert data["refreshed_at"] and data["properties"]["target_creator"] is False


def test_unknown_target_and_non_target_connections(api, target, snowflake, other_api):
    salesloft = target("salesloft")
    fields_url = f"/api/connections/{salesloft.pk}/modelsync/target/fields"
    missing = api.get(fields_url, {"target": "opportunities"})
    assert missing.status_code == 404 and "opportunities" in missing.json()["message"]
    neither = api.get(fields_url)
    assert neither.status_code == 400 and neither.json()["metadata"]["errors"][0]["field"] == "target"
    assert api.get(f"/api/connections/{snowflake.pk}/modelsync/targetobjects").status_code == 400
    assert other_api.get(f"/api/connections/{salesloft.pk}/modelsync/targetobjects").status_code == 404
    no_creation = api.get(f"/api/connections/{salesloft.pk}/modelsync/targetobjects/properties/account")
    assert no_creation.status_code == 404


def test_provider_failure_is_a_400_in_the_providers_words(api, target, sandbox):
    salesloft = target("salesloft", configuration={"auth_method": "api_key"})
    salesloft.secrets = {"api_key": "revoked"}
    salesloft.save()
    response = api.get(f"/api/connections/{salesloft.pk}/modelsync/targetobjects")
    assert response.status_code == 400 and response.json()["key"] == "target_discovery_failed"
    assert "refused the credentials: The access token is invalid" in response.json()["message"]
    assert "revoked" not in response.json()["message"]
