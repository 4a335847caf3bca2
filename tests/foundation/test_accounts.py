import pytest
from django.test import Client
from django.urls import reverse

from console.accounts.models import Membership, Organization, Role
from console.accounts.services import add_member, sign_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_signup(settings):
    settings.ALLOW_SIGNUP = True


def test_sign_up_creates_user_organization_and_admin_membership(client, open_signup):
    response = client.post(
        reverse("signup"),
        {"email": "Ada@Example.com", "password": "correct-horse-battery", "organization": "Initech"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="ada@example.com")
    assert membership.organization.name == "Initech"
    assert membership.role == Role.ADMIN
    assert client.get(reverse("home")).status_code == 200


def test_sign_up_rejects_taken_email_and_organization(client, org_admin, open_signup):
    response = client.post(
        reverse("signup"),
        {"email": "admin@example.com", "password": "correct-horse-battery", "organization": "acme"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "already exists" in errors["email"][0]
    assert "taken" in errors["organization"][0]
    assert Organization.objects.count() == 1


def test_sign_in_with_email_and_password(client, org_admin):
    response = client.post(
        reverse("signin"), {"username": "admin@example.com", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert client.get(reverse("settings")).status_code == 200


def test_sign_in_with_wrong_password_stays_out(client, org_admin):
    response = client.post(reverse("signin"), {"username": "admin@example.com", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert client.get(reverse("settings")).status_code == 302


def test_pages_require_sign_in(client):
    response = client.get(reverse("settings"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("signin"))


def test_switching_organization_changes_what_the_console_shows(client, org_admin):
    globex = sign_up("boss@globex.com", "correct-horse-battery", "Globex").memberships.get().organization
    add_member(globex, org_admin, Role.MEMBER)
    client.force_login(org_admin)
    assert client.get(reverse("home")).context["current_organization"].name == "Acme"

    response = client.post(reverse("switch-organization"), {"organization": str(globex.id)})
    assert response.status_code == 302
    page = client.get(reverse("settings"))
    assert page.context["current_organization"] == globex
    assert b"Globex" in page.content


def test_cannot_switch_to_an_organization_you_do_not_belong_to(client, org_admin):
    globex = sign_up("boss@globex.com", "correct-horse-battery", "Globex").memberships.get().organization
    client.force_login(org_admin)
    response = client.post(reverse("switch-organization"), {"organization": str(globex.id)})
    assert response.status_code == 404
    assert client.get(reverse("home")).context["current_organization"].name == "Acme"


def test_api_key_created_in_console_is_shown_once_and_stored_hashed(client, org_admin):
    client.force_login(org_admin)
    response = client.post(reverse("api-key-create"), {"name": "ci"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    raw_key = response.context["raw_key"]
    api_key = response.context["api_key"]
    assert raw_key.encode() in response.content
    assert api_key.key_hash != raw_key and raw_key not in api_key.key_hash
    assert raw_key.encode() not in client.get(reverse("settings")).content
    api = Client(headers={"Authorization": f"Bearer {raw_key}"})
    assert api.get("/api/me").status_code == 200


def test_members_cannot_create_or_revoke_keys(client, organization):
    member = sign_up("m@example.com", "correct-horse-battery", "Mine")
    add_member(organization, member, Role.MEMBER)
    client.force_login(member)
    client.post(reverse("switch-organization"), {"organization": str(organization.id)})
    assert client.post(reverse("api-key-create"), {"name": "x"}).status_code == 403


def test_create_api_key_command_prints_a_working_key(organization, capsys):
    from django.core.management import call_command

    call_command("create_api_key", "--organization", "Acme")
    raw_key = capsys.readouterr().out.strip()
    response = Client(headers={"Authorization": f"Bearer {raw_key}"}).get("/api/organization")
    assert response.json()["data"]["name"] == "Acme"


def test_create_api_key_command_names_a_missing_organization(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="No organization named 'Nope'"):
        call_command("create_api_key", "--organization", "Nope")


def test_sign_in_is_throttled_per_account(client, org_admin, settings):
    settings.SIGNIN_ATTEMPTS_PER_15_MINUTES = 3
    for _ in range(3):
        client.post(reverse("signin"), {"username": "admin@example.com", "password": "wrong"})
    response = client.post(
        reverse("signin"), {"username": "admin@example.com", "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    assert "Too many sign-in attempts for this account" in response.content.decode()
    assert client.get(reverse("settings")).status_code == 302
