"""The audit log: who did what to which object, from the console or the API."""

import json

import pytest
from django.test import Client

from console.accounts.models import Role
from console.accounts.services import add_member, create_api_key, sign_up
from console.audit.models import AuditEvent
from console.connections.models import Connection
from console.datamodels.models import DataModel
from console.syncs.models import Sync

pytestmark = pytest.mark.django_db

SECRET = "pw-never-in-the-log-7731"


def post_json(client, path, body, method="post"):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


def events(organization, **filters):
    """The organization's events, oldest first (sign-ins only when asked for)."""
    found = AuditEvent.objects.filter(organization=organization, **filters)
    if filters.get("action") != "signed_in":
        found = found.exclude(action="signed_in")
    return list(found.order_by("created_at", "id")
                .values_list("actor", "via", "action", "object_type", "object_id"))


def test_api_changes_are_recorded_with_the_key_that_made_them(api, api_key, organization, sqlite_model_setup):
    connection = sqlite_model_setup
    key_label = f"API key tests ({api_key[:8]}…)"
    model = post_json(api, "/api/models", {"name": "People", "connection_id": str(connection.pk),
                                           "configuration": {"table": "people"}}).json()["data"]
    post_json(api, f"/api/models/{model['id']}", {"name": "People 2", "connection_id": str(connection.pk),
                                                  "configuration": {"table": "people"}}, method="put")
    api.get(f"/api/models/{model['id']}")  # reading is not recorded
    api.delete(f"/api/models/{model['id']}")
    assert events(organization, object_type="model") == [
        (key_label, "api", "created", "model", model["id"]),
        (key_label, "api", "updated", "model", model["id"]),
        (key_label, "api", "deleted", "model", model["id"]),
    ]
    created = AuditEvent.objects.get(action="created", object_type="model")
    assert created.object_name == "People" and created.api_key.name == "tests" and created.user is None


def test_console_changes_runs_and_keys_are_recorded_with_the_user(console, organization, org_admin,
                                                                  sqlite_model_setup):
    connection = sqlite_model_setup
    console.post("/models/new", {"connection": str(connection.pk), "source": "table", "table": "people",
                                 "name": "People", "query": "", "identifier": ""})
    model = DataModel.objects.get(organization=organization)
    console.post(f"/models/{model.pk}/refresh")
    created = console.post("/settings/api-keys", {"name": "ci", "role": "member"})
    key = created.context["api_key"]
    console.post(f"/settings/api-keys/{key.pk}/revoke")
    sync = Sync.objects.create(organization=organization, name="S", mode="updateOrCreate", model=model,
                               target_connection=connection, target_object="people", schedule={})
    console.post(f"/syncs/{sync.pk}/runs/start", {"kind": "run"})
    assert events(organization, via="console") == [
        ("admin@example.com", "console", "created", "model", str(model.pk)),
        ("admin@example.com", "console", "refreshed", "model", str(model.pk)),
        ("admin@example.com", "console", "created", "api_key", str(key.pk)),
        ("admin@example.com", "console", "revoked", "api_key", str(key.pk)),
        ("admin@example.com", "console", "ran", "sync", str(sync.pk)),
    ]
    assert AuditEvent.objects.get(object_type="api_key", action="created").object_name == f"ci ({key.prefix}…)"
    assert key.key_hash not in str(list(AuditEvent.objects.values()))


def test_connection_secrets_never_reach_the_log(api, organization):
    response = post_json(api, "/api/connections", {
        "name": "Salesloft", "type": "salesloft",
        "configuration": {"auth_method": "api_key", "api_key": SECRET}})
    assert response.status_code == 200, response.content
    connection_id = response.json()["data"]["id"]
    [event] = AuditEvent.objects.filter(organization=organization)
    assert (event.action, event.object_type, event.object_id, event.object_name) == (
        "created", "connection", connection_id, "Salesloft")
    assert SECRET not in json.dumps(list(AuditEvent.objects.values()), default=str)
    listed = api.get("/api/audit_events").content.decode()
    assert connection_id in listed and SECRET not in listed


def test_refused_and_failed_requests_change_nothing_and_are_not_recorded(api, organization):
    post_json(api, "/api/connections", {"name": "x", "type": "no-such-type", "configuration": {}})
    api.delete("/api/models/00000000-0000-0000-0000-000000000000")
    assert events(organization) == []


def test_sign_in_is_recorded(organization):
    Client().post("/signin", {"username": "admin@example.com", "password": "correct-horse-battery"})
    assert events(organization, action="signed_in")[0][:3] == ("admin@example.com", "console", "signed_in")


def test_the_page_and_the_api_list_events_for_admins_only(console, api, organization, org_admin):
    AuditEvent.objects.bulk_create(
        AuditEvent(organization=organization, user=org_admin, actor="admin@example.com", via="console",
                   action="deleted" if i % 2 else "created", object_type="sync", object_id=str(i))
        for i in range(60))
    page = console.get("/audit")
    assert page.status_code == 200
    assert page.content.decode().count("<tr>") == 51  # header and the first 50
    only = console.get("/audit?action=deleted").content.decode()
    assert only.count("<td>deleted</td>") == 30 and "<td>created</td>" not in only

    first = api.get("/api/audit_events?object_type=sync&limit=40").json()
    token = first["pagination"]["next_page_token"]
    rest = api.get(f"/api/audit_events?object_type=sync&limit=40&page_token={token}").json()
    assert len(first["data"]) == 40 and len(rest["data"]) == 20
    assert rest["pagination"]["next_page_token"] is None
    assert {e["object_id"] for e in first["data"] + rest["data"]} == {str(i) for i in range(60)}
    assert len(api.get("/api/audit_events?action=created&limit=50").json()["data"]) == 30

    reader = sign_up("reader@example.com", "correct-horse-battery", "Reader's own")
    add_member(organization, reader, Role.READ_ONLY)
    reader.memberships.exclude(organization=organization).delete()
    client = Client()
    client.force_login(reader)
    assert client.get("/audit").status_code == 403
    _, member_key = create_api_key(organization, "member key", role=Role.MEMBER)
    answer = Client(headers={"Authorization": f"Bearer {member_key}"}).get("/api/audit_events")
    assert answer.status_code == 403


def test_other_organizations_see_none_of_it(api, other_api, organization):
    post_json(api, "/api/connections", {"name": "Salesloft", "type": "salesloft",
                                        "configuration": {"auth_method": "api_key", "api_key": SECRET}})
    assert len(api.get("/api/audit_events").json()["data"]) == 1
    assert other_api.get("/api/audit_events").json()["data"] == []


@pytest.fixture
def sqlite_model_setup(organization, tmp_path, settings):
    """A SQLite warehouse connection with a `people` table."""
    import sqlite3

    settings.FILE_CONNECTIONS_DIR = str(tmp_path)
    with sqlite3.connect(tmp_path / "w.sqlite3") as db:
        db.execute("CREATE TABLE people (email TEXT, name TEXT)")
    return Connection.objects.create(organization=organization, name="Local", type="sqlite",
                                     configuration={"path": "w.sqlite3"})


def test_a_filter_with_a_nul_character_is_refused_naming_it(api):
    response = api.get("/api/audit_events", {"action": "ran\x00"})
    assert response.status_code == 400
    assert response.json()["metadata"]["errors"] == [{"field": "action", "message": "must not contain NUL characters"}]
