"""Check our connectors' traffic against the providers' published OpenAPI specs
(shared/reference/providers, see its SOURCES.md) with openapi-core.

    contract = published("salesloft")        # None when the provider publishes none
    contract.problems(response)              # what the request or the answer breaks

The saved specs differ from the live APIs in ways SOURCES.md lists; `compensated` applies
those to the loaded spec (never to the files), with two more: nulls are allowed (the live
APIs send them, the specs mark nothing nullable) and Salesloft's `*/*` answers are read as JSON.
"""

import copy
import json
from functools import cache
from pathlib import Path

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.responses.exceptions import ResponseNotFound
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "providers"
PUBLISHED = {  # type id: (spec file, the sandbox prefix standing for the spec's server)
    "salesloft": ("salesloft-v2.openapi.json", "/salesloft"),
    "gong": ("gong-v2.openapi.json", "/gong"),
}
UNLISTED = {  # documented, absent from the saved specs
    "/v2/flows/folders", "/v2/flows/prospects/unassign-flows-by-crm-id",  # Gong: on help.gong.io
    "/v2/flows/prospects/unassign-flows-by-instance-id",
    "/v2/data_control/account_redaction",  # Salesloft: its Account and People Redaction API
}
METHODS = ("get", "post", "put", "patch", "delete")


class Contract:
    def __init__(self, type_id: str, spec: dict, prefix: str):
        self.type_id = type_id
        self.spec = spec
        self.prefix = prefix
        self.server = spec["servers"][0]["url"].rstrip("/")
        self.api = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))

    def covers(self, request: httpx.Request) -> bool:
        """Requests to this provider's API (not its OAuth endpoints, not paths the snapshot lacks)."""
        path = self.spec_path(request)
        return path is not None and path.startswith("/v2/") and path not in UNLISTED

    def spec_path(self, request: httpx.Request) -> str | None:
        path = request.url.path
        return path[len(self.prefix):] if path.startswith(self.prefix + "/") else None

    def problems(self, response: httpx.Response) -> list[str]:
        """What the request and its answer break."""
        request = response.request
        where = f"{request.method} {request.url.path}"
        found = [f"{where}: request: {error}"
                 for error in self.errors(self.api.validate_request, self.as_openapi_request(request))]
        return found + self.answer_problems(response)

    def answer_problems(self, response: httpx.Response) -> list[str]:
        """What the answer breaks (an undocumented error status is not held against it)."""
        where = f"{response.request.method} {response.request.url.path}"
        try:
            self.api.validate_response(self.as_openapi_request(response.request), self.as_openapi_response(response))
        except ResponseNotFound:
            if response.status_code < 400:  # the specs document no error answers
                return [f"{where}: answer {response.status_code} is not in the spec"]
        except Exception as error:
            return [f"{where}: answer {response.status_code}: {e}" for e in self.errors(error)]
        return []

    @classmethod
    def errors(cls, validate_or_error, *args) -> list[str]:
        """What a validation (or the error it raised) found, with the schema errors behind it."""
        error = validate_or_error
        if callable(validate_or_error):
            try:
                validate_or_error(*args)
                return []
            except Exception as raised:
                error = raised
        cause = error.__cause__
        causes = getattr(error, "schema_errors", None) or getattr(cause, "schema_errors", None) or [cause]
        details = "; ".join(str(getattr(c, "message", c)) for c in causes if c is not None)
        return [f"{type(error).__name__}: {error}" + (f" ({details})" if details else "")]

    def as_openapi_request(self, request: httpx.Request):
        builder = EnvironBuilder(
            method=request.method, base_url=self.server, path=self.spec_path(request),
            query_string=request.url.query.decode(), data=request.content,
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},  # the spec's server instead
        )
        return WerkzeugOpenAPIRequest(builder.get_request())

    @staticmethod
    def as_openapi_response(response: httpx.Response):
        return WerkzeugOpenAPIResponse(Response(response.content, status=response.status_code,
                                                headers=dict(response.headers)))


def compensated(type_id: str, spec: dict) -> dict:
    """The deviations SOURCES.md lists for the saved spec, applied to a copy."""
    spec = copy.deepcopy(spec)
    nullable(spec)
    if type_id != "salesloft":
        return spec
    paths = spec["paths"]
    for path, item in list(paths.items()):
        for method, operation in item.items():
            if method not in METHODS:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            if "application/x-www-form-urlencoded" in content:  # JSON bodies are accepted as well
                content["application/json"] = content["application/x-www-form-urlencoded"]
            for answer in operation["responses"].values():
                if "*/*" in answer.get("content", {}):  # the answers are JSON
                    answer["content"]["application/json"] = answer["content"].pop("*/*")
                for media in answer.get("content", {}).values():  # single resources come as {"data": {...}}
                    if "data" not in media["schema"].get("properties", {}):
                        media["schema"] = {"type": "object", "required": ["data"],
                                           "properties": {"data": media["schema"]}}
        if path.endswith(".json"):  # the suffix is optional on live paths
            paths.setdefault(path[: -len(".json")], item)
    memberships = paths["/v2/cadence_memberships.json"]["post"]  # listed as query parameters only
    fields = {p["name"]: p["schema"] for p in memberships["parameters"] if p["in"] == "query"}
    required = [p["name"] for p in memberships["parameters"] if p["in"] == "query" and p.get("required")]
    for parameter in memberships["parameters"]:
        parameter["required"] = False
    memberships["requestBody"] = {"content": {"application/json": {"schema": {
        "type": "object", "properties": fields, "required": required}}}}
    job_data = paths["/v2/bulk_jobs/{bulk_jobs_id}/job_data"]["post"]["requestBody"]["content"]
    for media in job_data.values():  # rows are objects in the documented example flow, "string" in the spec
        media["schema"]["properties"]["data"]["items"] = {"type": "object"}
    return spec


def nullable(node):
    """The specs mark nothing nullable, though the live APIs send null for absent values."""
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            node["nullable"] = True
        for value in node.values():
            nullable(value)
    elif isinstance(node, list):
        for value in node:
            nullable(value)


@cache
def published(type_id: str) -> Contract | None:
    if type_id not in PUBLISHED:
        return None
    name, prefix = PUBLISHED[type_id]
    path = SPECS / name
    if not path.exists():
        return None
    return Contract(type_id, compensated(type_id, json.loads(path.read_text())), prefix)
