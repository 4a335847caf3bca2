"""Settings' roles and members, and the Access section of connection, model and sync pages."""

import pytest
from django.test import Client

from console.access.models import PermissionRole, Policy
from console.access.services import builtin_roles, create_role
from console.accounts.models import Membership, Role
from console.accounts.services import add_member, sign_up
from tests.trust.conftest import one_of_each

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(organization):
    user = sign_up("member@example.com", "correct-horse-battery", "Member's own")
    Membership.objects.filter(user=user).delete()
    return add_member(organization, user, Role.MEMBER)


def test_an_admin_creates_edits_and_deletes_a_custom_role(console, organization):
    assert "Read-only" in console.get("/settings").content.decode()
    console.post("/settings/roles", {"name": "Runners", "permissions": ["trigger", "read"]})
    role = PermissionRole.objects.get(organization=organization, name="Runners")
    assert role.permissions == ["read", "trigger"]
    page = console.get("/settings").content.decode()
    assert 'value="Runners"' in page

    console.post(f"/settings/roles/{role.pk}/edit", {"name": "Operators", "permissions": ["read"]})
    role.refresh_from_db()
    assert (role.name, role.permissions) == ("Operators", ["read"])
    refused = console.post(f"/settings/roles/{role.pk}/edit", {"name": "X", "permissions": ["fly"]}, follow=True)
    assert "permissions: &#x27;fly&#x27; is not an action" in refused.content.decode()
    role.refresh_from_db()
    assert role.permissions == ["read"]

    admin = builtin_roles(organization)[Role.ADMIN]
    kept = console.post(f"/settings/roles/{admin.pk}/delete", follow=True).content.decode()
    assert "Admin is a built-in role; built-in roles cannot be deleted." in kept
    console.post(f"/settings/roles/{role.pk}/delete")
    assert not PermissionRole.objects.filter(pk=role.pk).exists()
    assert PermissionRole.objects.filter(pk=admin.pk).exists()


def test_an_admin_gives_a_member_a_custom_role_or_none(console, organization, member):
    runners = create_role(organization, "Runners", ["read", "trigger"])
    console.post(f"/settings/members/{member.pk}/role", {"role": str(runners.pk)})
    member.refresh_from_db()
    assert member.role == "" and list(member.custom_roles.all()) == [runners]
    page = console.get("/settings").content.decode()
    assert f'<option value="{runners.pk}" selected>Runners</option>' in page
    console.post(f"/settings/members/{member.pk}/role", {"role": "none"})
    member.refresh_from_db()
    assert member.role == "" and not member.custom_roles.exists()
    console.post(f"/settings/members/{member.pk}/role", {"role": "member"})
    member.refresh_from_db()
    assert member.role == "member"


def test_members_cannot_manage_roles(organization, member):
    client = Client()
    client.force_login(member.user)
    assert client.post("/settings/roles", {"name": "Mine"}).status_code == 403
    assert not PermissionRole.objects.filter(name="Mine").exists()


@pytest.mark.parametrize("kind, prefix", [("connection", "connections"), ("model", "models"), ("sync", "syncs")])
def test_an_admin_grants_and_revokes_a_role_on_one_object(console, organization, member, kind, prefix):
    ids = one_of_each(organization)
    object_id = ids[kind]
    runners = create_role(organization, "Runners", ["read", "trigger"])
    page = console.get(f"/{prefix}/{object_id}").content.decode()
    assert 'id="grants"' in page and f"No roles granted on this {kind} alone." in page

    response = console.post(f"/{prefix}/{object_id}/grants", {"user": str(member.user_id), "role": str(runners.pk)})
    assert response.status_code == 302 and response["Location"] == f"/{prefix}/{object_id}"
    policy = Policy.objects.get(organization=organization, target_kind=kind, target_id=object_id)
    assert list(policy.users.all()) == [member.user]
    assert policy.policy_actions == [{"action": "read", "role_ids": [str(runners.pk)]},
                                     {"action": "trigger", "role_ids": [str(runners.pk)]}]
    assert "member@example.com" in console.get(f"/{prefix}/{object_id}").content.decode()

    console.post(f"/{prefix}/{object_id}/grants/{policy.pk}/revoke")
    assert not Policy.objects.filter(pk=policy.pk).exists()


def test_grants_refuse_other_organizations_members_and_objects(console, organization):
    ids = one_of_each(organization)
    outsider = sign_up("outsider@example.com", "correct-horse-battery", "Globex")
    runners = create_role(organization, "Runners", ["read"])
    page = console.post(f"/syncs/{ids['sync']}/grants", {"user": str(outsider.pk), "role": str(runners.pk)},
                        follow=True).content.decode()
    assert "Choose a member and a role to grant." in page
    assert not Policy.objects.exists()
    theirs = one_of_each(outsider.memberships.get().organization)
    assert console.post(f"/syncs/{theirs['sync']}/grants", {"user": str(outsider.pk),
                                                            "role": str(runners.pk)}).status_code == 404
    assert not Policy.objects.exists()


def test_role_and_policy_changes_are_audited(console, api, organization):
    from console.audit.models import AuditEvent

    console.post("/settings/roles", {"name": "Runners", "permissions": ["read"]})
    api.post("/api/permissions/policies", {"name": "Readers", "policy_actions": []}, content_type="application/json")
    events = {(e.object_type, e.action, e.object_name, e.via) for e in AuditEvent.objects.filter(organization=organization)}
    assert ("role", "created", "Runners", "console") in events
    assert ("policy", "created", "Readers", "api") in events
