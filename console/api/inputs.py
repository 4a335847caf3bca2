"""What the API refuses before a view reads it: an over-long URL (414), invalid Unicode
or NUL characters in a path parameter, a query parameter or a JSON body (400 naming the
field), and JSON nested deeper than MAX_JSON_DEPTH (400). Databases refuse NUL characters
and lone surrogates, and Python's JSON parser gives up on very deep nesting; caught here,
neither becomes a 500 further in.
"""

import re
from collections import deque
from urllib.parse import unquote_to_bytes

from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.urls import Resolver404, resolve

from .errors import error_response

MAX_URL_LENGTH = 8192
MAX_JSON_DEPTH = 64
SURROGATE = re.compile("[\ud800-\udfff]")
# A JSON string (skipped whole) or a bracket; possessive, so an unterminated string costs one pass.
JSON_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')
ROUTE_PARAMETER = re.compile(r"^<(?:\w+:)?(\w+)>$")


def text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain NUL characters"
    if SURROGATE.search(text):
        return "is not valid Unicode (it holds a lone surrogate)"
    return None


def bytes_problem(raw: bytes) -> str | None:
    try:
        return text_problem(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "is not valid UTF-8"


def invalid_field(field: str, message: str):
    return error_response(400, f"{field}: {message}", key="validation_error",
                          metadata={"errors": [{"field": field, "message": message}]})


def url_refusal(request):
    """414 for a URL longer than MAX_URL_LENGTH; 400 for a path or query parameter that is not
    valid UTF-8 or holds a NUL character."""
    path = request.META.get("PATH_INFO", "")
    query = get_bytes_from_wsgi(request.META, "QUERY_STRING", "")
    length = len(path) + len(query)
    if length > MAX_URL_LENGTH:
        return error_response(414, f"The URL is {length} characters long; this API accepts at most "
                                   f"{MAX_URL_LENGTH}.", key="uri_too_long", metadata={"max_length": MAX_URL_LENGTH})
    for index, segment in enumerate(path.lstrip("/").split("/")):
        problem = bytes_problem(unquote_to_bytes(segment))  # Django kept undecodable bytes %-escaped
        if problem:
            return invalid_field(path_parameter(request, index), problem)
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        name, value = unquote_to_bytes(name.replace(b"+", b" ")), unquote_to_bytes(value.replace(b"+", b" "))
        problem = bytes_problem(name) or bytes_problem(value)
        if problem:
            return invalid_field(name.decode("utf-8", "replace"), problem)
    return None


def path_parameter(request, index: int) -> str:
    """The name of the route's parameter at that segment of the path, else "path"."""
    try:
        route = resolve(request.path_info).route.split("/")
    except Resolver404:
        return "path"
    match = ROUTE_PARAMETER.match(route[index]) if index < len(route) else None
    return match.group(1) if match else "path"


def json_depth(text: str) -> int:
    depth = deepest = 0
    for token in JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in ("]", "}"):
            depth -= 1
    return deepest


def too_deep(text: str):
    if json_depth(text) > MAX_JSON_DEPTH:
        return error_response(400, f"Request body is nested more than {MAX_JSON_DEPTH} levels deep.",
                              key="invalid_json", metadata={"max_depth": MAX_JSON_DEPTH})
    return None


def text_refusal(document):
    """400 naming the first field (a.b.0.c) whose name or text holds a NUL or a lone surrogate."""
    pending = deque([("", document)])
    while pending:
        where, value = pending.popleft()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return invalid_field(where or "body", problem)
        elif isinstance(value, (dict, list)):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                field = f"{where}.{key}" if where else str(key)
                problem = text_problem(key) if isinstance(key, str) else None
                if problem:
                    return invalid_field(where or "body", f"has a field name that {problem}")
                pending.append((field, item))
    return None
