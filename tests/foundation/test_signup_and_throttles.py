"""Sign-up closed by default, per-address budgets, and the known-browser pass that keeps
a password guesser from locking the account's owner out."""

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from console.accounts.known_device import COOKIE
from console.accounts.models import Membership, Organization, Role, User
from console.accounts.services import create_api_key, sign_up

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def signup_form(email, organization="Initech"):
    return {"email": email, "password": PASSWORD, "organization": organization}


def from_address(address):
    return Client(REMOTE_ADDR=address)


def sign_in(client, email, password):
    return client.post(reverse("signin"), {"username": email, "password": password})


# ---- sign-up ---------------------------------------------------------------------


def test_sign_up_is_closed_by_default(client):
    page = client.get(reverse("signup"))
    assert page.status_code == 403
    assert b"Sign-up is closed" in page.content and b"Ask an admin" in page.content
    assert b'name="password"' not in page.content

    refused = client.post(reverse("signup"), signup_form("ada@example.com"))
    assert refused.status_code == 403
    assert not User.objects.filter(email="ada@example.com").exists()
    assert not Organization.objects.exists()


def test_the_sign_in_page_links_to_sign_up_only_when_it_is_open(client, settings):
    assert reverse("signup").encode() not in client.get(reverse("signin")).content
    settings.ALLOW_SIGNUP = True
    assert reverse("signup").encode() in client.get(reverse("signin")).content


def test_open_sign_up_is_limited_per_client_address(settings):
    settings.ALLOW_SIGNUP = True
    settings.SIGNUPS_PER_IP_PER_HOUR = 2
    crowd = from_address("127.0.0.2")
    for n in range(2):
        assert crowd.post(reverse("signup"), signup_form(f"u{n}@example.com", f"Org {n}")).status_code == 302

    refused = crowd.post(reverse("signup"), signup_form("u2@example.com", "Org 2"))
    assert refused.status_code == 429
    assert b"Too many sign-ups from your network" in refused.content
    # What was typed stays in the form (but the password).
    assert b'value="u2@example.com"' in refused.content and b'value="Org 2"' in refused.content
    assert not User.objects.filter(email="u2@example.com").exists()

    elsewhere = from_address("127.0.0.3")
    assert elsewhere.post(reverse("signup"), signup_form("u2@example.com", "Org 2")).status_code == 302


def test_a_spent_sign_up_budget_does_not_tell_which_emails_have_accounts(org_admin, settings):
    settings.ALLOW_SIGNUP = True
    settings.SIGNUPS_PER_IP_PER_HOUR = 1
    prober = from_address("127.0.0.2")
    prober.post(reverse("signup"), signup_form("someone@example.com", "Probe"))
    answer = prober.post(reverse("signup"), signup_form("admin@example.com", "Probe 2"))
    assert answer.status_code == 429
    assert b"already exists" not in answer.content


# ---- create_admin ----------------------------------------------------------------


def test_create_admin_makes_the_first_admin_with_the_given_password(db, capsys):
    call_command("create_admin", "--email", "Root@Example.com", "--organization", "Initech",
                 "--password", PASSWORD)
    membership = Membership.objects.get(user__email="root@example.com")
    assert membership.organization.name == "Initech" and membership.role == Role.ADMIN
    assert membership.user.check_password(PASSWORD)
    out = capsys.readouterr().out
    assert "root@example.com is an admin of Initech (new)." in out and PASSWORD not in out


def test_create_admin_without_a_terminal_prints_a_generated_password_once(db, capsys):
    call_command("create_admin", "--email", "root@example.com", "--organization", "Initech")
    line = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Password (shown once): ")]
    password = line[0].removeprefix("Password (shown once): ")
    assert len(password) >= 16
    assert User.objects.get(email="root@example.com").check_password(password)


def test_create_admin_joins_an_existing_organization_as_admin(org_admin, organization):
    call_command("create_admin", "--email", "second@example.com", "--organization", "ACME", "--password", PASSWORD)
    assert Membership.objects.get(user__email="second@example.com").organization == organization
    assert Organization.objects.count() == 1


@pytest.mark.parametrize("arguments, message", [
    (["--email", "admin@example.com", "--password", PASSWORD], "already exists"),
    (["--email", "not-an-email", "--password", PASSWORD], "not an email address"),
    (["--email", "new@example.com", "--password", "password"], "--password: "),
])
def test_create_admin_refuses_bad_input_and_changes_nothing(org_admin, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_admin", "--organization", "Initech", *arguments)
    assert not Organization.objects.filter(name="Initech").exists()
    assert User.objects.count() == 1


# ---- sign-in ---------------------------------------------------------------------


def test_sign_in_is_limited_per_client_address_across_accounts(org_admin, settings):
    settings.SIGNIN_ATTEMPTS_PER_IP_PER_15_MINUTES = 3
    sign_up("b@example.com", PASSWORD, "B")
    guesser = from_address("127.0.0.2")
    for email in ("admin@example.com", "b@example.com", "nobody@example.com"):
        assert sign_in(guesser, email, "wrong-guess").status_code == 200

    refused = sign_in(guesser, "b@example.com", PASSWORD)  # even the right password
    assert refused.status_code == 429
    assert "Too many sign-in attempts from your network" in refused.content.decode()
    assert guesser.get(reverse("settings")).status_code == 302

    assert sign_in(from_address("127.0.0.3"), "b@example.com", PASSWORD).status_code == 302


def test_a_guesser_cannot_lock_the_owner_out_of_a_known_browser(org_admin, settings):
    settings.SIGNIN_ATTEMPTS_PER_15_MINUTES = 3
    owner = from_address("127.0.0.2")
    assert sign_in(owner, "admin@example.com", PASSWORD).status_code == 302
    assert owner.cookies[COOKIE]["httponly"]
    owner.post(reverse("signout"))

    guesser = from_address("127.0.0.3")
    for _ in range(2):  # the owner's sign-in spent the third attempt
        assert sign_in(guesser, "admin@example.com", "wrong-guess").status_code == 200
    locked = sign_in(guesser, "admin@example.com", PASSWORD)
    assert locked.status_code == 429
    assert "Too many sign-in attempts for this account" in locked.content.decode()

    # Another browser at the owner's address has no known-device cookie: still held.
    assert sign_in(from_address("127.0.0.2"), "admin@example.com", PASSWORD).status_code == 429
    # The owner's own browser passes.
    assert sign_in(owner, "admin@example.com", PASSWORD).status_code == 302
    assert owner.get(reverse("settings")).status_code == 200


def test_a_known_browser_has_a_budget_of_its_own(org_admin, settings):
    settings.SIGNIN_ATTEMPTS_PER_15_MINUTES = 2
    owner = from_address("127.0.0.2")
    sign_in(owner, "admin@example.com", PASSWORD)
    owner.post(reverse("signout"))
    for _ in range(2):
        assert sign_in(owner, "admin@example.com", "wrong-guess").status_code == 200
    refused = sign_in(owner, "admin@example.com", PASSWORD)
    assert refused.status_code == 429
    assert "Too many sign-in attempts from this browser" in refused.content.decode()


def test_a_forged_or_foreign_known_device_cookie_does_not_pass(org_admin, settings):
    settings.SIGNIN_ATTEMPTS_PER_15_MINUTES = 1
    sign_up("b@example.com", PASSWORD, "B")
    other = from_address("127.0.0.2")
    assert sign_in(other, "b@example.com", PASSWORD).status_code == 302  # a cookie for b, not admin
    other.post(reverse("signout"))
    forged = from_address("127.0.0.3")
    forged.cookies[COOKIE] = other.cookies[COOKIE].value[:-2] + "xx"

    assert sign_in(from_address("127.0.0.4"), "admin@example.com", "wrong-guess").status_code == 200
    assert sign_in(other, "admin@example.com", PASSWORD).status_code == 429
    assert sign_in(forged, "admin@example.com", PASSWORD).status_code == 429


# ---- API keys --------------------------------------------------------------------


def test_wrong_api_keys_spend_a_per_address_budget(organization, settings):
    settings.API_KEY_FAILURES_PER_IP_PER_15_MINUTES = 3
    _, key = create_api_key(organization, "real")
    for n in range(3):
        guess = Client(REMOTE_ADDR="127.0.0.2", headers={"Authorization": f"Bearer guess-{n}"})
        assert guess.get("/api/me").status_code == 401
    over = Client(REMOTE_ADDR="127.0.0.2", headers={"Authorization": "Bearer guess-3"}).get("/api/me")
    assert over.status_code == 429 and over.json()["key"] == "rate_limited"
    # Once spent, even a right key from that address is not tried: no oracle for guesses.
    right = Client(REMOTE_ADDR="127.0.0.2", headers={"Authorization": f"Bearer {key}"}).get("/api/me")
    assert right.status_code == 429
    elsewhere = Client(REMOTE_ADDR="127.0.0.3", headers={"Authorization": f"Bearer {key}"}).get("/api/me")
    assert elsewhere.status_code == 200
