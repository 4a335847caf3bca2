"""Check sandbox responses against the providers' saved OpenAPI specs (shared/reference/providers).

A deliberately small validator: types, required keys, enums, array items and
$ref. Properties a response adds beyond the schema are allowed (providers add
fields without notice), and null is accepted anywhere because the saved specs
mark nothing nullable although the live APIs send nulls.
"""

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

SPECS = Path("/work/shared/reference/providers")
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


@lru_cache(maxsize=None)
def load(name):
    path = SPECS / name
    if not path.exists():
        return None
    return json.loads(path.read_text())


def spec_or_skip(name):
    spec = load(name)
    if spec is None:
        pytest.skip(f"{name} is not available")
    return spec


def response_schema(spec, path, method="get", status="200"):
    operation = spec["paths"][path][method.lower()]
    content = operation["responses"][str(status)]["content"]
    return next(iter(content.values()))["schema"]


def _resolve(spec, schema):
    while "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def problems(spec, schema, value, where="$"):
    """All the ways `value` breaks `schema`, as readable strings."""
    schema = _resolve(spec, schema)
    if value is None:
        return []
    found = []
    for part in schema.get("allOf", []):
        found += problems(spec, part, value, where)
    kind = schema.get("type")
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            found.append(f"{where}: expected integer, got {value!r}")
    elif kind == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            found.append(f"{where}: expected number, got {value!r}")
    elif kind in TYPES and not isinstance(value, TYPES[kind]):
        found.append(f"{where}: expected {kind}, got {type(value).__name__} {value!r}")
        return found
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                found.append(f"{where}: missing required {key!r}")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                found += problems(spec, sub, value[key], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += problems(spec, schema["items"], item, f"{where}[{index}]")
    return found


def assert_matches(spec, path, body, method="get", status="200"):
    found = problems(spec, response_schema(spec, path, method, status), body)
    assert not found, "\n".join(found)


def template_for(spec, path):
    """The spec's path template for a concrete path (".json" optional), e.g. /v2/people/7 -> /v2/people/{id}.json."""
    for template in spec["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template))
        if re.fullmatch(pattern, path) or re.fullmatch(pattern, path + ".json"):
            return template
    raise KeyError(path)
