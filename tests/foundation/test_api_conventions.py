import base64
import json

import pytest
from django.test import Client

from console.accounts.models import ApiKey
from console.api.middleware import VERSIONS
from console.api.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status):
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"status", "message", "key", "metadata"}
    assert body["status"] == status
    assert body["message"]
    return body


def test_me_describes_the_caller(api, organization, org_admin):
    response = api.get("/api/me")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["email"] == "admin@example.com"
    assert data["organization_id"] == str(organization.id)
    assert data["organization_name"] == "Acme"
    assert data["is_user"] is True and data["is_partner"] is False


def test_organization_and_its_users(api, organization):
    assert api.get("/api/organization").json() == {
        "data": {"id": str(organization.id), "name": "Acme", "issuer": None,
                 "sso_domain": None, "sso_org_id": None}
    }
    users = api.get("/api/organization/users").json()["data"]
    assert [u["email"] for u in users] == ["admin@example.com"]
    assert api.get(f"/api/organization/users/{users[0]['id']}").json()["data"]["role"] == "admin"


@pytest.mark.parametrize(
    "headers, message",
    [
        ({}, "Missing API key."),
        ({"Authorization": "Bearer not-a-key"}, "Invalid or revoked API key."),
        ({"Authorization": "Token abc"}, "Invalid or revoked API key."),
    ],
)
def test_missing_or_bad_key_is_401_with_error_shape(db, headers, message):
    body = assert_error_shape(Client(headers=headers).get("/api/me"), 401)
    assert body["message"] == message
    assert body["key"] == "unauthorized"


def test_revoked_key_is_401(api, api_key):
    ApiKey.objects.get().revoke()
    assert_error_shape(api.get("/api/me"), 401)


def test_key_accepted_base64_encoded_and_as_basic_auth(api_key):
    encoded = base64.b64encode(api_key.encode()).decode()
    assert Client(headers={"Authorization": f"Bearer {encoded}"}).get("/api/me").status_code == 200
    basic = base64.b64encode(f"{api_key}:".encode()).decode()
    assert Client(headers={"Authorization": f"Basic {basic}"}).get("/api/me").status_code == 200


@pytest.mark.parametrize("version", VERSIONS)
def test_known_versions_are_accepted_and_echoed(api, version):
    response = api.get("/api/me", headers={"X-Polytomic-Version": version})
    assert response.status_code == 200
    assert response["X-Polytomic-Version"] == version


def test_no_version_header_gets_the_current_version(api):
    assert api.get("/api/me")["X-Polytomic-Version"] == "2025-09-18"


def test_unknown_version_is_400(api):
    body = assert_error_shape(api.get("/api/me", headers={"X-Polytomic-Version": "2020-01-01"}), 400)
    assert "2020-01-01" in body["message"]
    assert body["metadata"]["supported_versions"] == list(VERSIONS)


def test_invalid_json_is_400_naming_line_and_column(api):
    body = '{\n  "name": "Active Users",\n  "configuration": {\n    "query": "SELECT 1",\n  },\n}'
    response = api.post("/api/me", data=body, content_type="application/json")
    error = assert_error_shape(response, 400)
    assert error["key"] == "invalid_json"
    assert error["metadata"]["line"] == 5
    assert error["metadata"]["column"] == 3
    assert "line 5 column 3" in error["message"]


def test_unknown_api_path_and_method_get_json_errors(api):
    assert assert_error_shape(api.get("/api/does-not-exist"), 404)["key"] == "not_found"
    assert_error_shape(api.delete("/api/me"), 405)


def test_openapi_document_is_served_and_lists_our_routes(db):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert "/api/me" in spec["paths"]
    # the SDK's connections.connect posts to "api/connections/connect/", the one path it ends with a slash
    assert [path for path in spec["paths"] if path.endswith("/")] == ["/api/connections/connect/"]


# Idempotency is middleware, so a plain test view under /api/ exercises it.
@pytest.fixture
def counter(settings):
    settings.ROOT_URLCONF = "tests.foundation.idempotency_urls"
    from tests.foundation import idempotency_urls

    idempotency_urls.CALLS.clear()
    return idempotency_urls.CALLS


def post_with_key(api, key, body, path="/api/counter"):
    return api.post(path, data=json.dumps(body), content_type="application/json",
                    headers={"Idempotency-Key": key})


def test_same_key_and_body_replays_the_first_response(api, counter):
    first = post_with_key(api, "key-0001-abc", {"n": 1})
    second = post_with_key(api, "key-0001-abc", {"n": 1})
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second["Idempotent-Replayed"] == "true"
    assert len(counter) == 1
    post_with_key(api, "key-0002-abc", {"n": 1})
    assert len(counter) == 2


def test_same_key_with_another_body_is_refused(api, counter):
    post_with_key(api, "key-0001-abc", {"n": 1})
    body = assert_error_shape(post_with_key(api, "key-0001-abc", {"n": 2}), 422)
    assert body["key"] == "idempotency_key_reused"
    assert len(counter) == 1


def test_keys_are_scoped_to_the_caller(api, other_api, counter):
    post_with_key(api, "key-0001-abc", {"n": 1})
    response = post_with_key(other_api, "key-0001-abc", {"n": 1})
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert len(counter) == 2


def test_duplicate_while_first_is_in_flight_gets_409(api, api_key, counter):
    from console.api.middleware import sha256

    IdempotencyRecord.objects.create(
        scope=sha256(f"Bearer {api_key}"), key="key-0001-abc", fingerprint="in-flight"
    )
    body = assert_error_shape(post_with_key(api, "key-0001-abc", {"n": 1}), 409)
    assert "in progress" in body["message"]
    assert counter == []


def test_malformed_idempotency_key_is_400(api, counter):
    body = assert_error_shape(post_with_key(api, "short", {"n": 1}), 400)
    assert body["key"] == "invalid_idempotency_key"
    assert counter == []


def test_api_key_over_its_budget_gets_429_with_retry_after(api, other_api, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    assert [api.get("/api/me").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("/api/me")
    body = assert_error_shape(response, 429)
    assert body["key"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 61  # the window, plus one bucket at most
    # Another key has its own budget.
    assert other_api.get("/api/me").status_code == 200
