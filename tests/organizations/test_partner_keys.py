import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from console.accounts.models import ApiKey, Organization
from console.accounts.partners import partner_organization
from console.api.errors import ApiError


def test_create_api_key_partner_prints_a_key_of_no_organization(db, capsys):
    call_command("create_api_key", "--partner", "--name", "operator")
    raw_key = capsys.readouterr().out.strip()
    key = ApiKey.objects.get(prefix=raw_key[:8])
    assert key.partner and key.organization_id is None and key.name == "operator"
    me = Client(headers={"Authorization": f"Bearer {raw_key}"}).get("/api/me").json()["data"]
    assert me["is_partner"] is True and me["is_user"] is False and me["is_organization"] is False
    assert me["organization_id"] is None


def test_create_api_key_refuses_partner_with_an_organization_and_neither(organization):
    with pytest.raises(CommandError, match="drop --organization"):
        call_command("create_api_key", "--partner", "--organization", "Acme")
    with pytest.raises(CommandError, match="--partner"):
        call_command("create_api_key")


@pytest.mark.parametrize("path", ["/api/connections", "/api/organization", "/api/syncs", "/api/models"])
def test_partner_key_is_refused_outside_organizations_routes(partner_api, path):
    response = partner_api.get(path)
    assert response.status_code == 403
    body = response.json()
    assert body["key"] == "partner_key" and "/api/organizations" in body["message"]


class FakeRequest:
    def __init__(self, api_key):
        self.auth = api_key


def test_partner_organization_finds_the_organization_and_refuses_others(organization, partner_key, api_key):
    partner = ApiKey.objects.get(partner=True)
    request = FakeRequest(partner)
    assert partner_organization(request, organization.pk) == organization
    assert request.organization == organization
    with pytest.raises(ApiError) as unknown:
        partner_organization(FakeRequest(partner), "00000000-0000-0000-0000-000000000000")
    assert unknown.value.status == 404 and "No organization" in unknown.value.message
    with pytest.raises(ApiError) as garbled:
        partner_organization(FakeRequest(partner), "not-a-uuid")
    assert garbled.value.status == 404
    ordinary = ApiKey.objects.get(partner=False, organization=organization)
    with pytest.raises(ApiError) as refused:
        partner_organization(FakeRequest(ordinary), organization.pk)
    assert refused.value.status == 403 and refused.value.key == "partner_key_required"
    assert Organization.objects.count() == 1
