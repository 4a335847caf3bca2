"""What a connection type declares: its configuration fields, its OAuth flavour,
its capabilities and where its API lives.

Provider packages (integrations/salesloft, ...) describe themselves with these;
integrations/catalogue.py collects them into one dict. Plain Python: the
console passes in whatever comes from its settings (the sandbox URL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Callable

import httpx

from integrations.base import ConfigField, ConnectionFailed
from integrations.responses import provider_words

if TYPE_CHECKING:
    from integrations.provider import Provider


@dataclass(frozen=True)
class Endpoint:
    """A provider URL: the real one, and its path on the sandbox.

    `real` may hold {placeholders} filled from the configuration (Salesforce's {domain}).
    """

    real: str
    sandbox: str

    def url(self, sandbox_url: str = "", **values) -> str:
        if sandbox_url:
            return sandbox_url.rstrip("/") + self.sandbox
        return self.real.format(**values)


@dataclass(frozen=True)
class OAuthSpec:
    """How to run a provider's authorization-code flow and refresh its tokens.

    extras: token-response keys kept beside the tokens (Salesforce instance_url,
    Gong api_base_url_for_customer), stored as oauth_<key>.
    client_fields: the configuration fields that carry the customer's own OAuth app
    (client id, client secret); when empty the console's app is used.
    client_auth: "body" sends client_id/secret as form fields, "basic" as HTTP Basic.
    """

    authorize: Endpoint
    token: Endpoint
    scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    pkce: bool = False
    client_auth: str = "body"
    extras: tuple[str, ...] = ()
    client_fields: tuple[str, str] = ("client_id", "client_secret")
    authorize_params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Capabilities:
    model_source: bool = False
    model_sync_target: bool = False
    bulk_sync_source: bool = False

    def operations(self) -> list[str]:
        offered = (("models", self.model_source), ("modelsync_destination", self.model_sync_target),
                   ("bulksync_source", self.bulk_sync_source))
        return [name for name, offers in offered if offers]


@dataclass(frozen=True)
class ConnectionType:
    """One entry of the catalogue.

    kind: "warehouse" (`module` is its integrations.warehouses module) or "api" (an HTTP
    provider: `provider` has api_url, static_auth, check, ...).
    hidden: fields the API accepts but the console form does not show
    (refresh tokens handed over by API callers, a customer's own OAuth app).
    labels: {field: {value: label}} for accepted values shown in forms.
    items: {array field: JSON Schema of its items}.
    parameter_fields: fields chosen from the provider's parameter values once authorized.
    """

    id: str
    name: str
    kind: str
    fields: tuple[ConfigField, ...]
    capabilities: Capabilities
    module: ModuleType | None = None
    provider: Provider | None = None
    oauth: OAuthSpec | None = None
    hidden: frozenset[str] = frozenset()
    labels: dict = field(default_factory=dict)
    items: dict = field(default_factory=dict)
    parameter_fields: tuple[str, ...] = ()
    description: str = ""
    validate: Callable[[dict], list] | None = None
    file_backed: bool = False  # opens files on the console's machine: offered only when the operator allows

    def field(self, name: str) -> ConfigField | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def secret_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.secret]

    def uses_oauth(self, config: dict) -> bool:
        """Whether a connection configured like this authorizes through OAuth."""
        return self.provider is not None and self.oauth is not None and self.provider.uses_oauth(config)

    def needs_browser(self, config: dict) -> bool:
        """Whether the person must visit the provider's consent page (no token yet, none handed over)."""
        return self.uses_oauth(config) and self.provider.needs_browser(config)

    def problems(self, config: dict) -> list[tuple[str, str]]:
        """Rules the field list cannot express (fields required by an auth method)."""
        return list(self.validate(config)) if self.validate else []

    def normalize(self, config: dict) -> dict:
        return self.provider.normalize(config) if self.provider is not None else config


class BearerAuth(httpx.Auth):
    def __init__(self, token: str):
        self.token = token

    def auth_flow(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def required_when(config: dict, selector: str, value: str, names: tuple[str, ...], message: str):
    """[(field, message)] for each of `names` left empty while config[selector] == value."""
    if config.get(selector) != value:
        return []
    return [(name, message) for name in names if config.get(name) in (None, "")]


def check_response(response: httpx.Response, what: str) -> dict:
    """The JSON body of a check call, or ConnectionFailed in the provider's words."""
    if response.status_code in (401, 403):
        raise ConnectionFailed(
            f"{what} refused the credentials ({response.status_code}): {provider_words(response)}")
    if response.status_code >= 400:
        raise ConnectionFailed(f"{what} answered {response.status_code}: {provider_words(response)}")
    try:
        return response.json()
    except ValueError:
        raise ConnectionFailed(f"{what} answered with something other than JSON.") from None


def get(session, path: str, what: str, **kwargs) -> dict:
    """GET through the session's client for a check; transport errors become ConnectionFailed."""
    try:
        response = session.http.get(path, **kwargs)
    except httpx.HTTPError as error:
        raise ConnectionFailed(f"Could not reach {what}: {error}") from None
    return check_response(response, what)
