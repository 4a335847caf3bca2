"""The request options of an HTTP API target (seed 004's manual configuration).

They are set on the connection, and each sync may override them in its
`target.configuration` (headers and authentication stay the connection's: their values
are secrets, kept encrypted there).
"""

import re
from dataclasses import replace
from urllib.parse import urlsplit

from integrations.base import ConfigField

METHODS = ("POST", "PUT", "PATCH", "DELETE")
JSON_ARRAY, JSON_OBJECT, NDJSON = "json_array", "json_object", "ndjson"
BATCH_FORMATS = (JSON_ARRAY, JSON_OBJECT, NDJSON)
DEFAULT_BATCH_SIZE = 100
MAX_BATCH_SIZE = 10_000
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")

URL = ConfigField("url", "URL", required=True, address="url",
                  description="Where records are sent, e.g. https://example.com/items/{id}: a {field} in the path "
                              "or query takes that field's value from each record, URL-encoded.")
METHOD = ConfigField("method", "Method", choices=METHODS, default="POST",
                     description="DELETE sends no body unless records are batched.")
EXCLUDE = ConfigField("exclude_attributes", "Excluded attributes", type="array",
                      description="Record fields left out of the request body.")
BATCH = ConfigField("batch", "Batch records", type="boolean", default=False,
                    description="Send several records in one request instead of one request each.")
BATCH_SIZE = ConfigField("batch_size", "Batch size", type="integer", default=DEFAULT_BATCH_SIZE,
                         description=f"At most this many records per request (1 to {MAX_BATCH_SIZE}).")
BATCH_FORMAT = ConfigField("batch_format", "Batch body", choices=BATCH_FORMATS, default=JSON_ARRAY,
                           description="A JSON array, a JSON object holding the array under the batch key, "
                                       "or NDJSON (one JSON record per line).")
BATCH_KEY = ConfigField("batch_key", "Batch key",
                        description="The key of the JSON object that holds the records, e.g. records.")
LABELS = {"batch_format": {JSON_ARRAY: "JSON array", JSON_OBJECT: "JSON object wrapping the array",
                           NDJSON: "NDJSON (one record per line)"}}

REQUEST_FIELDS = (URL, METHOD, EXCLUDE, BATCH, BATCH_SIZE, BATCH_FORMAT, BATCH_KEY)
# a sync's own values: none by default, so the connection's apply unless the sync sets one
SYNC_FIELDS = tuple(replace(field, required=False, default=None) for field in REQUEST_FIELDS)


def placeholders(url: str) -> list[str]:
    return PLACEHOLDER.findall(url)


def url_problem(url: str) -> str | None:
    if "{" in PLACEHOLDER.sub("", url) or "}" in PLACEHOLDER.sub("", url):
        return "has an unclosed {placeholder}; write {field} with a field name"
    scheme, sep, rest = url.split("?", 1)[0].split("#", 1)[0].partition("://")
    host = rest.split("/", 1)[0] if sep else scheme
    if "{" in scheme + host:
        return "may hold {field} placeholders in its path or query only, never in its host"
    return None


def origin(url: str) -> str:
    """scheme://host:port of a URL, lower-cased, the port spelled out."""
    parts = urlsplit(PLACEHOLDER.sub("", url))
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        port = None
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


def origin_problem(sync_url: str, connection_url: str) -> str | None:
    """A sync's URL stays on its connection's host: the connection's headers and credentials
    go with every request, and only those who may edit the connection choose where."""
    if origin(sync_url) == origin(connection_url):
        return None
    shown = connection_url.split("://", 1)[-1].split("/", 1)[0]
    return f"must be on the connection's host ({shown}): its headers and credentials go with every request"


def problems(options: dict) -> list[tuple[str, str]]:
    """[(option, why)] for request options that cannot be used as given or together."""
    found = []
    url = options.get("url")
    if isinstance(url, str) and url_problem(url):
        found.append(("url", url_problem(url)))
    size = options.get("batch_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or
                             not 1 <= size <= MAX_BATCH_SIZE):
        found.append(("batch_size", f"must be a whole number from 1 to {MAX_BATCH_SIZE}"))
    if options.get("batch") and options.get("batch_format") == JSON_OBJECT and not options.get("batch_key"):
        found.append(("batch_key", "is required when the batch body is a JSON object"))
    excluded = options.get("exclude_attributes")
    if excluded is not None and not (isinstance(excluded, list) and all(isinstance(n, str) for n in excluded)):
        found.append(("exclude_attributes", "must be a list of field names"))
    return found


def attribute_names(value) -> list[str]:
    """A list of field names from a list or from "a, b" (the console's text input)."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return value
    return [str(name).strip() for name in value if str(name).strip()]
