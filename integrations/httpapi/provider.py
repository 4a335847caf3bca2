"""HTTP API: any JSON endpoint. Records are sent to `url` with `method` (options.py holds
the request options a sync may override); headers and authentication come from the
configuration. Model-sync target only; no sandbox emulation (tests point it at a local receiver)."""

import httpx

from integrations.base import ConfigField, ConnectionFailed
from integrations.connection_types import BearerAuth, required_when
from integrations.provider import Provider

from . import options
from .targets import TARGETS
from .writer import make_writer


class HttpApi(Provider):
    id = "httpapi"
    name = "HTTP API"
    description = "Send rows as JSON to an HTTP endpoint of your own."
    fields = (
        options.URL,
        options.METHOD,
        ConfigField("headers", "Headers", type="array", secret_keys=("value",),
                    description="Extra request headers, one {\"name\", \"value\"} each. Values are stored "
                                "encrypted and shown masked."),
        ConfigField("fields", "Fields", type="array",
                    description="Field names offered when mapping a sync (any name can be mapped)."),
        ConfigField("healthcheck", "Health check URL", address="url",
                    description="Requested with GET to test the connection. No check when empty."),
        ConfigField("auth_method", "Authentication", choices=("none", "basic", "bearer", "header"), default="none"),
        ConfigField("username", "Username", description="For basic authentication."),
        ConfigField("password", "Password", secret=True, description="For basic authentication."),
        ConfigField("token", "Bearer token", secret=True),
        ConfigField("header_name", "Header name", description="For header authentication, e.g. X-Api-Key."),
        ConfigField("header_value", "Header value", secret=True, description="For header authentication."),
        options.EXCLUDE, options.BATCH, options.BATCH_SIZE, options.BATCH_FORMAT, options.BATCH_KEY,
    )
    labels = {"auth_method": {"none": "None", "basic": "Basic (username and password)", "bearer": "Bearer token",
                              "header": "A header carrying a key"}, **options.LABELS}
    items = {"headers": {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
                         "additionalProperties": False}}
    targets = TARGETS
    writer = staticmethod(make_writer)

    def validate(self, config: dict):
        problems = options.problems(config)  # the URLs' schemes and hosts are the egress policy's to check
        for index, header in enumerate(config.get("headers") or []):
            if not isinstance(header, dict) or not header.get("name"):
                problems.append((f"headers.{index}", "must be an object with a name and a value"))
        problems += required_when(config, "auth_method", "basic", ("username",),
                                  "is required for basic authentication")
        problems += required_when(config, "auth_method", "bearer", ("token",),
                                  "is required for bearer authentication")
        problems += required_when(config, "auth_method", "header", ("header_name", "header_value"),
                                  "is required for header authentication")
        return problems

    def normalize(self, config: dict) -> dict:
        if isinstance(config.get("fields"), list):
            config["fields"] = [str(name).strip() for name in config["fields"] if str(name).strip()]
        if config.get("exclude_attributes") is not None:
            config["exclude_attributes"] = options.attribute_names(config["exclude_attributes"])
        return config

    def api_url(self, config: dict, sandbox_url: str = "") -> str:
        return config.get("url") or ""

    def headers(self, config: dict) -> dict:
        sent = {str(h["name"]): str(h.get("value") or "") for h in config.get("headers") or [] if isinstance(h, dict)}
        if config.get("auth_method") == "header" and config.get("header_name"):
            sent[config["header_name"]] = config.get("header_value") or ""
        return sent

    def static_auth(self, config: dict):
        method = config.get("auth_method")
        if method == "basic":
            return httpx.BasicAuth(config.get("username") or "", config.get("password") or "")
        if method == "bearer":
            return BearerAuth(config.get("token") or "")
        return None

    def check(self, session) -> dict:
        target = session.config.get("healthcheck")
        if not target:
            return {}
        try:
            response = session.http.get(target, follow_redirects=True)
        except httpx.HTTPError as error:
            raise ConnectionFailed(f"Could not reach {target}: {error}") from None
        if response.status_code >= 400:  # the standard reason, not the endpoint's words: it may be any host
            reason = httpx.codes.get_reason_phrase(response.status_code)
            raise ConnectionFailed(f"{target} answered HTTP {response.status_code} {reason}".rstrip())
        return {}


PROVIDER = HttpApi()
