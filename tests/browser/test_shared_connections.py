"""A shared connection in the browser: its owner sees whom it is shared with; the organization it is
shared with sees who shares it, without secrets and without Edit or Reconnect."""

import pytest

from console.accounts.services import sign_up
from console.connections import sharing
from console.connections.models import Connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "lent-warehouse-password-8c21"


@pytest.fixture
def copy(organization):
    parent = Connection.objects.create(organization=organization, name="Acme warehouse", type="postgresql",
                                       configuration={"hostname": "db.acme.example", "port": 5432,
                                                      "username": "acme", "database": "prod"},
                                       secrets={"password": PASSWORD})
    child = sign_up("child@example.com", "correct-horse-battery", "Globex").memberships.get().organization
    return sharing.share(parent, child, "Warehouse from Acme")


def test_owner_and_child_each_see_their_side_of_the_sharing(signed_in_page, browser, live_server, copy):
    owner = signed_in_page
    owner.goto(f"/connections/{copy.parent_id}")
    shared_with = owner.locator("#shared-connection")
    assert shared_with.locator("h2").inner_text() == "Shared with other organizations"
    assert shared_with.locator("tbody tr").all_inner_texts() == ["Globex\tWarehouse from Acme\tHealthy"]

    context = browser.new_context(base_url=live_server.url)
    child = context.new_page()
    try:
        child.goto("/signin")
        child.fill("input[name=username]", "child@example.com")
        child.fill("input[name=password]", "correct-horse-battery")
        child.click("button[type=submit]")
        child.wait_for_url("**/")
        child.goto("/connections")
        child.click("text=Warehouse from Acme")
        child.wait_for_url(f"**/connections/{copy.pk}")
        assert "Shared with this organization by Acme" in child.locator("#shared-connection").inner_text()
        assert child.locator(f"a[href='/connections/{copy.pk}/edit']").count() == 0
        assert child.locator("#connect-button").count() == 0
        assert "db.acme.example" in child.locator("#configuration").inner_text()
        assert PASSWORD not in child.content()
    finally:
        context.close()
