"""Target discovery for model syncs, dispatched by connection type id.

Each provider module `integrations/<type>/targets.py` offers:

    LABEL                                   provider name for sentences ("Salesloft")
    objects(session) -> list[TargetObject]
    fields(session, object_id, properties=None) -> list[TargetField]
    CREATION: list[CreationProperty]        optional; the object kinds it can create
    property_values(session, property_id)   optional; [(value, label)] of an enum property
    new_target(properties) -> TargetObject  optional; the object `properties` would create
    configuration_fields(object_id)         optional; per-object target configuration
    ACCEPTS_NEW_FIELDS = True               optional; any field name may be mapped
    sentence(obj, mode, identity) -> str    optional; the sync in plain words
"""

from __future__ import annotations

import importlib

from .base import (
    ConfigField,
    ConnectionFailed,
    ConnectorError,
    CreationProperty,
    Mode,
    NeedsReconnect,
    ProviderSession,
    RateLimited,
    TargetField,
    TargetObject,
)
from .http import retry_after_seconds
from .responses import provider_words

PROVIDERS = ("salesloft", "gong", "linkedinads", "salesforce", "hubspot", "httpapi")

MODE_LABELS = {
    "create": "Create",
    "update": "Update",
    "updateOrCreate": "Update or create",
    "replace": "Replace",
    "append": "Append",
    "remove": "Remove",
    "snapshot": "Snapshot",
}

MODE_DESCRIPTIONS = {
    "create": "Create records that do not exist yet; never change existing ones.",
    "update": "Update records that already exist; never create new ones.",
    "updateOrCreate": "Update records that exist and create the rest.",
    "replace": "Make the target hold exactly the model's current rows.",
    "append": "Send every row as a new record, without matching.",
    "remove": "Remove the matching records from the target.",
    "snapshot": "Write a full copy of the model on every run.",
}

MODE_VERBS = {
    "create": "Create",
    "update": "Update",
    "updateOrCreate": "Upsert",
    "replace": "Replace",
    "append": "Append",
    "remove": "Remove",
    "snapshot": "Snapshot",
}


def mode(id, requires_identity=True, *, target_filters=False, per_field=False, description=""):
    """A Mode with the default one-line description for its id."""
    return Mode(
        id=id,
        requires_identity=requires_identity,
        supports_target_filters=target_filters,
        supports_per_field_mode=per_field,
        description=description or MODE_DESCRIPTIONS.get(id, ""),
    )


def provider(type_id: str):
    if type_id not in PROVIDERS:
        raise ConnectorError(f"Connections of type '{type_id}' cannot be sync targets.")
    return importlib.import_module(f"integrations.{type_id}.targets")


def supports(type_id: str) -> bool:
    return type_id in PROVIDERS


def label(type_id: str) -> str:
    return provider(type_id).LABEL


def target_objects(type_id: str, session: ProviderSession) -> list[TargetObject]:
    return provider(type_id).objects(session)


def target_creation(type_id: str) -> list[CreationProperty] | None:
    """The properties a new target object needs, or None if the provider cannot create one."""
    return getattr(provider(type_id), "CREATION", None)


def property_values(type_id: str, session: ProviderSession, property_id: str) -> list[tuple[str, str]]:
    module = provider(type_id)
    if getattr(module, "CREATION", None) is None:
        raise ConnectorError(f"{module.LABEL} connections cannot create target objects.")
    if property_id not in {p.id for p in module.CREATION}:
        raise KeyError(property_id)
    return module.property_values(session, property_id)


def target_fields(type_id: str, session: ProviderSession, object_id: str | None,
                  properties: dict | None = None) -> list[TargetField]:
    return provider(type_id).fields(session, object_id, properties)


def new_target(type_id: str, properties: dict) -> TargetObject:
    """The object a sync would create from these creation properties (modes included)."""
    return provider(type_id).new_target(properties)


def target_configuration_fields(type_id: str, object_id: str | None) -> list[ConfigField]:
    configuration_fields = getattr(provider(type_id), "configuration_fields", None)
    return configuration_fields(object_id) if configuration_fields else []


def accepts_new_fields(type_id: str) -> bool:
    return getattr(provider(type_id), "ACCEPTS_NEW_FIELDS", False)


def sentence(type_id: str, obj: TargetObject, mode_id: str, identity: str | None = None) -> str:
    """What a sync does, in plain words: "Upsert People in Salesloft matched on Email"."""
    module = provider(type_id)
    if hasattr(module, "sentence"):
        return module.sentence(obj, mode_id, identity)
    return plain_sentence(module.LABEL, obj.name, mode_id, identity)


def plain_sentence(provider_label, object_name, mode_id, identity=None) -> str:
    text = f"{MODE_VERBS.get(mode_id, mode_id)} {object_name} in {provider_label}"
    if identity:
        text += f" matched on {identity}"
    return text


# ---- HTTP helpers shared by the provider modules ---------------------------


def get_json(session: ProviderSession, path: str, **kwargs):
    return request_json(session, "GET", path, **kwargs)


def request_json(session: ProviderSession, method: str, path: str, **kwargs):
    """One API call; the provider's refusal becomes a ConnectorError with its own words.

    The session's transport waits out 429s (integrations/http.py); one that reaches here is RateLimited.
    """
    try:
        response = session.http.request(method, path, **kwargs)
    except ConnectorError:
        raise  # RateLimited, NeedsReconnect, ConnectionFailed already say what happened
    except Exception as error:  # httpx.HTTPError and friends
        raise ConnectionFailed(f"Could not reach the provider: {error}") from error
    if response.status_code == 429:
        raise RateLimited("The provider is rate limiting requests; try again shortly.",
                          retry_after_seconds(response, default=60.0))
    if response.status_code == 401:
        raise NeedsReconnect(f"The provider refused the credentials: {provider_words(response)}")
    if response.status_code >= 400:
        raise ConnectorError(
            f"The provider answered {response.status_code} to {method} {path}: {provider_words(response)}"
        )
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError as error:
        raise ConnectorError(f"The provider answered {method} {path} with something other than JSON.") from error
