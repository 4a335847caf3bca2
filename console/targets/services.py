"""Target discovery for a connection, cached per connection until refreshed.

Objects and each object's fields are kept in DiscoveryCache; `refresh=True`
asks the provider again. Errors from the provider arrive as ConnectorError.
"""

from dataclasses import asdict

from django.utils import timezone

from console.connections import probes
from console.connections.stored import holder
from integrations import targets as discovery
from integrations.base import ConnectorError, CreationProperty, Mode, TargetField, TargetObject

from .models import DiscoveryCache

OBJECTS = "objects"


class UnknownTarget(ConnectorError):
    """The connection has no such target object (or creation property)."""


def open_session(connection):
    """The provider's session for discovery while a web request waits (inside a probe slot)."""
    from console.connections.sessions import provider_session

    return provider_session(connection, deadline=probes.deadline())


def supports(connection) -> bool:
    return discovery.supports(connection.type)


def cached(connection, key, load, refresh=False):
    """(data, refreshed_at) from the cache, or from load() when missing or refreshing."""
    if not refresh:
        entry = DiscoveryCache.objects.filter(connection=connection, key=key).first()
        if entry:
            return entry.data, entry.refreshed_at
    data = load()
    now = timezone.now()
    DiscoveryCache.objects.update_or_create(
        connection=connection, key=key, defaults={"data": data, "refreshed_at": now}
    )
    return data, now


def objects(connection, refresh=False) -> list[TargetObject]:
    def load():
        with probes.slot():
            return [asdict(o) for o in discovery.target_objects(connection.type, open_session(connection))]

    data, _ = cached(connection, OBJECTS, load, refresh)
    return [object_from_dict(o) for o in data]


def find_object(connection, object_id: str) -> TargetObject:
    """The object by id; asks the provider again once when the cache does not know it."""
    for refresh in (False, True):
        for obj in objects(connection, refresh=refresh):
            if obj.id == object_id:
                return obj
    raise UnknownTarget(f"'{object_id}' is not a target object of this connection.")


def fields(connection, object_id: str, refresh=False) -> tuple[list[TargetField], object]:
    """The object's fields and when they were last read from the provider."""

    def load():
        try:
            with probes.slot():
                found = discovery.target_fields(connection.type, open_session(connection), object_id)
        except KeyError:
            raise UnknownTarget(f"'{object_id}' is not a target object of this connection.") from None
        return [asdict(f) for f in found]

    data, refreshed_at = cached(connection, f"fields:{object_id}", load, refresh)
    return [TargetField(**f) for f in data], refreshed_at


def new_target(connection, properties: dict) -> tuple[TargetObject, list[TargetField]]:
    """What a target created from these properties would look like (never cached)."""
    if discovery.target_creation(connection.type) is None:
        raise UnknownTarget(f"{discovery.label(connection.type)} connections cannot create target objects.")
    try:
        obj = discovery.new_target(connection.type, properties)
        with probes.slot():
            found = discovery.target_fields(connection.type, open_session(connection), None, properties)
    except KeyError as error:
        raise UnknownTarget(f"These properties do not describe a target this connection can create ({error}).") from None
    return obj, found


def new_target_object(connection, properties: dict) -> TargetObject:
    """The object these creation properties would make, without asking the provider."""
    try:
        return discovery.new_target(connection.type, properties)
    except (KeyError, AttributeError):
        raise UnknownTarget("These properties do not describe a target this connection can create.") from None


def creation(connection, include_values=False) -> dict:
    """{supported, properties[{id, title, enum, values?}]} as the API's target_creation."""
    properties = discovery.target_creation(connection.type)
    if properties is None:
        return {"supported": False, "properties": []}
    if not include_values:
        return {"supported": True, "properties": [property_dict(p) for p in properties]}
    with probes.slot():
        session = open_session(connection)
        return {"supported": True, "properties": [
            property_dict(p, discovery.property_values(connection.type, session, p.id) if p.enum else None)
            for p in properties
        ]}


def creation_property(connection, property_id) -> dict:
    """One creation property with its values; UnknownTarget if there is no such property."""
    properties = discovery.target_creation(connection.type)
    if properties is None:
        raise UnknownTarget(f"{discovery.label(connection.type)} connections cannot create target objects.")
    for prop in properties:
        if prop.id == property_id:
            if not prop.enum:
                return property_dict(prop, [])
            with probes.slot():
                return property_dict(prop, discovery.property_values(connection.type, open_session(connection),
                                                                     property_id))
    raise UnknownTarget(f"'{property_id}' is not a target creation property of this connection.")


def property_dict(prop: CreationProperty, values=None) -> dict:
    data = {"id": prop.id, "title": prop.title, "enum": prop.enum}
    if values is not None:
        data["values"] = [{"value": value, "label": label} for value, label in values]
    return data


def configuration_fields(connection, object_id):
    return discovery.target_configuration_fields(connection.type, object_id)


def configuration_problems(connection, configuration: dict) -> list[tuple[str, str]]:
    return discovery.target_configuration_problems(connection.type, holder(connection).configuration, configuration)


def accepts_new_fields(connection) -> bool:
    return discovery.accepts_new_fields(connection.type)


def sentence(connection, obj: TargetObject, mode_id: str, identity: str | None) -> str:
    return discovery.sentence(connection.type, obj, mode_id, identity)


def provider_label(connection) -> str:
    return discovery.label(connection.type)


def object_from_dict(data: dict) -> TargetObject:
    return TargetObject(data["id"], data["name"], tuple(Mode(**m) for m in data.get("modes") or ()))


def identity_functions(field: TargetField) -> list[dict]:
    if not field.identity:
        return []
    functions = [{"id": "Equality", "label": "Exact match"}]
    if field.type == "string":
        functions.append({"id": "ISubstring", "label": "Case-insensitive match"})
    return functions


def field_dict(field: TargetField) -> dict:
    """A TargetField in the API's shape."""
    return {
        "id": field.id,
        "name": field.name,
        "type": field.type,
        "required": field.required,
        "createable": field.createable,
        "updateable": field.updateable,
        "supports_identity": field.identity,
        "identity_functions": identity_functions(field),
        "description": field.description,
        "association": False,
        "filterable": True,
        "encryptable": False,
        "values": [{"value": value, "label": label} for value, label in field.values] or None,
    }


def supported_mode_dict(mode: Mode) -> dict:
    """A mode as targetobjects lists it."""
    return {
        "id": mode.id,
        "requires_identity": mode.requires_identity,
        "supports_target_filters": mode.supports_target_filters,
        "supports_per_field_mode": mode.supports_per_field_mode,
        "description": mode.description,
    }


def mode_dict(mode: Mode) -> dict:
    """A mode as target/fields describes it."""
    return {
        "mode": mode.id,
        "label": discovery.MODE_LABELS.get(mode.id, mode.id),
        "description": mode.description,
        "requires_identity": mode.requires_identity,
        "supports_field_sync_mode": mode.supports_per_field_mode,
        "supports_target_filters": mode.supports_target_filters,
    }


def object_dict(obj: TargetObject) -> dict:
    return {"id": obj.id, "name": obj.name, "modes": [supported_mode_dict(m) for m in obj.modes]}


def target_description(connection, obj: TargetObject, found: list[TargetField], refreshed_at, new=False) -> dict:
    """The API's TargetResponse: {id, name, fields, modes, properties, refreshed_at}."""
    creation_props = discovery.target_creation(connection.type) or []
    config = configuration_fields(connection, None if new else obj.id)
    return {
        "id": obj.id,
        "name": obj.name,
        "fields": [field_dict(f) for f in found],
        "modes": [mode_dict(m) for m in obj.modes],
        "properties": {
            "target_creator": new,
            "new_target_label": next((p.title for p in creation_props if p.id == "name"), None),
            "supports_target_filters": any(m.supports_target_filters for m in obj.modes),
            "supports_field_creation": accepts_new_fields(connection),
            "supports_identity_field_creation": False,
            "supports_multiple_identities": False,
            "supports_field_encryption": False,
            "supports_field_type_selection": False,
            "supports_filter_value_fields": False,
            "mappings_not_required": True,
            "optional_target_mappings": False,
            "requires_configuration": any(c.required and c.default is None for c in config),
            "does_not_report_operation_counts": False,
            "use_field_names_as_labels": False,
        },
        "refreshed_at": refreshed_at,
    }
