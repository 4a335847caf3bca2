"""Users of an organization through the official SDK (client.users.*, create_api_key aside)."""

import httpx
import pytest
from polytomic.core.api_error import ApiError as SdkError
from polytomic.errors import ForbiddenError, NotFoundError, UnprocessableEntityError

from console.access.models import PermissionRole
from console.access.services import builtin_roles, create_role
from console.accounts.models import Membership, Role, User
from console.accounts.services import create_api_key, sign_up
from tests.sdk_strict import strict_sdk

pytestmark = pytest.mark.django_db(transaction=True)
UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def client(live_server, api_key):
    return strict_sdk(live_server.url, api_key)


@pytest.fixture
def partner(live_server, partner_key):
    return strict_sdk(live_server.url, partner_key)


def held(organization, email) -> tuple[str, set[str]]:
    membership = Membership.objects.get(organization=organization, user__email=email)
    return membership.role, {str(r.pk) for r in membership.custom_roles.all()}


def test_the_callers_organization_users_are_created_listed_changed_and_removed(client, organization, org_admin):
    builtin = builtin_roles(organization)
    analysts = create_role(organization, "Analysts", ["read", "trigger"])

    created = client.users.create_current_org_user(email="Ada@Example.com", role="read_only").data
    ada = User.objects.get(email="ada@example.com")
    assert (created.id, created.email, created.organization_id) == (str(ada.pk), "ada@example.com", str(organization.pk))
    assert created.role == "read_only" and created.role_ids == [str(builtin[Role.READ_ONLY].pk)]
    assert held(organization, "ada@example.com") == ("read_only", set())

    listed = client.users.list_current_org_users().data
    assert [(u.email, u.role) for u in listed] == [("ada@example.com", "read_only"), ("admin@example.com", "admin")]
    assert listed[1].role_ids == [str(builtin[Role.ADMIN].pk)]

    changed = client.users.update_current_org_user(
        str(ada.pk), role_ids=[str(builtin[Role.MEMBER].pk), str(analysts.pk)]).data
    assert changed.role == "member" and set(changed.role_ids) == {str(builtin[Role.MEMBER].pk), str(analysts.pk)}
    assert held(organization, "ada@example.com") == ("member", {str(analysts.pk)})

    only_custom = client.users.update_current_org_user(str(ada.pk), role_ids=[str(analysts.pk)]).data
    assert only_custom.role is None and only_custom.role_ids == [str(analysts.pk)]
    assert held(organization, "ada@example.com") == ("", {str(analysts.pk)})

    got = client.users.get_current_org_user(str(ada.pk)).data
    assert (got.email, got.role_ids) == ("ada@example.com", [str(analysts.pk)])

    removed = client.users.delete_current_org_user(str(ada.pk)).data
    assert removed.email == "ada@example.com"
    assert not Membership.objects.filter(organization=organization, user=ada).exists()


def test_the_last_admin_is_never_demoted_or_removed(client, organization, org_admin):
    with pytest.raises(SdkError) as demoted:
        client.users.update_current_org_user(str(org_admin.pk), role="member")
    assert demoted.value.status_code == 409
    assert "at least one admin" in demoted.value.body["message"]
    with pytest.raises(SdkError) as removed:
        client.users.delete_current_org_user(str(org_admin.pk))
    assert removed.value.status_code == 409 and removed.value.body["key"] == "last_admin"
    assert held(organization, org_admin.email) == ("admin", set())

    client.users.create_current_org_user(email="second@example.com", role="admin")
    assert client.users.update_current_org_user(str(org_admin.pk), role="member").data.role == "member"
    assert held(organization, org_admin.email) == ("member", set())


def test_refusals_name_the_field_and_change_nothing(client, organization, org_admin, live_server, api_key):
    other = sign_up("other@example.com", "correct-horse-battery", "Globex")
    foreign_role = builtin_roles(other.memberships.get().organization)[Role.MEMBER]

    cases = [
        (dict(email="not an email"), "email: is not a valid email address"),
        (dict(email="bo@example.com", role="owner"), "role: must be one of admin, member, read_only"),
        (dict(email="bo@example.com", role="member", role_ids=[str(foreign_role.pk)]),
         "role_ids: give role or role_ids, not both"),
        (dict(email="bo@example.com", role_ids=[]), "role_ids: must list at least one role id"),
        (dict(email="bo@example.com", role_ids=[str(foreign_role.pk)]),
         f"role_ids: no role {foreign_role.pk} in this organization"),
    ]
    for body, message in cases:
        with pytest.raises(UnprocessableEntityError) as refused:
            client.users.create_current_org_user(**body)
        assert refused.value.body.message == message
        assert refused.value.body.metadata["errors"][0]["field"] == message.split(":")[0]
    with pytest.raises(SdkError) as taken:
        client.users.create_current_org_user(email="ADMIN@example.com")
    assert taken.value.status_code == 409
    assert taken.value.body["message"] == "email: admin@example.com is already a member of this organization"
    assert not User.objects.filter(email="bo@example.com").exists()

    with pytest.raises(NotFoundError) as unknown:
        client.users.get_current_org_user(UNKNOWN)
    assert unknown.value.body.message == f"No user with id {UNKNOWN} in this organization."
    with pytest.raises(NotFoundError):
        client.users.get_current_org_user(str(other.pk))  # another organization's user
    with pytest.raises(SdkError) as foreign:
        client.users.update_current_org_user(str(other.pk), role="read_only")
    assert foreign.value.status_code == 404
    with pytest.raises(NotFoundError):
        client.users.delete_current_org_user(str(other.pk))
    assert held(other.memberships.get().organization, "other@example.com") == ("admin", set())

    missing = httpx.post(f"{live_server.url}/api/organization/users", json={"role": "member"},
                         headers={"Authorization": f"Bearer {api_key}"})
    assert missing.status_code == 400 and missing.json()["metadata"]["errors"][0]["field"] == "email"


def test_a_member_key_may_read_users_but_not_change_them(live_server, organization, org_admin):
    _, raw = create_api_key(organization, "member key", role=Role.MEMBER)
    member = strict_sdk(live_server.url, raw)
    assert [u.email for u in member.users.list_current_org_users().data] == ["admin@example.com"]
    with pytest.raises(ForbiddenError) as refused:
        member.users.create_current_org_user(email="eve@example.com", role="admin")
    assert refused.value.body.message == "Only organization admins can do this. This API key has the Member role."
    with pytest.raises(ForbiddenError):
        member.users.update_current_org_user(str(org_admin.pk), role="read_only")
    assert not User.objects.filter(email="eve@example.com").exists()


def test_a_partner_manages_the_users_of_an_organization(partner, organization, org_admin, client):
    org_id = str(organization.pk)
    created = partner.users.create(org_id, email="grace@example.com", role="member").data
    grace = User.objects.get(email="grace@example.com")
    assert (created.id, created.organization_id, created.role) == (str(grace.pk), org_id, "member")
    assert [u.email for u in partner.users.list(org_id).data] == ["admin@example.com", "grace@example.com"]
    assert partner.users.get(org_id, str(grace.pk)).data.role == "member"
    read_only = str(PermissionRole.objects.get(organization=organization, builtin=Role.READ_ONLY).pk)
    updated = partner.users.update(org_id, str(grace.pk), email="grace@example.com", role_ids=[read_only]).data
    assert updated.role == "read_only" and held(organization, "grace@example.com") == ("read_only", set())
    with pytest.raises(UnprocessableEntityError) as renamed:
        partner.users.update(org_id, str(grace.pk), email="someone@example.com")
    assert renamed.value.body.message == "email: cannot be changed here; only the user's roles can"
    assert partner.users.delete(org_id, str(grace.pk)).data.email == "grace@example.com"
    assert not Membership.objects.filter(user=grace, organization=organization).exists()

    with pytest.raises(NotFoundError) as unknown:
        partner.users.list(UNKNOWN)
    assert unknown.value.body.message == f"No organization with id {UNKNOWN}."
    with pytest.raises(ForbiddenError) as ordinary:
        client.users.list(org_id)  # an organization's own key is no partner key
    assert ordinary.value.body.key == "partner_key_required"
