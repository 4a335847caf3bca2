"""The official SDK as a strict client: every answer is re-read against the type the SDK declares.

The SDK's models ignore keys they do not declare, so a misnamed field would pass unseen.
`strict_sdk(base_url, token)` returns a client whose every call also checks the raw JSON:
a key the declared type does not name fails the call, at any depth, though the
SDK's own types allow extras. A test names the extras it means with `allow`.
"""

import types
import typing

import httpx
import pydantic
from polytomic import Polytomic

SDK_VERSION = "2025-09-18"


class UndeclaredFields(AssertionError):
    pass


def undeclared_fields(annotation, payload, path: str = "$", allow: frozenset = frozenset()) -> list[str]:
    """Paths of keys in `payload` that `annotation` (an SDK type) does not declare."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return undeclared_fields(typing.get_args(annotation)[0], payload, path, allow)
    if origin in (typing.Union, types.UnionType):
        branches = [a for a in typing.get_args(annotation) if a is not type(None)]
        results = [undeclared_fields(branch, payload, path, allow) for branch in branches]
        return min(results, key=len) if results else []
    if origin in (list, list, set, tuple) and isinstance(payload, list):
        (item,) = typing.get_args(annotation)[:1] or (typing.Any,)
        return [p for i, value in enumerate(payload) for p in undeclared_fields(item, value, f"{path}[{i}]", allow)]
    if origin in (dict, dict) and isinstance(payload, dict):
        value_type = (typing.get_args(annotation) or (str, typing.Any))[1]
        return [p for key, value in payload.items() for p in undeclared_fields(value_type, value, f"{path}.{key}", allow)]
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel) and isinstance(payload, dict):
        fields = {}
        for name, field in annotation.model_fields.items():
            fields[name] = field.annotation
            if field.alias:
                fields[field.alias] = field.annotation
        problems = []
        for key, value in payload.items():
            where = f"{path}.{key}"
            if key not in fields:
                if where not in allow:
                    problems.append(where)
                continue
            problems.extend(undeclared_fields(fields[key], value, where, allow))
        return problems
    return []


def check(result, payload, allow=()) -> None:
    """Fail when the raw `payload` behind the parsed `result` carries keys its type does not declare."""
    if not isinstance(result, pydantic.BaseModel):
        return
    problems = undeclared_fields(type(result), payload, allow=frozenset(allow))
    if problems:
        raise UndeclaredFields(f"{type(result).__name__}: undeclared {', '.join(problems)}")


class _StrictClient:
    def __init__(self, target, answers: list, allow: tuple):
        self._target, self._answers, self._allow = target, answers, allow

    def __getattr__(self, name):
        attribute = getattr(self._target, name)
        if callable(attribute) and not isinstance(attribute, type):
            return self._checked(attribute)
        if hasattr(attribute, "_client_wrapper") or hasattr(attribute, "_raw_client"):
            return _StrictClient(attribute, self._answers, self._allow)
        return attribute

    def _checked(self, method):
        def call(*args, **kwargs):
            self._answers.clear()
            result = method(*args, **kwargs)
            if self._answers and self._answers[-1] is not None:
                check(result, self._answers[-1], self._allow)
            return result

        return call


def strict_sdk(base_url: str, token: str, allow=(), **options):
    """A Polytomic SDK client whose answers must name only the fields the SDK declares.

    `allow` lists JSON paths (e.g. "$.data.progress") a test accepts beyond the declared type.
    """
    answers: list = []

    def remember(response: httpx.Response):
        response.read()
        is_json = response.headers.get("content-type", "").startswith("application/json")
        answers.append(response.json() if is_json and response.content else None)

    http = httpx.Client(event_hooks={"response": [remember]}, timeout=options.pop("timeout", 60),
                        follow_redirects=options.pop("follow_redirects", True))  # as the SDK's own client does
    client = Polytomic(base_url=base_url, token=token, version=SDK_VERSION, max_retries=0,
                      httpx_client=http, **options)
    return _StrictClient(client, answers, tuple(allow))
