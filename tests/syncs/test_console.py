"""The sync builder and pages, through Django's test client (the browser test clicks)."""

import pytest

from console.syncs.models import Sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def salesloft(target):
    return target("salesloft", "My Salesloft Connection")


def step(console, **posted):
    response = console.post("/syncs/builder", posted, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content
    return response.content.decode()


def test_each_step_unlocks_the_next(console, active_users, salesloft):
    html = step(console)
    assert "Active Users" in html and 'name="connection"' not in html
    html = step(console, model=active_users.pk)
    assert "My Salesloft Connection (salesloft)" in html and 'name="object"' not in html
    html = step(console, model=active_users.pk, connection=salesloft.pk)
    assert "Cadence: Inbound Leads - Fast Follow" in html and 'name="mode"' not in html
    html = step(console, model=active_users.pk, connection=salesloft.pk, object="cadence:10")
    assert "Create or update each person, then add them to the cadence." in html
    assert 'value="create"' not in html  # only the modes the cadence supports
    html = step(console, model=active_users.pk, connection=salesloft.pk, object="cadence:10",
                mode="updateOrCreate", identity_source="email", identity_target="Email",
                map_source=["first_name", "score"], map_target=["FirstName", "OwnerId"], frequency="hourly",
                minute="15")
    assert "Upsert People in Salesloft matched on Email, then add them to cadence Inbound Leads - Fast Follow; " \
           "every hour at :15." in html
    assert "score is a number, Owner id expects an integer." in html


def test_rows_are_added_removed_and_suggested(console, active_users, salesloft):
    base = dict(model=active_users.pk, connection=salesloft.pk, object="people", mode="updateOrCreate")
    html = step(console, **base, action="add_row")
    assert html.count('name="map_source"') == 1
    html = step(console, **base, map_source=["plan", ""], map_target=["Title", ""], action="remove_row:1")
    assert html.count('name="map_source"') == 1
    html = step(console, **base, action="suggest")
    assert html.count('name="map_source"') == 2  # first_name, last_name; email became the identity
    assert '<option value="Email" selected>' in html


def test_saving_from_the_builder_and_the_pages(console, active_users, salesloft):
    posted = dict(model=active_users.pk, connection=salesloft.pk, object="cadence:10", mode="updateOrCreate",
                  identity_source="email", identity_target="Email", identity_function="Equality",
                  map_source=["first_name", "last_name"], map_target=["FirstName", "LastName"],
                  map_sync_mode=["", "create"], frequency="daily", hour="5", minute="0", name="Cadence sync",
                  active="on")
    response = console.post("/syncs/new", posted)
    assert response.status_code == 302, response.content.decode()
    sync = Sync.objects.get()
    assert response["Location"] == f"/syncs/{sync.pk}"
    assert sync.fields[1] == {"source": {"model_id": str(active_users.pk), "field": "last_name"},
                              "target": "LastName", "sync_mode": "create"}
    assert sync.schedule == {"frequency": "daily", "hour": "5", "minute": "0"}
    detail = console.get(f"/syncs/{sync.pk}").content.decode()
    assert ("Upsert People in Salesloft matched on Email, then add them to cadence Inbound Leads - Fast Follow; "
            "every day at 05:00 UTC.") in detail
    assert f'href="/syncs/{sync.pk}/runs"' in detail
    assert "Cadence sync" in console.get("/syncs").content.decode()

    edit = console.get(f"/syncs/{sync.pk}/edit").content.decode()
    assert '<option value="cadence:10" selected>' in edit and 'value="Cadence sync"' in edit
    refused = console.post(f"/syncs/{sync.pk}/edit", {**posted, "identity_source": ""})
    assert refused.status_code == 400
    identity_step = refused.content.decode().split('id="step-identity"')[1].split("</section>")[0]
    assert "identity: mode &#x27;updateOrCreate&#x27;" in identity_step

    console.post(f"/syncs/{sync.pk}/activate", {"active": "false"})
    sync.refresh_from_db()
    assert not sync.active and sync.next_run_at is None
    console.post(f"/syncs/{sync.pk}/delete")
    assert not Sync.objects.exists()


def test_creating_a_new_audience_from_the_builder(console, active_users, target):
    linkedin = target("linkedinads", "LinkedIn Ads")
    base = dict(model=active_users.pk, connection=linkedin.pk, object="__new__")
    html = step(console, **base)
    assert "＋ Create a new one…" in html
    assert '<option value="512630692::urn:li:organization:28818517">Polytomic Inc. (512630692)</option>' in html
    assert 'name="mode"' not in html  # not until every creation property is filled
    create = {"create_account": "512630692::urn:li:organization:28818517", "create_type": "user_audience",
              "create_name": "New audience"}
    html = step(console, **base, **create)
    assert "Add the model&#x27;s rows to the audience." in html
    response = console.post("/syncs/new", {
        **base, **create, "mode": "create", "identity_source": "email", "identity_target": "Email",
        "map_source": ["first_name"], "map_target": ["FirstName"], "frequency": "weekly", "day_of_week": "1",
        "hour": "6", "minute": "30", "name": "New audience sync", "active": "on"})
    assert response.status_code == 302, response.content.decode()
    sync = Sync.objects.get()
    assert sync.target_object == "" and sync.target_create == {
        "account": "512630692::urn:li:organization:28818517", "type": "user_audience", "name": "New audience"}
    detail = console.get(f"/syncs/{sync.pk}").content.decode()
    assert ("Create User Audience: New audience in LinkedIn Ads, then: add people matched on Email to the "
            "LinkedIn audience New audience; every Monday at 06:30 UTC.") in detail
