"""The sandbox's own API under /_sandbox/: look inside, seed, reset, inject faults, tune settings.

    GET  /_sandbox/                                  providers, their URLs and collections
    POST /_sandbox/reset                             forget everything, re-seed demo data
    GET  /_sandbox/state/<provider>                  collection names with counts
    GET  /_sandbox/state/<provider>/<collection>     {"data": [docs]}
    POST /_sandbox/state/<provider>/<collection>     seed: a doc, a list, or {"data": [...]};
                                                     docs with an existing id are replaced
    GET  /_sandbox/requests                          counts per provider and per "METHOD rule",
                                                     plus the last requests (?log=1)
    DELETE /_sandbox/requests                        zero the counters
    GET|PUT /_sandbox/faults                         see faults.py
    GET|PUT /_sandbox/settings                       e.g. {"token_lifetime": 2}
    POST /_sandbox/oauth/<provider>/expire-tokens    every access token expires now
    POST /_sandbox/oauth/<provider>/revoke-all       every access and refresh token is revoked
    POST /_sandbox/oauth/clients                     {"provider", "client_id", "client_secret",
                                                      "redirect_uris": [...]} (exact match)
    POST /_sandbox/oauth/<provider>/api-keys         {"key", "secret"?}: a static API key

Handlers here receive the app itself instead of a provider context.
"""

from __future__ import annotations

from werkzeug.routing import Rule

from . import faults, oauth
from .http import abort_with, json_response, read_json

PREFIX = "/_sandbox"


def _body(request):
    body = read_json(request)
    if body is None:
        return {}
    return body


def _object(request) -> dict:
    body = _body(request)
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _module(app, provider):
    module = app.by_name.get(provider)
    if module is None:
        abort_with(json_response({"error": f"unknown provider {provider!r}",
                                  "providers": sorted(app.by_name)}, 404))
    return module


def index(app, request):
    base = request.host_url.rstrip("/")
    providers = {
        module.NAME: {"url": base + module.PREFIX, "oauth": module.OAUTH is not None,
                      "collections": app.scope(module).collections()}
        for module in app.providers
    }
    return json_response({"providers": providers, "settings": app.settings(), "faults": faults.get(app.state)})


def reset(app, request):
    app.reset()
    return json_response({"reset": True})


def collections(app, request, provider):
    scoped = app.scope(_module(app, provider))
    return json_response({"data": {name: scoped.count(name) for name in scoped.collections()}})


def list_docs(app, request, provider, collection):
    scoped = app.scope(_module(app, provider))
    return json_response({"data": scoped.find(collection)})


def seed_docs(app, request, provider, collection):
    module = _module(app, provider)
    scoped = app.scope(module)
    body = _body(request)
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        body = body["data"]
    docs = body if isinstance(body, list) else [body]
    if not all(isinstance(doc, dict) for doc in docs):
        raise ValueError("documents must be JSON objects")
    prepare = getattr(module, "prepare_seed", None)
    if prepare is not None:
        docs = [prepare(collection, dict(doc)) for doc in docs]
    saved = []
    with scoped.transaction():
        for doc in docs:
            if doc.get("id") is not None and scoped.get(collection, doc["id"]) is not None:
                saved.append(scoped.put(collection, doc))
            else:
                saved.append(scoped.insert(collection, doc))
    return json_response({"data": saved}, 201)


def requests_report(app, request):
    with app.state.lock:
        counts = app.state.scratch.get("requests") or {"total": 0, "providers": {}, "rules": {}, "log": []}
        report = {"total": counts["total"], "providers": dict(counts["providers"]),
                  "rules": dict(counts["rules"])}
        if request.args.get("log"):
            report["log"] = [dict(entry) for entry in counts["log"]]
    return json_response(report)


def clear_requests(app, request):
    with app.state.lock:
        app.state.scratch.pop("requests", None)
    return json_response({"total": 0, "providers": {}, "rules": {}})


def get_faults(app, request):
    return json_response(faults.get(app.state))


def put_faults(app, request):
    return json_response(faults.put(app.state, _object(request)))


def get_settings(app, request):
    return json_response(app.settings())


def put_settings(app, request):
    return json_response(app.update_settings(_object(request)))


def expire_tokens(app, request, provider):
    return json_response({"expired": oauth.expire_all(app.scope(_oauth_module(app, provider)))})


def revoke_all(app, request, provider):
    return json_response({"revoked": oauth.revoke_all(app.scope(_oauth_module(app, provider)))})


def _oauth_module(app, provider):
    module = _module(app, provider)
    if module.OAUTH is None:
        abort_with(json_response({"error": f"{provider} has no OAuth"}, 400))
    return module


def register_client(app, request):
    body = _object(request)
    missing = [k for k in ("provider", "client_id", "client_secret", "redirect_uris") if not body.get(k)]
    if missing:
        raise ValueError(f"missing: {', '.join(missing)}")
    if not isinstance(body["redirect_uris"], list):
        raise ValueError("redirect_uris must be a list")
    module = _oauth_module(app, body["provider"])
    client = oauth.register_client(app.scope(module), body["client_id"], body["client_secret"],
                                   body["redirect_uris"])
    return json_response({"data": client}, 201)


def add_api_key(app, request, provider):
    body = _object(request)
    if not body.get("key"):
        raise ValueError("missing: key")
    doc = {"id": body["key"]}
    if body.get("secret"):
        doc["secret"] = body["secret"]
    scoped = app.scope(_oauth_module(app, provider))
    return json_response({"data": scoped.put("api_keys", doc)}, 201)


RULES = [
    Rule("/", endpoint=index, methods=["GET"]),
    Rule("/reset", endpoint=reset, methods=["POST"]),
    Rule("/state/<provider>", endpoint=collections, methods=["GET"]),
    Rule("/state/<provider>/<collection>", endpoint=list_docs, methods=["GET"]),
    Rule("/state/<provider>/<collection>", endpoint=seed_docs, methods=["POST"]),
    Rule("/requests", endpoint=requests_report, methods=["GET"]),
    Rule("/requests", endpoint=clear_requests, methods=["DELETE"]),
    Rule("/faults", endpoint=get_faults, methods=["GET"]),
    Rule("/faults", endpoint=put_faults, methods=["PUT"]),
    Rule("/settings", endpoint=get_settings, methods=["GET"]),
    Rule("/settings", endpoint=put_settings, methods=["PUT"]),
    Rule("/oauth/clients", endpoint=register_client, methods=["POST"]),
    Rule("/oauth/<provider>/expire-tokens", endpoint=expire_tokens, methods=["POST"]),
    Rule("/oauth/<provider>/revoke-all", endpoint=revoke_all, methods=["POST"]),
    Rule("/oauth/<provider>/api-keys", endpoint=add_api_key, methods=["POST"]),
]
