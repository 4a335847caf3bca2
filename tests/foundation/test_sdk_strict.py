"""The strict SDK helper finds keys the SDK's types do not declare, at any depth."""

import pytest
from polytomic.types.connection_response_envelope import ConnectionResponseEnvelope

from tests.sdk_strict import UndeclaredFields, check, strict_sdk


def envelope(**connection):
    return {"data": {"id": "c1", "name": "Warehouse", **connection}}


def test_declared_fields_pass_and_aliases_count_as_declared():
    payload = envelope(api_calls_last_24_hours=3, created_by={"id": "u1", "name": "Ada"})
    check(ConnectionResponseEnvelope.model_validate(payload), payload)


def test_an_undeclared_key_is_named_with_its_path():
    payload = envelope(status_message="ok", nme="typo")
    with pytest.raises(UndeclaredFields, match=r"\$\.data\.nme"):
        check(ConnectionResponseEnvelope.model_validate(payload), payload)


def test_a_nested_undeclared_key_fails_though_the_sdk_type_allows_extras():
    payload = envelope(rate_limit={"limited": False, "vendor_quota": 5})
    with pytest.raises(UndeclaredFields, match=r"\$\.data\.rate_limit\.vendor_quota"):
        check(ConnectionResponseEnvelope.model_validate(payload), payload)


def test_an_allowed_path_is_accepted():
    payload = envelope(progress=0.5)
    check(ConnectionResponseEnvelope.model_validate(payload), payload, allow=["$.data.progress"])


@pytest.mark.django_db(transaction=True)
def test_the_strict_client_checks_a_live_answer(live_server, api_key):
    client = strict_sdk(live_server.url, api_key)
    assert client.connections.list().data == []
    assert client.connections.with_raw_response.list().data.data == []
