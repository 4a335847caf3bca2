"""The sandbox WSGI application: every provider module mounted under its prefix.

Provider module contract
========================

A provider's emulation lives in its own package, ``integrations/<type>/sandbox.py``,
and its Provider's ``sandbox()`` returns it (``providers.mounted()`` lists them). It defines:

``NAME``      str, e.g. "salesloft": names its state scope, its settings and its
              inspection URLs (/_sandbox/state/<NAME>/<collection>).
``PREFIX``    str, e.g. "/salesloft": where its RULES are mounted.
``OAUTH``     an ``oauth.OAuthConfig`` or None. When set, each reset installs the
              default client ("sandbox-client" / "sandbox-secret", any
              http(s)://127.0.0.1 or localhost redirect_uri) and OAUTH.api_keys.
``RULES``     list of ``werkzeug.routing.Rule`` relative to PREFIX whose endpoint is a
              handler ``def handler(ctx, request, **url_values) -> Response``.
              Build OAuth endpoints with ``oauth.authorize(OAUTH)``,
              ``oauth.token(OAUTH)`` and ``oauth.revoke(OAUTH)``; authenticate API
              calls with ``oauth.authenticate(ctx, request)``.

Optional:

``seed(state)``        fills demo data after every reset (state is the provider's scope).
``SETTINGS``           dict of setting names and defaults this provider reads
                       (only known names are accepted by PUT /_sandbox/settings).
``INDEXES``            top-level document fields this provider looks documents up by
                       (e.g. ("_email", "crm_id")); indexed so find() stays fast.
``prepare_seed(collection, doc) -> doc``
                       completes a document posted to /_sandbox/state/<NAME>/<collection>
                       (derived lookup fields, timestamps) before it is stored.
``error_response(ctx, status, message, headers=None) -> Response``
                       the provider's own error shape; used for injected faults,
                       unknown paths (404), wrong methods (405), malformed bodies (400)
                       and crashes (500) under PREFIX. Default: {"error": message}.

``ctx`` (``http.Context``) carries ``state`` (the provider's scoped store: the
``state.State`` API with collection names private to the provider), ``settings``
(a dict), ``base_url`` (the sandbox URL as the client reached it, no trailing
slash), ``provider`` (NAME), ``prefix`` (PREFIX) and ``provider_url``
(base_url + PREFIX, for instance_url, next links and _href values).

Helpers: ``http.json_response(body, status=200, headers=None)``,
``http.empty_response``, ``http.html_response``, ``http.read_json``,
``http.read_params`` (JSON or form body as a dict), ``http.abort_with(response)``
(stop a handler with a ready response), ``http.iso()`` and ``http.now()``;
rate-limit primitives in ``ratelimit``.

A handler may raise ``werkzeug.exceptions.HTTPException`` (``abort_with`` does) or
``http.BadBody`` (answered 400 in the provider's shape).

Before dispatch the app counts the request (GET /_sandbox/requests) and applies
injected faults (faults.py) to provider paths; /_sandbox/ itself is never faulted.
"""

from __future__ import annotations

import sys
import traceback
from collections import deque

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Submount
from werkzeug.wrappers import Request, Response

from . import faults, inspect, oauth
from .http import CLOCK, BadBody, Context, json_response
from .providers import mounted

BASE_SETTINGS = {"token_lifetime": 3600}
CORE_INDEXES = ("grant",)  # oauth_tokens by grant
SETTINGS_DOC = "settings"
LOG_SIZE = 1000


def _default_error(ctx, status, message, headers=None):
    return json_response({"error": message, "status": status}, status, headers)


class SandboxApp:
    def __init__(self, state, settings: dict | None = None, providers=None):
        self.state = state
        self.providers = list(mounted() if providers is None else providers)
        self.defaults = dict(BASE_SETTINGS)
        for module in self.providers:
            self.defaults.update(getattr(module, "SETTINGS", {}))
            if module.OAUTH is not None:
                self.defaults.setdefault(f"{module.NAME}_token_lifetime", None)
        self.initial = dict(settings or {})
        unknown = set(self.initial) - set(self.defaults)
        if unknown:
            raise ValueError(f"unknown sandbox settings: {', '.join(sorted(unknown))}")
        self.by_name = {module.NAME: module for module in self.providers}
        for field in CORE_INDEXES + tuple(f for m in self.providers for f in getattr(m, "INDEXES", ())):
            state.ensure_index(field)
        rules = [Submount(module.PREFIX, module.RULES) for module in self.providers]
        rules.append(Submount(inspect.PREFIX, inspect.RULES))
        self.url_map = Map(rules, strict_slashes=False)
        self._seed_missing()

    # -- state --------------------------------------------------------

    def settings(self) -> dict:
        stored = self.state.get("_sandbox", SETTINGS_DOC) or {}
        stored.pop("id", None)
        return {**self.defaults, **self.initial, **stored}

    def update_settings(self, changes: dict) -> dict:
        unknown = set(changes) - set(self.defaults)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        with self.state.lock:
            stored = self.state.get("_sandbox", SETTINGS_DOC) or {"id": SETTINGS_DOC}
            stored.update(changes)
            self.state.put("_sandbox", stored)
        return self.settings()

    def scope(self, module):
        return self.state.scoped(module.NAME)

    def reset(self):
        """Forget everything, then install OAuth defaults and each provider's demo data."""
        with self.state.lock:
            self.state.reset()
            self._seed_missing()

    def _seed_missing(self):
        """On start: seed only providers with nothing stored yet, so a state file survives restarts."""
        with self.state.lock, self.state.transaction():
            for module in self.providers:
                scoped = self.scope(module)
                if scoped.collections():
                    continue
                if module.OAUTH is not None:
                    oauth.install_defaults(scoped, module.OAUTH)
                if hasattr(module, "seed"):
                    module.seed(scoped)

    def context(self, module, request) -> Context:
        return Context(state=self.scope(module), settings=self.settings(),
                       base_url=request.host_url.rstrip("/"), provider=module.NAME,
                       prefix=module.PREFIX, module=module)

    # -- request counting -----------------------------------------------

    def _count(self, provider: str, rule: str, request: Request):
        with self.state.lock:
            counts = self.state.scratch.setdefault("requests", {
                "total": 0, "providers": {}, "rules": {}, "log": deque(maxlen=LOG_SIZE)})
            counts["total"] += 1
            counts["providers"][provider] = counts["providers"].get(provider, 0) + 1
            key = f"{request.method} {rule}"
            counts["rules"][key] = counts["rules"].get(key, 0) + 1
            entry = {"method": request.method, "path": request.path,
                     "query": request.query_string.decode("latin-1"), "provider": provider,
                     "rule": rule, "status": None}
            counts["log"].append(entry)
            return entry

    # -- dispatch -------------------------------------------------------

    def module_for(self, path: str):
        for module in self.providers:
            if path == module.PREFIX or path.startswith(module.PREFIX + "/"):
                return module
        return None

    def dispatch(self, request: Request) -> Response:
        CLOCK.set(self.state.clock)
        if request.path == inspect.PREFIX or request.path.startswith(inspect.PREFIX + "/"):
            return self._dispatch_inspect(request)
        module = self.module_for(request.path)
        if module is None:
            return json_response({"error": f"no sandbox provider at {request.path}",
                                  "providers": {m.NAME: m.PREFIX for m in self.providers}}, 404)
        ctx = self.context(module, request)
        error = getattr(module, "error_response", _default_error)
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            rule, values = adapter.match(return_rule=True)
        except (NotFound, MethodNotAllowed) as exc:
            self._count(module.NAME, "(unmatched)", request)
            headers = {"Allow": ", ".join(exc.valid_methods)} if isinstance(exc, MethodNotAllowed) else None
            text = "Not Found" if exc.code == 404 else "Method Not Allowed"
            return error(ctx, exc.code, text, headers)
        except HTTPException as exc:  # e.g. a redirect for a missing trailing slash
            return exc.get_response(request.environ)
        entry = self._count(module.NAME, rule.rule, request)
        fault = faults.pick(self.state, request.path)
        if fault is not None:
            status, headers = fault
            response = error(ctx, status, "Injected fault" if status != 429 else "Too many requests", headers)
        else:
            response = self._call(rule.endpoint, ctx, request, values, error)
        entry["status"] = response.status_code
        return response

    def _call(self, handler, ctx, request, values, error) -> Response:
        try:
            return handler(ctx, request, **values)
        except HTTPException as exc:
            if exc.response is not None:
                return exc.response
            return error(ctx, exc.code, exc.description or exc.name)
        except BadBody as exc:
            return error(ctx, 400, str(exc))
        except Exception:  # a bug in the sandbox: answer like the provider's 500, keep the trace
            traceback.print_exc(file=sys.stderr)
            return error(ctx, 500, "Internal server error")

    def _dispatch_inspect(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
            return endpoint(self, request, **values)
        except HTTPException as exc:
            if exc.response is not None:
                return exc.response
            return json_response({"error": exc.description or exc.name}, exc.code)
        except (ValueError, BadBody) as exc:
            return json_response({"error": str(exc)}, 400)

    def __call__(self, environ, start_response):
        return self.dispatch(Request(environ))(environ, start_response)


def make_app(state, settings: dict | None = None, providers=None) -> SandboxApp:
    return SandboxApp(state, settings, providers)
