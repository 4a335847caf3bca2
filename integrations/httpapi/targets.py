"""HTTP API target: the one endpoint the connection is configured with.

Object id: "endpoint". A sync may set its own request options (options.SYNC_FIELDS),
which override the connection's. Records go out as JSON objects whose keys are the mapped
target field ids, so any field name may be mapped (accepts_new_fields); fields the
connection lists in its configuration (`fields`) are offered in the builder.
"""

from integrations.base import STRING, TargetField, TargetObject
from integrations.provider import Targets
from integrations.targets import mode

from . import options

LABEL = "HTTP API"
OBJECT_ID = "endpoint"


def endpoint_modes():
    return (
        mode("append", requires_identity=False, description="Send every row to the endpoint on every run."),
        mode("updateOrCreate", description="Send the rows that are new or changed since the last run."),
        mode("create", description="Send each row once, the first time it appears."),
    )


def objects(session):
    method = (session.config.get("method") or "POST").upper()
    url = session.config.get("url") or "the configured endpoint"
    return [TargetObject(OBJECT_ID, f"{method} {url}", endpoint_modes())]


def fields(session, object_id, properties=None):
    if object_id != OBJECT_ID:
        raise KeyError(object_id)
    declared = session.config.get("fields") or []
    if isinstance(declared, str):
        declared = [name.strip() for name in declared.split(",")]
    return [TargetField(name, name, STRING, identity=True) for name in declared if name]


def sentence(obj, mode_id, identity):
    if mode_id == "append":
        return f"Send every row to {obj.name}"
    matched = f" (keyed on {identity})" if identity else ""
    if mode_id == "create":
        return f"Send each new row once to {obj.name}{matched}"
    return f"Send new and changed rows to {obj.name}{matched}"


def configuration_fields(object_id):
    return list(options.SYNC_FIELDS)


def configuration_problems(connection: dict, configuration: dict) -> list[tuple[str, str]]:
    """A sync's request options checked with the connection's they combine with."""
    chosen = {**connection, **{k: v for k, v in configuration.items() if v not in (None, "", [])}}
    found = [(name, why) for name, why in options.problems(chosen) if name in configuration or name == "batch_key"]
    if configuration.get("url") and connection.get("url") and not found:
        moved = options.origin_problem(configuration["url"], connection["url"])
        found += [("url", moved)] if moved else []
    return found


TARGETS = Targets(label=LABEL, objects=objects, fields=fields, sentence=sentence, accepts_new_fields=True,
                  configuration_fields=configuration_fields, configuration_problems=configuration_problems)
