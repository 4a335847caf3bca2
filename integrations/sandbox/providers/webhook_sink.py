"""A collector for HTTP API targets: every request under /webhook/ is kept and acknowledged.

    POST|PUT|PATCH|DELETE /webhook/<any path>      -> 200 {"received": <records in the body>, "id": <request id>}
    ... /webhook/status/<code>/<any path>           -> answers <code> (e.g. 422, 503) with an error body

Each request is stored in the `requests` collection (method, path, query, headers,
JSON body or text) and can be read at /_sandbox/state/webhook/requests.
"""

from __future__ import annotations

import json

from werkzeug.routing import Rule

from ..http import iso, json_response

NAME = "webhook"
PREFIX = "/webhook"
OAUTH = None
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def error_response(ctx, status, message, headers=None):
    return json_response({"error": message, "status": status}, status, headers)


def collect(ctx, request, path=""):
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError:
        body = raw.decode("utf-8", "replace")
    saved = ctx.state.insert("requests", {
        "method": request.method, "path": "/" + path, "query": request.query_string.decode("latin-1"),
        "headers": {name.lower(): value for name, value in request.headers.items()},
        "body": body, "received_at": iso(),
    })
    parts = path.split("/")
    if len(parts) >= 2 and parts[0] == "status" and parts[1].isdigit() and 100 <= int(parts[1]) <= 599:
        status = int(parts[1])
        if status >= 400:
            return json_response({"error": f"The sink was told to answer {status}.", "id": saved["id"]}, status)
        return json_response({"id": saved["id"]}, status)
    count = len(body) if isinstance(body, list) else (1 if body is not None else 0)
    return json_response({"received": count, "id": saved["id"]})


RULES = [
    Rule("/", endpoint=collect, methods=METHODS),
    Rule("/<path:path>", endpoint=collect, methods=METHODS),
]
