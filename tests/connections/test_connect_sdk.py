"""Polytomic Connect through the strict SDK: connections.connect opens a session the server holds,
connections.get_connect_session reports it by its token; refusals name the field."""

from datetime import timedelta

import pytest
from django.utils import timezone
from polytomic.core.api_error import ApiError as SdkError
from polytomic.core.request_options import RequestOptions

from console.accounts.models import Role
from console.accounts.services import create_api_key, sign_up
from console.connections import connect
from console.connections.models import Connection, ConnectSession
from tests.sdk_strict import strict_sdk

pytestmark = pytest.mark.django_db(transaction=True)
STATUS = ["$.data.status"]  # the session's state, which the brief asks the report to carry


def by_token(token: str) -> RequestOptions:
    return RequestOptions(additional_query_parameters={"token": token})


def refused(call) -> dict:
    with pytest.raises(SdkError) as error:
        call()
    body = error.value.body
    body = body if isinstance(body, dict) else body.dict()
    assert set(body) == {"status", "message", "key", "metadata"} and body["status"] == error.value.status_code
    return body


@pytest.fixture
def client(live_server, api_key):
    return strict_sdk(live_server.url, api_key)


def test_a_session_is_opened_and_reported(client, live_server, api_key, organization, settings):
    made = client.connections.connect(
        name="Customer Salesloft", redirect_url=f"{settings.PUBLIC_URL}/done", whitelist=["salesloft", "hubspot"],
        ttl=600, dark=True).data
    session = ConnectSession.objects.get()
    assert made.redirect_url == f"{settings.PUBLIC_URL}/connect?token={made.token}"
    assert session.token_hash == connect.hash_token(made.token) and made.token not in str(session.__dict__)
    assert (session.name, session.type, session.whitelist, session.dark) == (
        "Customer Salesloft", "", ["salesloft", "hubspot"], True)
    assert timedelta(seconds=590) < session.expires_at - timezone.now() <= timedelta(seconds=600)

    reader = strict_sdk(live_server.url, api_key, allow=STATUS)
    report = reader.connections.get_connect_session(request_options=by_token(made.token)).data
    assert (report.id, report.name, report.type, report.whitelist, report.connection_id) == (
        str(session.pk), "Customer Salesloft", None, ["salesloft", "hubspot"], None)
    assert (report.redirect_url, report.dark, report.organization_name) == (
        f"{settings.PUBLIC_URL}/done", True, organization.name)
    assert abs(report.expires_at - session.expires_at) < timedelta(milliseconds=1)
    assert report.model_extra["status"] == "pending"

    connection = Connection.objects.create(organization=organization, name="Customer Salesloft", type="salesloft")
    ConnectSession.objects.filter(pk=session.pk).update(connection=connection, completed_at=timezone.now())
    done = reader.connections.get_connect_session(request_options=by_token(made.token)).data
    assert done.connection_id == str(connection.pk) and done.model_extra["status"] == "completed"


def test_a_reconnect_session_is_bound_to_the_connection_and_its_type(client, organization, settings):
    existing = Connection.objects.create(organization=organization, name="Old", type="salesloft")
    client.connections.connect(name="Old", redirect_url=settings.PUBLIC_URL + "/", connection=str(existing.pk))
    session = ConnectSession.objects.get()
    assert (session.connection_id, session.type) == (existing.pk, "salesloft")


def test_refusals_name_the_field_and_keep_nothing(client, settings, organization, org_admin, live_server):
    ok = settings.PUBLIC_URL + "/back"
    body = refused(lambda: client.connections.connect(name="A", redirect_url="https://evil.example.com/x"))
    assert body["status"] == 400 and body["metadata"]["errors"][0]["field"] == "redirect_url"
    assert "list of OAuth redirect URLs" in body["message"]
    body = refused(lambda: client.connections.connect(name="A", redirect_url="javascript:alert(1)"))
    assert body["metadata"]["errors"][0]["field"] == "redirect_url"
    body = refused(lambda: client.connections.connect(name="A", redirect_url=ok, type="nosuch"))
    assert body["metadata"]["errors"][0] == {"field": "type", "message": "there is no connection type 'nosuch'"}
    body = refused(lambda: client.connections.connect(name="A", redirect_url=ok, whitelist=["salesloft", "x"]))
    assert body["metadata"]["errors"][0]["field"] == "whitelist[1]"
    body = refused(lambda: client.connections.connect(name="A", redirect_url=ok, ttl=604801))
    assert body["metadata"]["errors"][0]["field"] == "ttl"
    body = refused(lambda: client.connections.connect(name=" ", redirect_url=ok))
    assert body["metadata"]["errors"][0]["field"] == "name"
    unknown = "00000000-0000-0000-0000-000000000000"
    body = refused(lambda: client.connections.connect(name="A", redirect_url=ok, connection=unknown))
    assert body["status"] == 404 and f"no connection {unknown} in this organization" in body["message"]
    Connection.objects.create(organization=organization, name="Taken", type="salesloft")
    body = refused(lambda: client.connections.connect(name="Taken", redirect_url=ok))
    assert body["status"] == 409 and "already exists" in body["message"]

    _, member_key = create_api_key(organization, "member", created_by=org_admin, role=Role.MEMBER)
    member = strict_sdk(live_server.url, member_key)
    body = refused(lambda: member.connections.connect(name="A", redirect_url=ok))
    assert body["status"] == 403 and body["message"].startswith("Only organization admins can do this.")
    assert not ConnectSession.objects.exists()


def test_the_session_report_needs_its_token(client):
    body = refused(lambda: client.connections.get_connect_session())
    assert body["status"] == 401 and "token query parameter" in body["message"]
    body = refused(lambda: client.connections.get_connect_session(request_options=by_token("forged")))
    assert body["status"] == 401 and body["message"] == "This Connect token is not valid."


def test_another_organization_reaches_neither_sessions_nor_connections(client, live_server, settings, organization):
    mine = Connection.objects.create(organization=organization, name="Mine", type="salesloft")
    token = client.connections.connect(name="Fresh", redirect_url=settings.PUBLIC_URL + "/").data.token
    stranger = sign_up("other@example.com", "correct-horse-battery", "Globex")
    globex = stranger.memberships.get().organization
    _, their_key = create_api_key(globex, "other", created_by=stranger)
    theirs = strict_sdk(live_server.url, their_key)

    body = refused(lambda: theirs.connections.get_connect_session(request_options=by_token(token)))
    assert body["status"] == 404 and body["message"] == "No Connect session with this token in this organization."
    body = refused(lambda: theirs.connections.connect(name="Steal", redirect_url=settings.PUBLIC_URL + "/",
                                                      connection=str(mine.pk)))
    assert body["status"] == 404 and "in this organization" in body["message"]
    body = refused(lambda: theirs.connections.connect(name="Steal", redirect_url=settings.PUBLIC_URL + "/",
                                                      organization_id=str(organization.pk)))
    assert body["status"] == 404
    assert ConnectSession.objects.filter(organization=globex).count() == 0
