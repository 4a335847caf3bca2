"""Schemathesis against our own /api/openapi.json: no 5xx, every response as documented.

Each operation gets a bounded number of generated requests (FUZZ_EXAMPLES, 10 by
default), sent in-process to the WSGI app with a valid API key. Path ids are
drawn either at random or from a few real objects, so the happy paths are
exercised as well as the 404s.
"""

import json
import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ninja import Schema
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from console.api.api import api
from tests.trust.conftest import known_path_parameters

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
# A 5xx is a bug, except the one answer that reports a dependency: /api/health's 503
# (no worker runs during tests). status_code_conformance fails any status an operation
# does not document.
DEPENDENCY_DOWN = {"GET /api/health": 503}
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]

SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api"))
OPERATIONS = {op.ok().label: op.ok() for op in SCHEMA.get_all_operations()}
app = get_wsgi_application()


def test_the_schema_lists_every_api_route():
    assert len(OPERATIONS) > 50
    assert "GET /api/syncs" in OPERATIONS


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def test_api_schemas_sharing_a_name_are_the_same_shape():
    """The OpenAPI document names components by class name: two different classes with
    one name would silently document one of them with the other's shape."""
    by_name = {}
    for cls in all_subclasses(Schema):
        if cls.__module__.startswith("console.") and not cls.__name__.startswith("Envelope"):
            by_name.setdefault(cls.__name__, []).append((cls.__module__, cls.model_json_schema()))
    clashes = {name: sorted(module for module, _ in shapes) for name, shapes in by_name.items()
               if len({json.dumps(shape, sort_keys=True) for _, shape in shapes}) > 1}
    assert clashes == {}


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_never_fails_and_answers_as_documented(label, existing, api_key):
    operation = OPERATIONS[label]
    names = {p.name for p in operation.path_parameters}
    known = {k: v for k, v in known_path_parameters(operation.path, existing).items() if k in names}
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        if known:
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=known))
    strategy = st.one_of(strategies)
    headers = {"Authorization": f"Bearer {api_key}"}

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case):
        response = case.call(app=app, headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        assert response.status_code < 500 or response.status_code == DEPENDENCY_DOWN.get(label), (
            f"{label} answered {response.status_code}: {response.text[:500]}"
        )

    check()
