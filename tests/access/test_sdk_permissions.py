"""Permissions roles and policies through the official SDK (client.permissions.roles / .policies)."""

import httpx
import pytest
from polytomic import PolicyAction
from polytomic.core.api_error import ApiError as SdkError
from polytomic.errors import BadRequestError, ForbiddenError, NotFoundError

from console.access.models import PermissionRole, Policy
from console.access.services import builtin_roles, create_policy
from console.accounts.models import Role
from console.accounts.services import create_api_key, sign_up
from tests.sdk_strict import strict_sdk

pytestmark = pytest.mark.django_db(transaction=True)
UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def client(live_server, api_key):
    return strict_sdk(live_server.url, api_key)


@pytest.fixture
def outsider(live_server):
    other = sign_up("other@example.com", "correct-horse-battery", "Globex")
    _, raw = create_api_key(other.memberships.get().organization, "globex")
    return strict_sdk(live_server.url, raw)


def test_roles_are_listed_created_renamed_and_deleted_but_built_ins_never_change(client, organization):
    listed = client.permissions.roles.list().data
    assert [(r.name, r.system) for r in listed] == [("Read-only", True), ("Member", True), ("Admin", True)]
    builtin = builtin_roles(organization)
    assert {r.id for r in listed} == {str(role.pk) for role in builtin.values()}
    assert {r.organization_id for r in listed} == {str(organization.pk)}

    created = client.permissions.roles.create(name="Sync runners").data
    stored = PermissionRole.objects.get(pk=created.id)
    assert (stored.name, stored.organization_id, stored.builtin, created.system) == (
        "Sync runners", organization.pk, "", False)
    assert client.permissions.roles.get(created.id).data.name == "Sync runners"
    renamed = client.permissions.roles.update(created.id, name="Runners", organization_id=str(organization.pk)).data
    assert renamed.name == "Runners" and PermissionRole.objects.get(pk=created.id).name == "Runners"
    assert len(client.permissions.roles.list().data) == 4

    admin = str(builtin[Role.ADMIN].pk)
    with pytest.raises(ForbiddenError) as changed:
        client.permissions.roles.update(admin, name="Owner")
    assert changed.value.body.message == "Admin is a built-in role; built-in roles cannot be changed."
    with pytest.raises(ForbiddenError) as deleted:
        client.permissions.roles.delete(admin)
    assert deleted.value.body.message == "Admin is a built-in role; built-in roles cannot be deleted."
    assert PermissionRole.objects.get(pk=admin).name == "Admin"

    policy = create_policy(organization, "Runners run", [{"action": "trigger", "role_ids": [created.id, admin]}])
    client.permissions.roles.delete(created.id)
    assert not PermissionRole.objects.filter(pk=created.id).exists()
    policy.refresh_from_db()
    assert policy.policy_actions == [{"action": "trigger", "role_ids": [admin]}]


def test_role_refusals(client, organization, outsider, live_server, api_key):
    with pytest.raises(SdkError) as taken:
        client.permissions.roles.create(name="member")
    assert taken.value.status_code == 409 and taken.value.body["message"] == "name: a role named member already exists"
    with pytest.raises(NotFoundError) as unknown:
        client.permissions.roles.get(UNKNOWN)
    assert unknown.value.body.message == f"No role with id {UNKNOWN} in this organization."
    with pytest.raises(NotFoundError) as elsewhere:
        client.permissions.roles.create(name="Spies", organization_id=UNKNOWN)
    assert elsewhere.value.body.message == f"No organization with id {UNKNOWN}."
    mine = client.permissions.roles.create(name="Mine").data
    for call in (lambda: outsider.permissions.roles.get(mine.id),
                 lambda: outsider.permissions.roles.update(mine.id, name="Taken"),
                 lambda: outsider.permissions.roles.delete(mine.id)):
        with pytest.raises(NotFoundError):
            call()
    assert [r.name for r in outsider.permissions.roles.list().data if not r.system] == []
    assert PermissionRole.objects.get(pk=mine.id).name == "Mine"
    blank = httpx.post(f"{live_server.url}/api/permissions/roles", json={"name": "  "},
                       headers={"Authorization": f"Bearer {api_key}"})
    assert blank.status_code == 400 and blank.json()["message"] == "name: is required"
    missing = httpx.post(f"{live_server.url}/api/permissions/roles", json={},
                         headers={"Authorization": f"Bearer {api_key}"})
    assert missing.status_code == 400 and missing.json()["metadata"]["errors"][0]["field"] == "name"


def test_policies_are_listed_created_replaced_and_deleted(client, organization):
    runners = client.permissions.roles.create(name="Runners").data
    member = str(builtin_roles(organization)[Role.MEMBER].pk)
    created = client.permissions.policies.create(name="Run everything", policy_actions=[
        PolicyAction(action="read", role_ids=[runners.id]),
        PolicyAction(action="trigger", role_ids=[runners.id, member])]).data
    stored = Policy.objects.get(pk=created.id)
    assert (stored.name, stored.target_kind, created.system) == ("Run everything", "organization", False)
    assert stored.policy_actions == [{"action": "read", "role_ids": [runners.id]},
                                     {"action": "trigger", "role_ids": [runners.id, member]}]
    assert [(a.action, a.role_ids) for a in created.policy_actions] == [
        ("read", [runners.id]), ("trigger", [runners.id, member])]
    assert [p.id for p in client.permissions.policies.list().data] == [created.id]
    assert client.permissions.policies.get(created.id).data.name == "Run everything"

    replaced = client.permissions.policies.update(created.id, name="Read everything", policy_actions=[
        PolicyAction(action="read", role_ids=[runners.id])]).data
    assert replaced.name == "Read everything" and len(replaced.policy_actions) == 1
    assert Policy.objects.get(pk=created.id).policy_actions == [{"action": "read", "role_ids": [runners.id]}]
    client.permissions.policies.delete(created.id)
    assert not Policy.objects.filter(pk=created.id).exists()
    assert client.permissions.policies.list().data == []


def test_policy_refusals(client, organization, outsider, live_server):
    foreign = outsider.permissions.roles.create(name="Theirs").data
    cases = [
        ([PolicyAction(action="launch", role_ids=[])],
         "policy_actions.0.action: must be one of read, create, edit, delete, trigger, apply_policy"),
        ([PolicyAction(action="read", role_ids=[foreign.id])],
         f"policy_actions.0.role_ids: no role {foreign.id} in this organization"),
        ([PolicyAction(action="read", role_ids=[]), PolicyAction(action="read", role_ids=[])],
         "policy_actions.1.action: 'read' is listed twice"),
    ]
    for actions, message in cases:
        with pytest.raises(BadRequestError) as refused:
            client.permissions.policies.create(name="Bad", policy_actions=actions)
        assert refused.value.body.message == message
    assert not Policy.objects.exists()
    with pytest.raises(NotFoundError) as unknown:
        client.permissions.policies.get(UNKNOWN)
    assert unknown.value.body.message == f"No policy with id {UNKNOWN} in this organization."

    mine = client.permissions.policies.create(name="Mine", policy_actions=[]).data
    for call in (lambda: outsider.permissions.policies.get(mine.id),
                 lambda: outsider.permissions.policies.update(mine.id, name="Taken", policy_actions=[]),
                 lambda: outsider.permissions.policies.delete(mine.id)):
        with pytest.raises(NotFoundError):
            call()
    assert outsider.permissions.policies.list().data == []
    assert Policy.objects.get(pk=mine.id).name == "Mine"


def test_only_admins_change_roles_and_policies(live_server, organization):
    _, raw = create_api_key(organization, "member key", role=Role.MEMBER)
    member = strict_sdk(live_server.url, raw)
    assert len(member.permissions.roles.list().data) == 3
    with pytest.raises(ForbiddenError) as refused:
        member.permissions.roles.create(name="Mine")
    assert refused.value.body.message == "Only organization admins can do this. This API key has the Member role."
    with pytest.raises(ForbiddenError):
        member.permissions.policies.create(name="Mine", policy_actions=[])
    assert not PermissionRole.objects.filter(builtin="").exists() and not Policy.objects.exists()
