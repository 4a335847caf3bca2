"""The SDK's `connections.proxy` group through strict_sdk against a live server and the sandbox."""

import json

import httpx
import pytest
from polytomic import ConnectionProxyCall
from polytomic.errors import BadRequestError, ForbiddenError, NotFoundError

from console.accounts.models import Role
from console.accounts.services import create_api_key
from console.connections.models import Connection
from console.proxy.models import ProxySettings
from tests.sdk_strict import strict_sdk

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(live_server, api_key):
    return strict_sdk(live_server.url, api_key)


def test_an_admin_turns_the_proxy_on_and_calls_the_provider(client, salesloft, inspector, sandbox):
    proxy = client.connections.proxy
    settings = proxy.get_proxy_settings(str(salesloft.pk)).data
    assert settings.enabled is False and settings.supported is True and settings.backend_type == "salesloft"
    with pytest.raises(ForbiddenError):
        proxy.execute_proxy(str(salesloft.pk), request=ConnectionProxyCall(method="GET", path="/me"))

    assert proxy.update_proxy_settings(str(salesloft.pk), enabled=True).data.enabled is True
    info = proxy.get_proxy_info(str(salesloft.pk)).data
    assert info.inherited_base.base_url == f"{sandbox.url}/salesloft/v2"
    assert {"name": "Authorization", "value": "[REDACTED]", "redacted": True} in [
        h.dict() for h in info.inherited_base.locked_headers]
    assert info.request_contract.allowed_methods == ["GET", "POST", "PUT", "PATCH", "DELETE"]

    answer = proxy.execute_proxy(str(salesloft.pk), request=ConnectionProxyCall(
        method="GET", path="/people", query={"per_page": 100})).data
    assert answer.status == 200 and answer.content_type.startswith("application/json")
    people = json.loads(answer.body)["data"]
    assert sorted(p["id"] for p in people) == sorted(d["id"] for d in inspector.docs("salesloft", "people"))
    assert proxy.get_proxy_info(str(salesloft.pk)).data.stats.proxy_calls_last24h == 1

    missing = proxy.execute_proxy(str(salesloft.pk), request=ConnectionProxyCall(method="GET", path="/people/999999"))
    assert missing.data.status == 404  # the provider's answer, passed on


def test_bad_calls_and_unsupported_connections_are_refused(client, salesloft, organization, live_server):
    ProxySettings.objects.create(connection=salesloft, enabled=True)
    proxy = client.connections.proxy
    for call, field in [(ConnectionProxyCall(method="TRACE", path="/me"), "request.method"),
                        (ConnectionProxyCall(method="GET", path="/me", api="other"), "request.api"),
                        (ConnectionProxyCall(method="GET", path="/me", query={"a": 1}, raw_query="b=2"),
                         "request.rawQuery"),
                        (ConnectionProxyCall(method="GET", path="me"), "request.path")]:
        with pytest.raises(BadRequestError) as raised:
            proxy.execute_proxy(str(salesloft.pk), request=call)
        assert raised.value.body.metadata["errors"][0]["field"] == field

    warehouse = Connection.objects.create(organization=organization, name="W", type="snowflake",
                                          configuration={"account": "a", "username": "u", "dbname": "d"})
    with pytest.raises(BadRequestError):
        proxy.update_proxy_settings(str(warehouse.pk), enabled=True)
    assert proxy.get_proxy_settings(str(warehouse.pk)).data.supported is False
    with pytest.raises(NotFoundError):
        proxy.get_proxy_settings("00000000-0000-0000-0000-000000000000")

    _, member_key = create_api_key(organization, "member", role=Role.MEMBER)
    refused = httpx.put(f"{live_server.url}/api/connections/{salesloft.pk}/proxy/settings",
                        headers={"Authorization": f"Bearer {member_key}"}, json={"enabled": False})
    assert refused.status_code == 403
    assert ProxySettings.objects.get(connection=salesloft).enabled is True


def test_a_shared_copy_follows_its_parent_and_cannot_change_it(live_server, salesloft):
    from console.accounts.services import sign_up
    from console.connections.sharing import share

    child = sign_up("child@example.com", "correct-horse-battery", "Child Co").memberships.get().organization
    copy = share(salesloft, child)
    _, child_key = create_api_key(child, "child")
    proxy = strict_sdk(live_server.url, child_key).connections.proxy
    ProxySettings.objects.create(connection=salesloft, enabled=True)

    settings = proxy.get_proxy_settings(str(copy.pk)).data
    assert settings.parent_connection_id == str(salesloft.pk) and settings.enabled is True
    with pytest.raises(ForbiddenError):
        proxy.update_proxy_settings(str(copy.pk), enabled=False)
    assert ProxySettings.objects.get(connection=salesloft).enabled is True
    assert not ProxySettings.objects.filter(connection=copy).exists()
