"""Object policies: a principal with no organization role, granted one sync, sees and runs that
sync and nothing else of its kind, through the API and the console alike."""

import pytest
from django.test import Client

from console.access.services import create_policy, create_role, share
from console.accounts.models import Membership
from console.accounts.services import add_member, create_api_key, sign_up
from console.engine.models import Execution
from console.syncs.models import Sync
from tests.trust.conftest import one_of_each

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(organization, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    ids = one_of_each(organization)
    granted = Sync.objects.get(pk=ids["sync"])
    other = Sync.objects.create(organization=organization, name="Other sync", mode="updateOrCreate",
                                model=granted.model, target_connection=granted.target_connection,
                                target_object="people", identity=granted.identity, fields=[],
                                schedule={"frequency": "manual"})
    runners = create_role(organization, "Runners", ["read", "trigger"])
    return {"ids": ids, "granted": granted, "other": other, "runners": runners}


@pytest.fixture
def runner_key(world, organization):
    """An API key with no organization role, named by a policy on one sync."""
    key, raw = create_api_key(organization, "runner", role="")
    create_policy(organization, "Runner key runs one sync",
                  [{"action": "read", "role_ids": [str(world["runners"].pk)]},
                   {"action": "trigger", "role_ids": [str(world["runners"].pk)]}],
                  target_kind="sync", target_id=world["granted"].pk, api_keys=[key])
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def runner(world, organization):
    """A member with no organization role who was granted the Runners role on one sync."""
    user = sign_up("runner@example.com", "correct-horse-battery", "Runner's own")
    Membership.objects.filter(user=user).delete()
    add_member(organization, user, "")
    share(organization, "sync", world["granted"], user, world["runners"])
    client = Client()
    client.force_login(user)
    return client


def test_the_api_shows_and_runs_the_granted_sync_and_nothing_else_of_its_kind(world, runner_key):
    granted, other = str(world["granted"].pk), str(world["other"].pk)
    listed = runner_key.get("/api/syncs").json()["data"]
    assert [s["id"] for s in listed] == [granted]
    assert runner_key.get(f"/api/syncs/{granted}").json()["data"]["name"] == "Users to CRM"

    hidden = runner_key.get(f"/api/syncs/{other}")
    assert hidden.status_code == 404 and hidden.json() == {"status": 404, "message": "Not found.",
                                                           "key": "not_found", "metadata": {}}
    started = runner_key.post(f"/api/syncs/{granted}/executions", "{}", content_type="application/json")
    assert started.status_code == 200
    assert Execution.objects.filter(sync_id=granted, pk=started.json()["data"]["id"]).exists()

    refused = runner_key.post(f"/api/syncs/{other}/executions", "{}", content_type="application/json")
    assert refused.status_code == 403 and refused.json()["metadata"] == {"required_role": "member"}
    assert not Execution.objects.filter(sync_id=other).exists()
    deleting = runner_key.delete(f"/api/syncs/{granted}")
    assert deleting.status_code == 403
    assert Sync.objects.filter(pk=granted).exists()

    # nothing of the other kinds: no models, connections or bulk syncs, and no creating syncs
    assert runner_key.get("/api/models").json()["data"] == []
    assert runner_key.get("/api/connections").json()["data"] == []
    assert runner_key.get("/api/bulk/syncs").json()["data"] == []
    assert runner_key.get(f"/api/models/{world['ids']['model']}").status_code == 404
    assert runner_key.post("/api/syncs", "{}", content_type="application/json").status_code == 403
    assert runner_key.get("/api/webhooks").status_code == 403


def test_the_console_shows_and_runs_the_granted_sync_and_nothing_else_of_its_kind(world, runner):
    granted, other = world["granted"].pk, world["other"].pk
    page = runner.get("/syncs").content.decode()
    assert "Users to CRM" in page and "Other sync" not in page
    assert runner.get(f"/syncs/{granted}").status_code == 200
    assert runner.get(f"/syncs/{other}").status_code == 404
    assert runner.get(f"/syncs/{granted}/runs").status_code == 200

    assert runner.post(f"/syncs/{granted}/runs/start", {"kind": "run"}).status_code == 302
    assert Execution.objects.filter(sync_id=granted, trigger="manual").exists()
    assert runner.post(f"/syncs/{other}/runs/start", {"kind": "run"}).status_code == 403
    assert not Execution.objects.filter(sync_id=other).exists()
    assert runner.post(f"/syncs/{granted}/delete").status_code == 403
    assert runner.get(f"/syncs/{granted}/edit").status_code == 403

    assert "Users" not in runner.get("/models").content.decode()
    assert runner.get(f"/models/{world['ids']['model']}").status_code == 404
    assert "Warehouse" not in runner.get("/connections").content.decode()
    assert runner.get("/settings").status_code == 403


def test_an_organization_wide_policy_gives_role_holders_every_object(world, organization):
    user = sign_up("holder@example.com", "correct-horse-battery", "Holder's own")
    Membership.objects.filter(user=user).delete()
    membership = add_member(organization, user, "")
    readers = create_role(organization, "Readers")
    membership.custom_roles.add(readers)
    client = Client()
    client.force_login(user)
    assert client.get(f"/syncs/{world['other'].pk}").status_code == 404
    create_policy(organization, "Readers read", [{"action": "read", "role_ids": [str(readers.pk)]}])
    assert client.get(f"/syncs/{world['other'].pk}").status_code == 200
    page = client.get("/syncs").content.decode()
    assert "Users to CRM" in page and "Other sync" in page
    assert client.post(f"/syncs/{world['other'].pk}/runs/start", {"kind": "run"}).status_code == 403


def test_a_custom_role_held_organization_wide_grants_its_permissions(world, organization):
    user = sign_up("custom@example.com", "correct-horse-battery", "Custom's own")
    Membership.objects.filter(user=user).delete()
    add_member(organization, user, "").custom_roles.add(world["runners"])
    client = Client()
    client.force_login(user)
    assert client.post(f"/syncs/{world['other'].pk}/runs/start", {"kind": "run"}).status_code == 302
    assert client.post(f"/syncs/{world['other'].pk}/delete").status_code == 403
    assert "Other sync" in client.get("/syncs").content.decode()


def test_removing_a_member_takes_back_what_was_granted_to_them(world, organization, runner, console):
    from console.access.models import Policy

    membership = Membership.objects.get(user__email="runner@example.com", organization=organization)
    assert Policy.objects.filter(users=membership.user).count() == 1
    assert console.post(f"/settings/members/{membership.pk}/remove").status_code == 302
    assert not Policy.objects.exists()
    add_member(organization, membership.user, "")
    assert runner.get(f"/syncs/{world['granted'].pk}").status_code == 404


def test_a_member_granted_a_model_sees_no_sync_of_it_they_may_not_read(world, organization):
    from console.datamodels.models import DataModel

    user = sign_up("modeler@example.com", "correct-horse-battery", "Modeler's own")
    Membership.objects.filter(user=user).delete()
    add_member(organization, user, "")
    model = DataModel.objects.get(pk=world["ids"]["model"])
    share(organization, "model", model, user, world["runners"])
    client = Client()
    client.force_login(user)
    page = client.get(f"/models/{model.pk}").content.decode()
    assert "Users to CRM" not in page and "Other sync" not in page
    share(organization, "sync", world["granted"], user, world["runners"])
    page = client.get(f"/models/{model.pk}").content.decode()
    assert "Users to CRM" in page and "Other sync" not in page
