"""The connection page of a shared connection: the owner sees whom it is shared with; the
organization it is shared with sees who shares it, can neither edit nor reconnect it, and sees no secret."""

import pytest
from django.test import Client

from tests.organizations.conftest import PASSWORD


@pytest.fixture
def child_console(copy):
    client = Client()
    client.force_login(copy.organization.memberships.get().user)
    return client


def test_the_owner_sees_whom_it_shares_the_connection_with(console, copy):
    page = console.get(f"/connections/{copy.parent_id}").content.decode()
    assert "Shared with other organizations" in page
    assert "<td>Globex</td><td>Warehouse from Acme</td><td>Healthy</td>" in page


def test_the_child_sees_who_shares_it_and_no_way_to_change_it(child_console, copy):
    page = child_console.get(f"/connections/{copy.pk}").content.decode()
    assert "Shared with this organization by <strong>Acme</strong>" in page
    assert f"/connections/{copy.pk}/edit" not in page and "connect-button" not in page
    assert "db.acme.example" in page and "stored, encrypted" in page
    assert PASSWORD not in page
    listed = child_console.get("/connections").content.decode()
    assert "Warehouse from Acme" in listed and "Acme warehouse" not in listed


def test_the_child_cannot_edit_or_reconnect_it(child_console, copy):
    for response in (child_console.get(f"/connections/{copy.pk}/edit"),
                     child_console.post(f"/connections/{copy.pk}/edit",
                                        {"name": "Mine", "hostname": "127.0.0.1", "port": "5432",
                                         "username": "me", "database": "prod"})):
        assert response.status_code == 302 and response["Location"] == f"/connections/{copy.pk}"
    shown = child_console.get(f"/connections/{copy.pk}").content.decode()
    assert "only &#x27;Acme&#x27; can change its settings or credentials" in shown
    refused = child_console.get(f"/connections/{copy.pk}/authorize")
    assert refused.status_code == 400
    assert "only the organization that owns it can authorize it again" in refused.content.decode().replace("&#x27;", "'")
    copy.refresh_from_db()
    copy.parent.refresh_from_db()
    assert copy.name == "Warehouse from Acme" and copy.parent.configuration["hostname"] == "db.acme.example"

