"""Connection services. Other apps call these, never the model's secrets directly.

Configuration is checked against the type's fields from integrations.catalogue:
non-secret values go to `Connection.configuration`, secret ones (and OAuth tokens,
kept as oauth_* keys, and arrays whose items hold secret keys, such as headers) to
the encrypted `secrets`. Secrets never come back out except through
`connection_config`, which is for integrations only; `visible_configuration` shows
secret item keys as MASK.
"""

from contextlib import nullcontext
from functools import wraps

from django.conf import settings
from django.db import models

from console import egress
from integrations import catalogue
from integrations.base import MASK, ConnectorError, NeedsReconnect
from integrations.connection_types import ConnectionType
from integrations.files import FILES_OFF, FileRefused
from integrations.warehouses import get_source

from . import oauth, probes
from .files import file_root, files_enabled
from .models import Connection, ConnectionStatus
from .sessions import provider_session
from .stored import (  # noqa: F401 (store_tokens: part of the services' API)
    ConfigurationInvalid,
    connection_config,
    connection_type,
    holder,
    set_status,
    store_tokens,
    without_secrets,
)

TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}
# Kept by the console itself (tokens and what the token response said); never accepted as input.
TOKEN_KEYS = ("oauth_access_token", "oauth_token_expiry")


class SharedReadOnly(ConfigurationInvalid):
    """A shared copy is changed only through its parent, in the organization that owns it."""

    def __init__(self, connection: Connection):
        owner = connection.parent.organization.name
        why = f"is shared with this organization by {owner!r}; only {owner!r} can change its settings or credentials"
        super().__init__([("connection", why)])
        self.sentence = f"This connection {why}."


class ConnectionInUse(Exception):
    def __init__(self, users: list[dict]):
        names = ", ".join(f"{u['kind']} {u['name']!r}" for u in users)
        super().__init__(f"This connection is used by {names}. Remove or repoint them first.")
        self.users = users


def offered_types() -> list[ConnectionType]:
    """The types new connections may have: file-backed ones only when the operator allows files."""
    return catalogue.types(files=files_enabled())


def offered_type(type_id) -> ConnectionType:
    """The type for a new (or changed) connection, or ConfigurationInvalid naming `type`."""
    kind = connection_type(type_id)
    if kind.file_backed and not files_enabled():
        raise ConfigurationInvalid([("type", FILES_OFF)])
    return kind


def file_problems(kind: ConnectionType, config: dict) -> list[tuple[str, str]]:
    """[("path", why)] when a file-backed configuration names a file the console will not open."""
    root = file_root()
    if not kind.file_backed or root is None:
        return []
    try:
        root.resolve(config.get("path"))
    except FileRefused as error:
        return [("path", str(error))]
    return []


# ---- configuration ----------------------------------------------------------


def clean_configuration(kind: ConnectionType, submitted, stored: Connection | None = None,
                        keep_tokens: bool = True):
    """(plain, secrets) for a submitted configuration, or ConfigurationInvalid.

    Updates are full replacement, except that secret fields left out (or empty, or
    masked) keep their stored value, read-only fields keep theirs and OAuth tokens
    stay (unless keep_tokens is false: a reconnect). An array item whose secret key
    comes back masked or empty keeps the value stored for the same item.
    """
    if not isinstance(submitted, dict):
        raise ConfigurationInvalid([("configuration", "must be an object")])
    errors = []
    plain, secrets = {}, {}
    stored_config = connection_config(stored) if stored is not None else {}
    for name, value in submitted.items():
        field = kind.field(name)
        if name in TOKEN_KEYS or (field is not None and field.readonly):
            continue  # echoed back from a GET, or ours to set
        if field is None:
            errors.append((name, f"is not a {kind.name} setting"))
        elif value is None or (value == "" and field.type != "string"):
            continue
        elif not type_ok(value, field.type):
            errors.append((name, f"must be of type {field.type}"))
        elif field.choices and value not in field.choices:
            errors.append((name, choice_problem(field, value)))
        elif field.secret:
            if value not in ("", MASK):
                secrets[name] = value
        elif field.secret_keys:
            secrets[name], problems = secret_items(field, value, stored_config.get(name))
            errors += problems
        else:
            plain[name] = value
    if stored is not None:
        kept = {k: v for k, v in stored.secrets.items()
                if (k.startswith("oauth_") and keep_tokens) or (k in kind.secret_fields and not k.startswith("oauth_"))}
        secrets = {**kept, **secrets}
        plain.update({f.name: stored.configuration[f.name] for f in kind.fields
                      if f.readonly and f.name in stored.configuration})
    for field in kind.fields:
        if field.choices and field.default is not None and field.name not in plain:
            plain[field.name] = field.default
    merged = kind.normalize({**plain, **secrets})
    plain = {k: merged[k] for k in plain}
    if not errors:
        errors += [(f.name, "is required") for f in kind.fields
                   if f.required and merged.get(f.name) in (None, "", [])]
    if not errors:
        errors += kind.problems(merged)
    if not errors:
        errors += egress.configuration_problems(kind, merged)
    if not errors:
        errors += file_problems(kind, merged)
    if errors:
        raise ConfigurationInvalid([(f"configuration.{field}", message) for field, message in errors])
    return plain, secrets


def choice_problem(field, value) -> str:
    supported = ", ".join(map(str, field.choices))
    why = dict(field.refused).get(value)
    if why:
        return f"{value} is not supported: {why}. Use one of {supported}"
    return f"must be one of {supported}"


def type_ok(value, type_name: str) -> bool:
    if type_name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, TYPES.get(type_name, object))


def secret_items(field, items: list, stored_items) -> tuple[list, list]:
    """(items, problems): each masked or empty secret key takes the value stored for the
    item with the same other keys (a header of the same name)."""
    stored = {item_identity(field, item): item for item in stored_items or [] if isinstance(item, dict)}
    kept, problems = [], []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append((f"{field.name}.{index}", "must be an object"))
            continue
        item, before = dict(item), stored.get(item_identity(field, item), {})
        for key in field.secret_keys:
            if item.get(key) in (None, "", MASK) and before.get(key) not in (None, ""):
                item[key] = before[key]
            elif item.get(key) == MASK:
                problems.append((f"{field.name}.{index}.{key}", "is masked but nothing is stored for it; "
                                                                "give the value"))
        kept.append(item)
    return kept, problems


def item_identity(field, item: dict) -> str:
    return repr(sorted((key, repr(value)) for key, value in item.items() if key not in field.secret_keys))


def visible_configuration(connection: Connection) -> dict:
    """The configuration as the API and the console show it: non-secret fields, and arrays
    whose items hold secrets with those keys masked. Secret fields stay out."""
    shown = dict(holder(connection).configuration)
    kind = catalogue.get(connection.type)
    masked_fields = [f for f in kind.fields if f.secret_keys] if kind else []
    config = connection_config(connection) if masked_fields else {}
    for field in masked_fields:
        if isinstance(config.get(field.name), list):
            shown[field.name] = [masked(field, item) for item in config[field.name]]
    return shown


def masked(field, item):
    if not isinstance(item, dict):
        return MASK
    return {**item, **{key: MASK for key in field.secret_keys if item.get(key) not in (None, "")}}


# ---- create, update, delete -----------------------------------------------------


def create_connection(organization, *, name: str, type_id: str, configuration, user=None,
                      validate: bool = True) -> Connection:
    kind = offered_type(type_id)
    name = clean_name(name)
    plain, secrets = clean_configuration(kind, configuration)
    with check_slot(validate) as deadline:
        connection = Connection(organization=organization, name=name, type=kind.id, configuration=plain,
                                created_by=user)
        connection.secrets = secrets
        connection.status = ConnectionStatus.HEALTHY
        connection.save()
        return settle(connection, kind, deadline)


def update_connection(connection: Connection, *, name: str, configuration, type_id: str | None = None,
                      validate: bool = True, reconnect: bool = False) -> Connection:
    if connection.parent_id:
        raise SharedReadOnly(connection)
    kind = offered_type(connection.type)
    if type_id and type_id != connection.type:
        raise ConfigurationInvalid([("type", f"cannot change from {connection.type} to {type_id}; "
                                             "create a new connection instead")])
    connection.name = clean_name(name)
    plain, secrets = clean_configuration(kind, configuration, stored=connection, keep_tokens=not reconnect)
    with check_slot(validate) as deadline:
        connection.configuration = plain
        connection.secrets = secrets
        connection.save()
        return settle(connection, kind, deadline)


def check_slot(validate: bool):
    """A probe slot for a save that is checked, taken before saving: when every slot is busy
    the save is refused whole (ProbesBusy) rather than kept unchecked."""
    return probes.slot() if validate else nullcontext()


def settle(connection: Connection, kind: ConnectionType, deadline: float | None) -> Connection:
    """After a save: waiting for OAuth consent, or checked by `deadline` when one is given."""
    if kind.needs_browser(connection_config(connection)):
        return set_status(connection, ConnectionStatus.PENDING_AUTH,
                          f"Authorize the console at {kind.name} to finish this connection.")
    if deadline is not None:
        return checked(connection, deadline)
    if connection.status == ConnectionStatus.PENDING_AUTH:
        return set_status(connection, ConnectionStatus.HEALTHY, "")
    return connection


def clean_name(name) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise ConfigurationInvalid([("name", "is required")])
    if len(name) > 200:
        raise ConfigurationInvalid([("name", "must be at most 200 characters")])
    return name


def connection_users(connection: Connection) -> list[dict]:
    """The models, syncs, ... that keep this connection from being deleted."""
    users = []
    for relation in Connection._meta.related_objects:
        if relation.on_delete is not models.PROTECT:
            continue
        related = relation.related_model.objects.filter(**{relation.field.name: connection})
        for item in related:
            users.append({"kind": str(relation.related_model._meta.verbose_name), "id": str(item.pk),
                          "name": getattr(item, "name", str(item))})
    return users


def delete_connection(connection: Connection):
    users = connection_users(connection)
    if users:
        raise ConnectionInUse(users)
    connection.delete()


# ---- health -----------------------------------------------------------------


def secrets_kept_out(function):
    """A ConnectorError raised by function(connection, ...) loses the connection's secrets from its message."""

    @wraps(function)
    def call(connection: Connection, *args, **kwargs):
        try:
            return function(connection, *args, **kwargs)
        except ConnectorError as error:
            error.args = (without_secrets(str(error), connection),)
            raise

    return call


@secrets_kept_out
def probe(connection: Connection, deadline: float) -> dict:
    """Talk to the warehouse or provider once, ending by `deadline` (time.monotonic());
    returns what it said about itself (read-only facts such as connected_user). Raises ConnectorError."""
    kind = connection_type(connection.type)
    if kind.needs_browser(connection_config(connection)):
        raise ConnectorError(f"Not authorized yet: connect to {kind.name} first.")
    if kind.kind == "warehouse":
        with get_source(connection.type, connection_config(connection), endpoint=warehouse_endpoint(kind),
                        files=file_root(), deadline=deadline) as source:
            source.check()
        return {}
    session = provider_session(connection, deadline=deadline)
    try:
        return kind.provider.check(session) or {}
    finally:
        session.http.close()


def check_connection(connection: Connection) -> Connection:
    """Test the connection and record the outcome on it (ProbesBusy when every probe slot is taken)."""
    with probes.slot() as deadline:
        return checked(connection, deadline)


def checked(connection: Connection, deadline: float) -> Connection:
    try:
        facts = probe(connection, deadline)
    except NeedsReconnect as error:
        return set_status(connection, ConnectionStatus.NEEDS_RECONNECT, str(error))
    except ConnectorError as error:
        return set_status(connection, ConnectionStatus.UNHEALTHY, str(error))
    readonly = {f.name for f in connection_type(connection.type).fields if f.readonly}
    facts = {k: v for k, v in facts.items() if k in readonly and v}
    if facts:
        connection.configuration = {**connection.configuration, **facts}
        Connection.objects.filter(pk=connection.pk).update(configuration=connection.configuration)
    return set_status(connection, ConnectionStatus.HEALTHY, "")


def test_configuration(organization, type_id, configuration, connection_id=None):
    """Check a configuration without saving it (on top of a stored connection's secrets
    when connection_id is given). Raises ConfigurationInvalid or ConnectorError."""
    kind = offered_type(type_id)
    stored = None
    if connection_id:
        stored = Connection.objects.get(pk=connection_id, organization=organization)
        if stored.parent_id:  # its secrets would go wherever the submitted settings point
            raise SharedReadOnly(stored)
    plain, secrets = clean_configuration(kind, configuration, stored=stored)
    unsaved = Connection(organization=organization, name="test", type=kind.id, configuration=plain)
    unsaved.secrets = secrets
    with probes.slot() as deadline:
        probe(unsaved, deadline)


@secrets_kept_out
def parameter_values(connection: Connection) -> dict:
    """{field: [(value, label), ...]} for fields whose choices come from the provider."""
    kind = connection_type(connection.type)
    if not kind.parameter_fields:
        return {}
    if kind.needs_browser(connection_config(connection)):
        raise ConnectorError(f"Not authorized yet: connect to {kind.name} first.")
    with probes.slot() as deadline:
        session = provider_session(connection, deadline=deadline)
        try:
            return kind.provider.parameter_values(session)
        finally:
            session.http.close()


def warehouse_endpoint(kind: ConnectionType) -> str | None:
    return (settings.SNOWFLAKE_ENDPOINT or None) if kind.id == "snowflake" else None


def organization_connections(organization):
    return Connection.objects.filter(organization=organization).order_by("name", "id")


def finish_authorization(params: dict, user) -> oauth.Outcome:
    """The provider's redirect back: the code exchanged and the tokens stored, then the connection checked."""
    outcome = oauth.finish_authorization(params, user)
    if not outcome.ok:
        return outcome
    connection = check_connection(outcome.connection)
    if connection.status == ConnectionStatus.HEALTHY:
        return outcome
    return oauth.Outcome(connection, False, f"Authorized, but the check failed: {connection.status_message}",
                         outcome.redirect_url)
