"""client.users.create_api_key: a partner issues a key acting as one member of an organization."""

import httpx
import pytest
from polytomic.core.api_error import ApiError as SdkError
from polytomic.errors import ForbiddenError, NotFoundError

from console.accounts.models import ApiKey, Role, hash_api_key
from console.accounts.services import add_member, sign_up
from tests.sdk_strict import strict_sdk

pytestmark = pytest.mark.django_db(transaction=True)
UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def partner(live_server, partner_key):
    return strict_sdk(live_server.url, partner_key)


def body(error) -> dict:
    return error.body if isinstance(error.body, dict) else error.body.dict()


def test_partner_issues_a_working_key_for_a_member(partner, live_server, organization, org_admin):
    value = partner.users.create_api_key(str(organization.pk), str(org_admin.pk)).data.value
    stored = ApiKey.objects.get(key_hash=hash_api_key(value))
    assert (stored.organization, stored.created_by, stored.role, stored.partner) == (
        organization, org_admin, Role.ADMIN, False)
    assert value not in stored.key_hash and stored.prefix == value[:8]

    me = strict_sdk(live_server.url, value).identity.get().data
    assert (me.email, me.organization_id, me.is_user) == (org_admin.email, str(organization.pk), True)


def test_a_second_key_needs_force_which_revokes_the_first(partner, live_server, organization, org_admin):
    first = partner.users.create_api_key(str(organization.pk), str(org_admin.pk)).data.value
    with pytest.raises(SdkError) as held:
        partner.users.create_api_key(str(organization.pk), str(org_admin.pk))
    assert held.value.status_code == 409
    assert body(held.value)["message"] == ("admin@example.com already has an API key; pass force=true to revoke it "
                                           "and issue a new one.")
    second = partner.users.create_api_key(str(organization.pk), str(org_admin.pk), force=True).data.value
    assert ApiKey.objects.get(key_hash=hash_api_key(first)).revoked_at is not None
    assert httpx.get(f"{live_server.url}/api/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert strict_sdk(live_server.url, second).identity.get().data.email == org_admin.email


def test_the_key_carries_the_members_role(partner, live_server, organization):
    viewer = sign_up("viewer@example.com", "correct-horse-battery", "Viewer's own")
    add_member(organization, viewer, Role.READ_ONLY)
    value = partner.users.create_api_key(str(organization.pk), str(viewer.pk)).data.value
    assert ApiKey.objects.get(key_hash=hash_api_key(value)).role == Role.READ_ONLY
    refused = httpx.post(f"{live_server.url}/api/connections", headers={"Authorization": f"Bearer {value}"},
                         json={"name": "x", "type": "postgresql", "configuration": {}})
    assert refused.status_code == 403 and refused.json()["metadata"]["required_role"] == "admin"


def test_refusals(partner, live_server, api_key, organization, org_admin):
    with pytest.raises(NotFoundError) as no_org:
        partner.users.create_api_key(UNKNOWN, str(org_admin.pk))
    assert no_org.value.body.message == f"No organization with id {UNKNOWN}."

    outsider = sign_up("outsider@example.com", "correct-horse-battery", "Globex")
    with pytest.raises(NotFoundError) as not_member:
        partner.users.create_api_key(str(organization.pk), str(outsider.pk))
    assert not_member.value.body.message == f"No user with id {outsider.pk} in organization 'Acme'."

    with pytest.raises(ForbiddenError) as ordinary:
        strict_sdk(live_server.url, api_key).users.create_api_key(str(organization.pk), str(org_admin.pk))
    assert ordinary.value.body.key == "partner_key_required"

    with pytest.raises(SdkError) as garbled:
        partner.users.create_api_key(str(organization.pk), "not-a-user-id")
    assert garbled.value.status_code == 400 and body(garbled.value)["metadata"]["errors"][0]["field"] == "id"
    assert ApiKey.objects.filter(created_by__in=[outsider, org_admin]).count() == 1  # the api_key fixture's


def test_a_replayed_key_is_the_same_and_is_not_kept_in_clear(partner, organization, org_admin):
    from console.api.models import IdempotencyRecord

    first = partner.users.create_api_key(str(organization.pk), str(org_admin.pk), idempotency_key="partner-key-0001")
    again = partner.users.create_api_key(str(organization.pk), str(org_admin.pk), idempotency_key="partner-key-0001")
    assert again.data.value == first.data.value
    assert ApiKey.objects.filter(created_by=org_admin, revoked_at__isnull=True).count() == 1
    kept = bytes(IdempotencyRecord.objects.get(key="partner-key-0001").body)
    assert first.data.value.encode() not in kept and kept


def test_the_partner_workflow_new_organization_root_user_key(partner, live_server):
    created = partner.organization.create(name="Initech").data
    user = partner.users.create(created.id, email="root@initech.example", role="admin").data
    value = partner.users.create_api_key(created.id, user.id).data.value
    me = strict_sdk(live_server.url, value).identity.get().data
    assert (me.email, me.organization_id, me.organization_name) == ("root@initech.example", created.id, "Initech")
