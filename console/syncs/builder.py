"""What each step of the sync builder offers, read from the draft so far.

Steps unlock in order: model -> target connection -> target object (or a new one)
-> mode -> identity, field mappings, configuration, schedule -> review. Every
choice comes from discovery (console.targets) or the model's fields.
"""

import re
from dataclasses import dataclass, field

from console.connections.models import Connection
from console.datamodels.models import DataModel
from console.targets import services as targets
from integrations import targets as discovery
from integrations.base import ConnectorError, TargetObject

from . import services
from .forms import Constant, Draft, Row
from .models import Sync

# Which model field types fit which target field types without a warning.
COMPATIBLE = {
    "string": None,  # anything can be written as text
    "integer": {"integer"},
    "number": {"integer", "number"},
    "boolean": {"boolean"},
    "date": {"date", "datetime", "string"},
    "datetime": {"date", "datetime", "string"},
    "array": {"array", "string"},
    "object": {"object", "string"},
}
DAYS = list(enumerate(services.DAYS))


@dataclass
class Builder:
    draft: Draft
    models: list = field(default_factory=list)
    model: DataModel | None = None
    model_fields: list = field(default_factory=list)
    connections: list = field(default_factory=list)
    connection: Connection | None = None
    objects: list = field(default_factory=list)
    creation: list = field(default_factory=list)  # creation properties with values
    obj: TargetObject | None = None
    modes: list = field(default_factory=list)
    mode: object = None
    target_fields: list = field(default_factory=list)
    identity_fields: list = field(default_factory=list)
    writable_fields: list = field(default_factory=list)
    free_fields: bool = False
    configuration: list = field(default_factory=list)
    rows: list = field(default_factory=list)  # (Row, warning, the target field's accepted values)
    required_missing: list = field(default_factory=list)
    constant_warnings: list = field(default_factory=list)  # a constant a picklist target does not accept
    other_syncs: list = field(default_factory=list)
    days: list = field(default_factory=lambda: DAYS)
    summary: str = ""
    problem: str = ""  # a discovery failure, in the provider's words

    @property
    def ready(self) -> bool:
        return self.mode is not None


def build(organization, draft: Draft, sync: Sync | None = None) -> Builder:
    b = Builder(draft=draft)
    b.models = list(DataModel.objects.filter(organization=organization).order_by("name"))
    b.model = next((m for m in b.models if str(m.pk) == draft.model), None)
    if b.model is None:
        return b
    b.model_fields = list(b.model.fields.filter(vanished=False))
    b.connections = [c for c in Connection.objects.filter(organization=organization).order_by("name")
                     if targets.supports(c)]
    b.connection = next((c for c in b.connections if str(c.pk) == draft.connection), None)
    if b.connection is None:
        return b
    try:
        choose_object(b)
        if b.obj is not None:
            choose_mode(b, sync)
    except ConnectorError as error:
        b.problem = str(error)
    return b


def choose_object(b: Builder):
    draft = b.draft
    b.objects = targets.objects(b.connection)
    if targets.creation(b.connection)["supported"]:
        b.creation = targets.creation(b.connection, include_values=draft.creating)["properties"]
        for prop in b.creation:
            prop["current"] = draft.create.get(prop["id"], "")
    if draft.creating:
        if b.creation and all(draft.create.get(p["id"]) for p in b.creation):
            b.obj, found = targets.new_target(b.connection, draft.create)
            b.target_fields = found
    else:
        b.obj = next((o for o in b.objects if o.id == draft.object), None)
        if b.obj is not None:
            b.target_fields, _ = targets.fields(b.connection, b.obj.id)


def shown_option(value):
    """An option's value as its input shows it: a list of names as "a, b"."""
    return ", ".join(map(str, value)) if isinstance(value, list) else value


def choose_mode(b: Builder, sync):
    draft = b.draft
    b.modes = [(m, discovery.MODE_LABELS.get(m.id, m.id)) for m in b.obj.modes]
    b.mode = next((m for m in b.obj.modes if m.id == draft.mode), None)
    b.identity_fields = [f for f in b.target_fields if f.identity]
    b.writable_fields = [f for f in b.target_fields if f.createable or f.updateable]
    b.free_fields = targets.accepts_new_fields(b.connection)
    b.configuration = [
        (option, shown_option(draft.configuration.get(option.name, option.default)))
        for option in targets.configuration_fields(b.connection, None if draft.creating else b.obj.id)
    ]
    if b.mode is None:
        return
    by_name = {f.name: f for f in b.model_fields}
    by_id = {f.id: f for f in b.target_fields}
    b.rows = [(row, mismatch(by_name.get(row.source), by_id.get(row.target)),
               [value for value, _ in getattr(by_id.get(row.target), "values", ())]) for row in draft.rows]
    b.constant_warnings = [unaccepted(c.value, by_id[c.target]) for c in draft.constants
                           if c.target in by_id and by_id[c.target].values
                           and c.value not in [value for value, _ in by_id[c.target].values]]
    mapped = {r.target for r in draft.rows} | {c.target for c in draft.constants} | {draft.identity_target}
    if b.mode.id in services.WRITING_MODES:
        b.required_missing = [f for f in b.target_fields if f.required and f.id not in mapped]
    b.other_syncs = list(Sync.objects.filter(organization_id=b.connection.organization_id)
                         .exclude(pk=getattr(sync, "pk", None)).order_by("name"))
    b.summary = summary(b)


def unaccepted(value, target) -> str:
    accepted = ", ".join(allowed for allowed, _ in target.values)
    return f"{value!r} is not one of the values {target.name} accepts: {accepted}."


# Which builder step shows an error about a field of the API body.
ERROR_STEPS = (("target.configuration", "configuration"), ("target", "object"), ("mode", "mode"),
               ("identit", "identity"), ("fields", "fields"), ("override_fields", "fields"),
               ("schedule", "schedule"), ("name", "review"))


def error_step(error) -> str:
    errors = (error.metadata or {}).get("errors") or [{}]
    field = errors[0].get("field", "")
    return next((step for prefix, step in ERROR_STEPS if field.startswith(prefix)), "review")


def mismatch(source, target) -> str:
    """A warning when the model field's type will not sit well in the target field."""
    if source is None or target is None:
        return ""
    allowed = COMPATIBLE.get(target.type)
    if allowed is None or source.type in allowed:
        return ""
    return f"{source.name} is {article(source.type)}, {target.name} expects {article(target.type)}."


def article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def summary(b: Builder) -> str:
    draft = b.draft
    identity = draft.identity_target if draft.identity_source and draft.identity_target else None
    what = targets.sentence(b.connection, b.obj, b.mode.id, identity)
    if draft.creating:
        what = f"Create {b.obj.name} in {targets.provider_label(b.connection)}, then: {what[0].lower()}{what[1:]}"
    names = {str(s.pk): s.name for s in b.other_syncs}
    return f"{what}; {services.schedule_words(draft.schedule, names)}."


def apply_action(draft: Draft, action: str, builder: Builder | None = None):
    """Add or remove a mapping row or a constant; suggest mappings by name."""
    if action == "add_row":
        draft.rows.append(Row())
    elif action.startswith("remove_row:"):
        index = int(action.split(":", 1)[1])
        if 0 <= index < len(draft.rows):
            draft.rows.pop(index)
    elif action == "add_constant":
        draft.constants.append(Constant())
    elif action.startswith("remove_constant:"):
        index = int(action.split(":", 1)[1])
        if 0 <= index < len(draft.constants):
            draft.constants.pop(index)
    elif action == "suggest" and builder is not None:
        suggest(draft, builder)


def squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def suggest(draft: Draft, b: Builder):
    """Map every model field whose name matches a writable target field (first_name -> FirstName)."""
    taken = {r.target for r in draft.rows if r.target} | {draft.identity_target}
    used = {r.source for r in draft.rows if r.source} | {draft.identity_source}
    targets_by_name = {}
    for target in b.writable_fields:
        targets_by_name.setdefault(squash(target.id), target)
        targets_by_name.setdefault(squash(target.name), target)
    draft.rows = [r for r in draft.rows if r.source or r.target]
    for source in b.model_fields:
        target = targets_by_name.get(squash(source.name))
        if target and target.id not in taken and source.name not in used:
            draft.rows.append(Row(source.name, target.id))
            taken.add(target.id)
    if not draft.identity_source and b.identity_fields:
        for source in b.model_fields:
            target = targets_by_name.get(squash(source.name))
            if target and target.identity:
                draft.identity_source, draft.identity_target = source.name, target.id
                draft.rows = [r for r in draft.rows if r.target != target.id]
                break
