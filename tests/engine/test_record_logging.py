"""Record logging: the organization's switch (API through the strict SDK, console Settings) and the
engine keeping no field values of rejected or set-aside records while it is off."""

import pytest
from polytomic.core.api_error import ApiError as SdkError
from polytomic.errors import ForbiddenError, UnprocessableEntityError

from console.accounts.models import Organization, Role
from console.accounts.services import create_api_key
from console.engine.models import RecordError
from tests.engine.fakes import FakeTarget
from tests.engine.test_run import people
from tests.sdk_strict import strict_sdk


def switch(organization, enabled: bool):
    organization.record_logging = enabled
    organization.save()


@pytest.mark.django_db
def test_a_run_with_record_logging_off_keeps_identities_and_reasons_but_no_values(
        make_sync, run_in_process, organization):
    switch(organization, False)
    sync = make_sync()
    rows = people(3) + [{"email": None, "first_name": "Nobody", "plan": "free"}]
    e = run_in_process(sync, rows, FakeTarget(reject={"p1@example.com": "Email address is invalid (422)"}))
    assert (e.inserted, e.errored, e.invalid) == (2, 1, 1)
    rejected = RecordError.objects.get(execution=e, kind="rejected")
    assert (rejected.identity, rejected.message, rejected.payload) == (
        "p1@example.com", "Email address is invalid (422)", {})
    assert RecordError.objects.get(execution=e, kind="invalid").payload == {}

    switch(organization, True)
    again = run_in_process(sync, people(3), FakeTarget(reject={"p1@example.com": "still invalid"}))
    assert RecordError.objects.get(execution=again, kind="rejected").payload == {
        "first": "P1", "plan": "free", "email": "p1@example.com"}


@pytest.mark.django_db(transaction=True)
def test_record_logging_through_the_sdk(live_server, api_key, organization):
    client = strict_sdk(live_server.url, api_key)
    assert client.organization.get_record_logging().data.enabled is True
    assert client.organization.update_record_logging(enabled=False).data.enabled is False
    assert Organization.objects.get(pk=organization.pk).record_logging is False
    assert client.organization.get_record_logging().data.enabled is False
    assert client.organization.update_record_logging(enabled=True).data.enabled is True
    assert Organization.objects.get(pk=organization.pk).record_logging is True


@pytest.mark.django_db(transaction=True)
def test_record_logging_refusals(live_server, api_key, organization, org_admin, other_api):
    client = strict_sdk(live_server.url, api_key)
    with pytest.raises(UnprocessableEntityError) as delivery:
        client.organization.update_record_logging(enabled=True, delivery_connection_id="x")
    assert delivery.value.body.metadata["errors"][0]["field"] == "deliveryConnectionId"
    assert "not supported" in delivery.value.body.message
    with pytest.raises(SdkError) as invalid:
        client.organization.update_record_logging(enabled=None)
    assert invalid.value.status_code == 400
    assert invalid.value.body["metadata"]["errors"][0]["field"] == "enabled"
    assert Organization.objects.get(pk=organization.pk).record_logging is True

    _, member_key = create_api_key(organization, "member", created_by=org_admin, role=Role.MEMBER)
    member = strict_sdk(live_server.url, member_key)
    assert member.organization.get_record_logging().data.enabled is True
    with pytest.raises(ForbiddenError) as refused:
        member.organization.update_record_logging(enabled=False)
    assert refused.value.body.message.startswith("Only organization admins can do this.")
    assert Organization.objects.get(pk=organization.pk).record_logging is True

    # another organization's key changes only its own organization
    assert other_api.put("/api/organization/record-logging", {"enabled": False},
                         content_type="application/json").status_code == 200
    assert Organization.objects.get(pk=organization.pk).record_logging is True
    assert Organization.objects.get(name="Globex").record_logging is False


@pytest.mark.django_db
def test_settings_page_toggles_record_logging(console, organization):
    page = console.get("/settings").content.decode()
    assert 'id="record-logging-form"' in page and 'name="enabled" checked' in page
    console.post("/settings/record-logging", {})
    assert Organization.objects.get(pk=organization.pk).record_logging is False
    assert 'name="enabled" checked' not in console.get("/settings").content.decode()
    console.post("/settings/record-logging", {"enabled": "on"})
    assert Organization.objects.get(pk=organization.pk).record_logging is True
