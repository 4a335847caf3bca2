"""The hosted Connect page refuses tokens it cannot open and offers only the session's types."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from console.connections import connect
from console.connections.models import ConnectSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(organization, settings):
    def make(**options):
        return connect.start(organization, name="Customer CRM", redirect_url=settings.PUBLIC_URL + "/", **options)

    return make


def page(token, **query):
    return Client().get("/connect", {"token": token, **query})


def test_a_forged_expired_or_spent_token_opens_nothing(opened):
    assert "This Connect link is not valid." in page("forged").content.decode()
    session, token = opened()
    ConnectSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = page(token)
    assert expired.status_code == 404 and "This Connect link has expired." in expired.content.decode()
    session, token = opened(ttl=60)
    ConnectSession.objects.filter(pk=session.pk).update(completed_at=timezone.now())
    assert "already used" in page(token).content.decode()


def test_only_the_sessions_types_are_offered(opened):
    _, token = opened(whitelist=["salesloft"])
    listed = page(token).content.decode()
    assert "type=salesloft" in listed and "type=hubspot" not in listed
    asked_other = page(token, type="hubspot").content.decode()
    assert 'id="connect-types"' in asked_other and 'id="connect-form"' not in asked_other
    assert 'id="connect-form"' in page(token, type="salesloft").content.decode()


def test_a_fixed_type_goes_straight_to_its_form(opened):
    _, token = opened(type="hubspot")
    body = page(token, type="salesloft").content.decode()
    assert 'id="connect-form"' in body and "<h2>HubSpot</h2>" in body
