"""Target discovery for model syncs, dispatched by connection type id to the
provider's `targets` (a `Targets`, integrations/provider.py; the registry finds providers)."""

from __future__ import annotations

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
from . import registry
from .http import retry_after_seconds
from .provider import Creation, Targets
from .responses import provider_words

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


def mode(id, requires_identity=True, *, target_filters=False, per_field=False, description=""):
    """A Mode with the default one-line description for its id."""
    return Mode(
        id=id,
        requires_identity=requires_identity,
        supports_target_filters=target_filters,
        supports_per_field_mode=per_field,
        description=description or MODE_DESCRIPTIONS.get(id, ""),
    )


def targets_of(type_id: str) -> Targets:
    provider = registry.get(type_id)
    if provider is None or provider.targets is None or provider.writer is None:
        raise ConnectorError(f"Connections of type '{type_id}' cannot be sync targets.")
    return provider.targets


def supports(type_id: str) -> bool:
    provider = registry.get(type_id)
    return provider is not None and provider.capabilities.model_sync_target


def label(type_id: str) -> str:
    return targets_of(type_id).label


def target_objects(type_id: str, session: ProviderSession) -> list[TargetObject]:
    return targets_of(type_id).objects(session)


def target_creation(type_id: str) -> list[CreationProperty] | None:
    """The properties a new target object needs, or None if the provider cannot create one."""
    creation = targets_of(type_id).creation
    return creation.properties if creation else None


def creation_of(type_id: str) -> Creation:
    targets = targets_of(type_id)
    if targets.creation is None:
        raise ConnectorError(f"{targets.label} connections cannot create target objects.")
    return targets.creation


def property_values(type_id: str, session: ProviderSession, property_id: str) -> list[tuple[str, str]]:
    creation = creation_of(type_id)
    if property_id not in {p.id for p in creation.properties}:
        raise KeyError(property_id)
    return creation.values(session, property_id)


def target_fields(type_id: str, session: ProviderSession, object_id: str | None,
                  properties: dict | None = None) -> list[TargetField]:
    return targets_of(type_id).fields(session, object_id, properties)


def new_target(type_id: str, properties: dict) -> TargetObject:
    """The object a sync would create from these creation properties (modes included)."""
    return creation_of(type_id).new_target(properties)


def target_configuration_fields(type_id: str, object_id: str | None) -> list[ConfigField]:
    return targets_of(type_id).configuration_fields(object_id)


def target_configuration_problems(type_id: str, connection: dict, configuration: dict) -> list[tuple[str, str]]:
    return targets_of(type_id).configuration_problems(connection, configuration)


def accepts_new_fields(type_id: str) -> bool:
    return targets_of(type_id).accepts_new_fields


def sentence(type_id: str, obj: TargetObject, mode_id: str, identity: str | None = None) -> str:
    """What a sync does, in plain words: "Upsert People in Salesloft matched on Email"."""
    return targets_of(type_id).describe(obj, mode_id, identity)


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
