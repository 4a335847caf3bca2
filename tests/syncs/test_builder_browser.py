"""Seed 000 built by clicking: Snowflake model -> Salesloft cadence, matched on email,
first_name and last_name mapped."""

import pytest

from console.syncs.models import Sync

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CADENCE = "Cadence: Inbound Leads - Fast Follow"


def settled(page):
    """Wait until htmx has swapped in the builder's next state."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def choose(page, selector, **option):
    page.select_option(selector, **option)
    settled(page)


def test_build_the_seed_000_cadence_sync_by_clicking(signed_in_page, active_users, target):
    salesloft = target("salesloft", "My Salesloft Connection")
    page = signed_in_page
    page.click("text=Syncs")
    page.click("text=New sync")

    choose(page, "#f-model", label="Active Users")
    choose(page, "#f-connection", label="My Salesloft Connection (salesloft)")
    choose(page, "#f-object", label=CADENCE)
    assert page.locator("#step-mode input[type=radio]").count() == 3  # only what a cadence supports
    page.get_by_text("Create or update each person, then add them to the cadence.").click()
    settled(page)

    choose(page, "#f-identity-source", value="email")
    choose(page, "#f-identity-target", value="Email")
    page.click("text=Add field")
    settled(page)
    choose(page, "select[aria-label='Model field 1']", value="first_name")
    choose(page, "select[aria-label='Target field 1']", value="FirstName")
    page.click("text=Add field")
    settled(page)
    choose(page, "select[aria-label='Model field 2']", value="last_name")
    choose(page, "select[aria-label='Target field 2']", value="LastName")

    review = page.locator("#review").inner_text()
    assert review == ("Upsert People in Salesloft matched on Email, then add them to cadence "
                      "Inbound Leads - Fast Follow; only when started by hand.")
    page.fill("#f-name", "Snowflake to Salesloft Cadence Sync")
    page.click("#save-sync")
    page.wait_for_url("**/syncs/*")

    sync = Sync.objects.get()
    model_id = str(active_users.pk)
    assert (sync.name, sync.mode, sync.target_connection_id, sync.target_object) == (
        "Snowflake to Salesloft Cadence Sync", "updateOrCreate", salesloft.pk, "cadence:10")
    assert sync.identity == {"source": {"model_id": model_id, "field": "email"}, "target": "Email",
                             "function": "Equality"}
    assert sync.fields == [
        {"source": {"model_id": model_id, "field": "first_name"}, "target": "FirstName"},
        {"source": {"model_id": model_id, "field": "last_name"}, "target": "LastName"},
    ]
    assert sync.schedule == {"frequency": "manual"}
    assert "then add them to cadence Inbound Leads - Fast Follow" in page.locator("#sync-sentence").inner_text()
    assert page.locator("text=Runs").get_attribute("href") == f"/syncs/{sync.pk}/runs"
