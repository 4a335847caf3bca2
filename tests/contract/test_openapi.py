"""Salesloft and Gong publish OpenAPI specs: the contract suite checks every request their
connectors send and every sandbox answer against them (conftest.published_contract).
Here: that the check sees real traffic, and that drift either way is reported."""

import httpx
import pytest

from console.connections import sessions
from integrations import targets
from tests.sandbox.connections import sandbox_connection

from .openapi import published

pytestmark = pytest.mark.django_db


def exchange(method, path, sent=None, status=200, answer=None) -> httpx.Response:
    request = httpx.Request(method, f"http://127.0.0.1:9{path}", json=sent)
    return httpx.Response(status, json=answer, request=request)


@pytest.mark.parametrize("type_id", ["salesloft", "gong"])
def test_discovery_traffic_is_checked_against_the_spec(type_id, organization, settings, sandbox, published_contract):
    settings.SANDBOX_URL = sandbox.url
    session = sessions.provider_session(sandbox_connection(organization, type_id, sandbox=sandbox))
    try:
        assert targets.target_objects(type_id, session)
    finally:
        session.http.close()
    contract = published(type_id)
    assert contract is not None, "the published spec is missing from shared/reference/providers"
    checked = [response for response in published_contract if contract.covers(response.request)]
    assert checked and all(response.status_code == 200 for response in checked)


def test_a_request_breaking_salesloft_s_spec_is_reported():
    found = published("salesloft").problems(exchange(
        "POST", "/salesloft/v2/people.json", sent={"email_address": ["not", "a", "string"]},
        answer={"data": {"id": 1}}))
    assert any(": request:" in problem and "email_address" in problem for problem in found), found


def test_an_unpublished_path_is_reported():
    found = published("salesloft").problems(exchange("GET", "/salesloft/v2/persons.json", answer={"data": []}))
    assert any("PathNotFound" in problem for problem in found), found


def test_an_answer_breaking_the_spec_is_reported():
    found = published("salesloft").problems(exchange("GET", "/salesloft/v2/me", answer={"data": {"id": "one"}}))
    assert any("answer 200" in problem for problem in found), found
    found = published("gong").problems(exchange("GET", "/gong/v2/users", answer={"users": "nobody"}))
    assert any("answer 200" in problem for problem in found), found


def test_error_answers_are_not_held_to_the_spec_which_documents_none():
    assert published("gong").problems(exchange("GET", "/gong/v2/users", status=401,
                                                answer={"errors": ["Invalid authorization credentials"]})) == []
