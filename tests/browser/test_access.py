"""Roles and grants in the browser: an admin makes a custom role, gives a member no organization
role and grants the role on one sync; the member then sees and runs that sync and no other."""

import pytest

from console.access.models import PermissionRole, Policy
from console.accounts.models import Membership
from console.accounts.services import add_member, sign_up
from console.engine.models import Execution
from console.syncs.models import Sync
from tests.trust.conftest import one_of_each

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def syncs(organization):
    ids = one_of_each(organization)
    granted = Sync.objects.get(pk=ids["sync"])
    other = Sync.objects.create(organization=organization, name="Other sync", mode="updateOrCreate",
                                model=granted.model, target_connection=granted.target_connection,
                                target_object="people", identity=granted.identity, fields=[],
                                schedule={"frequency": "manual"})
    return granted, other


@pytest.fixture
def member(organization):
    user = sign_up("runner@example.com", "correct-horse-battery", "Runner's own")
    Membership.objects.filter(user=user).delete()
    return add_member(organization, user, "member")


def sign_in(browser, live_server, email):
    page = browser.new_context(base_url=live_server.url).new_page()
    page.goto("/signin")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return page


def test_an_admin_grants_a_custom_role_on_one_sync(signed_in_page, browser, live_server, syncs, member, organization):
    granted, other = syncs
    admin = signed_in_page
    admin.on("dialog", lambda dialog: dialog.accept())
    admin.goto("/settings")
    admin.fill("#new-role-name", "Runners")
    admin.check("#role-form input[value=read]")
    admin.check("#role-form input[value=trigger]")
    admin.click("text=Add role")
    admin.locator("text=Created the role Runners.").wait_for()
    runners = PermissionRole.objects.get(organization=organization, name="Runners")
    assert runners.permissions == ["read", "trigger"]

    admin.select_option(f"#role-{member.pk}", "none")
    admin.locator("text=Changed the role of runner@example.com.").wait_for()
    member.refresh_from_db()
    assert member.role == "" and not member.custom_roles.exists()

    admin.goto(f"/syncs/{granted.pk}")
    admin.select_option("#grant-user", str(member.user_id))
    admin.select_option("#grant-role", str(runners.pk))
    admin.click("#grant-form button[type=submit]")
    admin.locator("text=runner@example.com now has the Runners role on Users to CRM.").wait_for()
    assert admin.locator("#grant-rows tbody tr").first.inner_text().startswith("runner@example.com")
    policy = Policy.objects.get(target_kind="sync", target_id=granted.pk)
    assert list(policy.users.all()) == [member.user]

    runner = sign_in(browser, live_server, "runner@example.com")
    try:
        runner.goto("/syncs")
        assert "Users to CRM" in runner.locator("main").inner_text()
        assert "Other sync" not in runner.locator("main").inner_text()
        assert runner.goto(f"/syncs/{other.pk}").status == 404
        runner.goto(f"/syncs/{granted.pk}/runs")
        before = Execution.objects.filter(sync=granted).count()
        runner.locator("form[action$='/runs/start'] button").first.click()
        runner.wait_for_url(f"**/syncs/{granted.pk}/runs/**")
        assert Execution.objects.filter(sync=granted).count() == before + 1
        assert runner.goto("/models").ok and "Users" not in runner.locator("main table").inner_text()
    finally:
        runner.context.close()

    admin.goto(f"/syncs/{granted.pk}")
    admin.click("#grant-rows button:has-text('Revoke')")
    admin.locator("text=No roles granted on this sync alone.").wait_for()
    assert not Policy.objects.exists()


def test_an_admin_grants_a_built_in_role_on_a_model_and_a_connection(signed_in_page, syncs, member, organization):
    granted, _ = syncs
    admin = signed_in_page
    for path, kind in ((f"/models/{granted.model_id}", "model"), (f"/connections/{granted.target_connection_id}",
                                                                  "connection")):
        admin.goto(path)
        admin.select_option("#grant-user", str(member.user_id))
        admin.select_option("#grant-role", label="Read-only")
        admin.click("#grant-form button[type=submit]")
        admin.locator("#grant-rows", has_text="runner@example.com").wait_for()
        policy = Policy.objects.get(target_kind=kind)
        assert policy.policy_actions == [{"action": "read", "role_ids": [str(PermissionRole.objects.get(
            organization=organization, builtin="read_only").pk)]}]
