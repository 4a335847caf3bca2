"""What a provider package (integrations/<type>/provider.py) declares, as one object.

    class Salesloft(Provider):
        id, name = "salesloft", "Salesloft"
        fields = (...)                          # the configuration spec
        oauth = OAuthSpec(...)                  # or None: static_auth() gives the keys
        oauth_when = ("auth_method", "oauth")   # the field choosing OAuth when keys are the other choice
        api = Endpoint(real_url, sandbox_path)  # or override api_url()
        budget = ((600, 60),)                   # (limit, window seconds) shared by all workers
        targets = TARGETS                       # discovery for model syncs, or None
        writer = staticmethod(make_writer)      # (session, spec) -> Writer, or None
        source = bulk_source                    # bulk-sync source module, or None
        model_source = MODEL_SOURCE             # a ModelSource: models read from it, or None
        def check(self, session): ...

    PROVIDER = Salesloft()

Capabilities follow from which parts are set (integrations/registry.py finds the packages).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterator
from types import ModuleType
from typing import Callable

from integrations.base import Column, ConfigField, CreationProperty, ProviderSession, TargetField, TargetObject, Writer
from integrations.connection_types import Capabilities, Endpoint, OAuthSpec

MODE_VERBS = {
    "create": "Create",
    "update": "Update",
    "updateOrCreate": "Upsert",
    "replace": "Replace",
    "append": "Append",
    "remove": "Remove",
    "snapshot": "Snapshot",
}


def plain_sentence(provider_label, object_name, mode_id, identity=None) -> str:
    text = f"{MODE_VERBS.get(mode_id, mode_id)} {object_name} in {provider_label}"
    if identity:
        text += f" matched on {identity}"
    return text


def no_configuration(object_id) -> list[ConfigField]:
    return []


def no_configuration_problems(connection: dict, configuration: dict) -> list[tuple[str, str]]:
    return []


@dataclass(frozen=True)
class Creation:
    """How a provider makes a new target object: the properties asked for, the
    choices of an enum property, and the object those properties describe."""

    properties: list[CreationProperty]
    values: Callable[[ProviderSession, str], list[tuple[str, str]]]
    new_target: Callable[[dict], TargetObject]


@dataclass(frozen=True)
class Targets:
    """What a provider offers model syncs to write to (integrations/<type>/targets.py)."""

    label: str
    objects: Callable[[ProviderSession], list[TargetObject]]
    fields: Callable[..., list[TargetField]]  # (session, object_id, properties=None)
    sentence: Callable[[TargetObject, str, str | None], str] | None = None
    configuration_fields: Callable[[str | None], list[ConfigField]] = no_configuration
    # (the connection's plain configuration, the sync's) -> [(option, why)] the fields cannot say
    configuration_problems: Callable[[dict, dict], list[tuple[str, str]]] = no_configuration_problems
    accepts_new_fields: bool = False  # any field name may be mapped
    creation: Creation | None = None

    def describe(self, obj: TargetObject, mode_id: str, identity: str | None = None) -> str:
        if self.sentence is not None:
            return self.sentence(obj, mode_id, identity)
        return plain_sentence(self.label, obj.name, mode_id, identity)


@dataclass(frozen=True)
class ModelSource:
    """What a provider offers models to read (integrations/<type>/model_source.py). Bad
    configurations raise SourceRefused(key, message); a refused query QueryError."""

    items: Callable[[ProviderSession], dict]  # {configuration key: [choices] or None}
    requires_one_of: tuple[str, ...]  # keys of which a configuration names one
    clean: Callable[[dict], dict]  # the configuration checked
    fields: Callable[[ProviderSession, dict], list[Column]]
    # (session, configuration, column names, batch_size, limit=None, conditions=()) -> batches of rows
    read: Callable[..., Iterator[list[dict]]]


class Provider:
    """One SaaS provider: configuration spec, auth, API budget, check, discovery, writer, source."""

    id: str
    name: str
    description: str = ""
    fields: tuple[ConfigField, ...] = ()
    hidden: frozenset[str] = frozenset()  # accepted by the API, not shown in the console's form
    labels: dict = {}  # {field: {value: label}}
    items: dict = {}  # {array field: JSON Schema of its items}
    parameter_fields: tuple[str, ...] = ()  # chosen from parameter_values() once authorized
    oauth: OAuthSpec | None = None
    oauth_when: tuple[str, str] | None = None  # (field, value) choosing OAuth; None: always, when it has oauth
    api: Endpoint | None = None  # the API's base URL, real and on the sandbox
    budget: tuple[tuple[int, int], ...] = ()
    targets: Targets | None = None
    writer: Callable[[ProviderSession, object], Writer] | None = None
    source: ModuleType | None = None  # bulk source: KEY, objects, fields, tracking_field, Read
    model_source: ModelSource | None = None
    demo_configuration: dict | None = None  # keys its sandbox accepts: the demo connects with these

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(model_source=self.model_source is not None,
                            model_sync_target=self.targets is not None and self.writer is not None,
                            bulk_sync_source=self.source is not None)

    # ---- configuration --------------------------------------------------

    def validate(self, config: dict) -> list[tuple[str, str]]:
        """[(field, message)] for rules the field list cannot express."""
        return []

    def normalize(self, config: dict) -> dict:
        return config

    # ---- auth -----------------------------------------------------------

    def field(self, name: str) -> ConfigField:
        return next(f for f in self.fields if f.name == name)

    def uses_oauth(self, config: dict) -> bool:
        if self.oauth is None or self.oauth_when is None:
            return self.oauth is not None
        name, value = self.oauth_when
        return config.get(name, self.field(name).default) == value

    def needs_browser(self, config: dict) -> bool:
        """Whether the person must visit the consent page (no token yet, none handed over)."""
        return self.uses_oauth(config) and not config.get("oauth_refresh_token")

    def url_values(self, config: dict) -> dict:
        """Values for the {placeholders} of the OAuth endpoints."""
        return {}

    def token_grant(self, config: dict) -> str:
        return "refresh_token"

    def static_auth(self, config: dict):
        """The httpx.Auth of a connection that does not use OAuth, or None."""
        return None

    def api_url(self, config: dict, sandbox_url: str = "") -> str:
        return self.api.url(sandbox_url)

    def headers(self, config: dict) -> dict:
        return {}

    # ---- calls ----------------------------------------------------------

    def check(self, session: ProviderSession) -> dict:
        """Raises ConnectionFailed in the provider's words; returns read-only fields to store."""
        return {}

    def parameter_values(self, session: ProviderSession) -> dict:
        """{field: [(value, label), ...]} for the parameter_fields."""
        return {}

    def sandbox(self):
        """This provider's emulation for the sandbox (NAME, PREFIX, OAUTH, RULES; see
        integrations/sandbox/app.py), or None."""
        return None
