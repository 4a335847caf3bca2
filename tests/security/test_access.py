"""Attacks on roles, policies and users from another organization, and privilege climbing from inside."""

import httpx
import pytest

from console.access.models import PermissionRole, Policy
from console.access.services import builtin_roles, create_policy, create_role
from console.accounts.models import Membership, Role
from console.accounts.services import create_api_key, sign_up
from tests.trust.conftest import one_of_each

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def victim(organization, org_admin):
    role = create_role(organization, "Victim runners", ["read", "trigger"])
    policy = create_policy(organization, "Victim policy", [{"action": "read", "role_ids": [str(role.pk)]}])
    return {"role": role, "policy": policy, "admin": org_admin, "organization": organization}


@pytest.fixture
def attacker(live):
    """Another organization's admin key, on the same live server."""
    other = sign_up("attacker@example.com", "correct-horse-battery", "Globex")
    _, raw = create_api_key(other.memberships.get().organization, "attacker")
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {raw}"}, timeout=30.0) as client:
        client.organization = other.memberships.get().organization
        yield client


def test_another_organization_reads_changes_and_uses_nothing(victim, attacker):
    role, policy, admin = str(victim["role"].pk), str(victim["policy"].pk), str(victim["admin"].pk)
    for method, path, body in [
        ("GET", f"/api/permissions/roles/{role}", None),
        ("PUT", f"/api/permissions/roles/{role}", {"name": "Owned"}),
        ("DELETE", f"/api/permissions/roles/{role}", None),
        ("GET", f"/api/permissions/policies/{policy}", None),
        ("PUT", f"/api/permissions/policies/{policy}", {"name": "Owned", "policy_actions": []}),
        ("DELETE", f"/api/permissions/policies/{policy}", None),
        ("GET", f"/api/organization/users/{admin}", None),
        ("PUT", f"/api/organization/users/{admin}", {"role": "read_only"}),
        ("DELETE", f"/api/organization/users/{admin}", None),
    ]:
        answer = attacker.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["key"] == "not_found"

    listed = [r["id"] for r in attacker.get("/api/permissions/roles").json()["data"]]
    assert role not in listed and len(listed) == 3
    assert attacker.get("/api/permissions/policies").json()["data"] == []
    assert [u["email"] for u in attacker.get("/api/organization/users").json()["data"]] == ["attacker@example.com"]

    # using the victim's role or organization from the attacker's own requests
    used = attacker.post("/api/permissions/policies", json={
        "name": "Borrowed", "policy_actions": [{"action": "read", "role_ids": [role]}]})
    assert used.status_code == 400 and used.json()["message"] == (
        f"policy_actions.0.role_ids: no role {role} in this organization")
    joined = attacker.post("/api/organization/users", json={"email": "spy@example.com", "role_ids": [role]})
    assert joined.status_code == 422
    moved = attacker.post("/api/permissions/roles", json={
        "name": "Planted", "organization_id": str(victim["organization"].pk)})
    assert moved.status_code == 404

    assert PermissionRole.objects.get(pk=role).name == "Victim runners"
    assert Policy.objects.get(pk=policy).policy_actions == [{"action": "read", "role_ids": [role]}]
    assert Membership.objects.get(user=victim["admin"]).role == Role.ADMIN
    assert not PermissionRole.objects.filter(name="Planted").exists()


def test_a_member_granted_one_sync_cannot_climb(live, organization):
    """A key with no organization role but a policy on one sync cannot grant itself more."""
    ids = one_of_each(organization)
    key, raw = create_api_key(organization, "narrow", role="")
    member = builtin_roles(organization)[Role.MEMBER]
    create_policy(organization, "Narrow", [{"action": "read", "role_ids": [str(member.pk)]},
                                           {"action": "apply_policy", "role_ids": [str(member.pk)]}],
                  target_kind="sync", target_id=ids["sync"], api_keys=[key])
    headers = {"Authorization": f"Bearer {raw}"}
    for method, path, body in [
        ("POST", "/api/permissions/policies", {"name": "Everything", "policy_actions": [
            {"action": action, "role_ids": [str(member.pk)]} for action in ("read", "edit", "delete")]}),
        ("POST", "/api/permissions/roles", {"name": "Mine"}),
        ("POST", "/api/organization/users", {"email": "friend@example.com", "role": "admin"}),
        ("GET", "/api/organization/users", None),
        ("DELETE", f"/api/syncs/{ids['sync']}", None),
    ]:
        answer = live.request(method, path, json=body, headers=headers)
        assert answer.status_code == 403, (method, path, answer.text)
    assert Policy.objects.count() == 1 and not PermissionRole.objects.filter(name="Mine").exists()
    assert live.get(f"/api/syncs/{ids['sync']}", headers=headers).status_code == 200
