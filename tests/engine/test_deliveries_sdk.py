"""GET /api/webhooks/{id}/deliveries through the strict SDK: every attempt the sender recorded."""

from datetime import timedelta

import pytest
from django.utils import timezone
from polytomic.errors import BadRequestError, NotFoundError, UnprocessableEntityError

from console.accounts.services import create_api_key, sign_up
from console.engine import notifications
from console.engine.models import Event, Webhook
from tests.engine.test_schedule_and_events import Receiver, receiver  # noqa: F401  (fixture)
from tests.sdk_strict import strict_sdk

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def webhook(organization, receiver):  # noqa: F811
    hook = Webhook(organization=organization, endpoint=receiver)
    hook.secret = "topsecret"
    hook.save()
    return hook


def test_deliveries_list_every_attempt_newest_first_and_filter(live_server, api_key, organization, webhook):
    client = strict_sdk(live_server.url, api_key)
    failed_then_ok = Event.objects.create(organization=organization, type="sync.completed", payload={})
    other = Event.objects.create(organization=organization, type="sync.failed", payload={})
    Receiver.answers = [503, 200, 200]
    first = notifications.deliver(failed_then_ok)
    second = notifications.deliver(failed_then_ok)
    third = notifications.deliver(other)

    listed = client.webhooks.list_deliveries(str(webhook.pk))
    assert [d.id for d in listed.data] == [str(third.pk), str(second.pk), str(first.pk)]
    oldest = listed.data[-1]
    assert (oldest.event_id, oldest.event_type, oldest.status_code, oldest.success, oldest.error_kind) == (
        str(failed_then_ok.pk), "sync.completed", 503, False, "http_status")
    assert oldest.error == "The endpoint answered HTTP 503." and abs(oldest.attempted_at - first.attempted_at) < timedelta(milliseconds=1)
    assert listed.data[0].success is True and listed.data[0].error is None and listed.data[0].error_kind is None
    assert listed.pagination.next_page_token is None

    assert [d.id for d in client.webhooks.list_deliveries(str(webhook.pk), success=False).data] == [str(first.pk)]
    by_event = client.webhooks.list_deliveries(str(webhook.pk), event_id=str(failed_then_ok.pk)).data
    assert [d.id for d in by_event] == [str(second.pk), str(first.pk)]
    later = timezone.now() + timedelta(minutes=1)
    assert client.webhooks.list_deliveries(str(webhook.pk), start=later).data == []
    assert len(client.webhooks.list_deliveries(str(webhook.pk), end=later).data) == 3


def test_deliveries_page_with_the_token(live_server, api_key, organization, webhook):
    event = Event.objects.create(organization=organization, type="sync.completed", payload={})
    made = [notifications.deliver(event) for _ in range(55)]
    client = strict_sdk(live_server.url, api_key)
    first = client.webhooks.list_deliveries(str(webhook.pk))
    rest = client.webhooks.list_deliveries(str(webhook.pk), page_token=first.pagination.next_page_token)
    assert len(first.data) == 50 and rest.pagination.next_page_token is None
    assert sorted(d.id for d in first.data + rest.data) == sorted(str(d.pk) for d in made)


def test_deliveries_refusals(live_server, api_key, organization, webhook):
    client = strict_sdk(live_server.url, api_key)
    unknown = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(NotFoundError) as missing:
        client.webhooks.list_deliveries(unknown)
    assert missing.value.body.message == f"No webhook {unknown} in this organization."

    stranger = sign_up("other@example.com", "correct-horse-battery", "Globex")
    _, their_key = create_api_key(stranger.memberships.get().organization, "other", created_by=stranger)
    with pytest.raises(NotFoundError) as foreign:
        strict_sdk(live_server.url, their_key).webhooks.list_deliveries(str(webhook.pk))
    assert foreign.value.body.key == "not_found" and "in this organization" in foreign.value.body.message

    with pytest.raises(BadRequestError) as garbled:
        client.webhooks.list_deliveries(str(webhook.pk), page_token="garbage")
    assert garbled.value.body.metadata["errors"][0]["field"] == "page_token"
    with pytest.raises((BadRequestError, UnprocessableEntityError)) as bad_id:
        client.webhooks.list_deliveries(str(webhook.pk), event_id="not-a-uuid")
    assert "event_id" in bad_id.value.body.message



def test_the_notifications_page_shows_each_attempt(console, organization, webhook):
    event = Event.objects.create(organization=organization, type="sync.failed", payload={})
    Receiver.answers = [500, 204]
    notifications.deliver(event)
    notifications.deliver(event)
    page = console.get("/settings/notifications").content.decode()
    rows = page.split("Recent deliveries")[1].split("<tbody>")[1].split("</tbody>")[0].split("</tr>")[:2]
    assert "<td>sync.failed</td><td>2</td>" in rows[0] and "204" in rows[0]
    assert "<td>sync.failed</td><td>1</td>" in rows[1] and "The endpoint answered HTTP 500." in rows[1]
