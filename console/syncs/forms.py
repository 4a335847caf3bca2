"""The sync builder's state: what the form posted, and the API body it stands for.

The builder posts the whole form on every change; a Draft reads it back, and
`definition()` turns it into the same body POST /api/syncs takes, so the console
and the API share one validation (services.clean).
"""

from dataclasses import dataclass, field

NEW_TARGET = "__new__"
CRON_FIELDS = ("minute", "hour", "day_of_month", "month", "day_of_week")


@dataclass
class Row:
    source: str = ""
    target: str = ""
    sync_mode: str = ""


@dataclass
class Constant:
    target: str = ""
    value: str = ""


@dataclass
class Draft:
    name: str = ""
    active: bool = True
    model: str = ""
    connection: str = ""
    object: str = ""
    create: dict = field(default_factory=dict)
    mode: str = ""
    identity_source: str = ""
    identity_target: str = ""
    identity_function: str = "Equality"
    rows: list = field(default_factory=list)
    constants: list = field(default_factory=list)
    configuration: dict = field(default_factory=dict)
    schedule: dict = field(default_factory=lambda: {"frequency": "manual"})

    @property
    def creating(self) -> bool:
        return self.object == NEW_TARGET

    def definition(self) -> dict:
        """The POST /api/syncs body this draft stands for."""
        target = {"connection_id": self.connection}
        if self.creating:
            target["create"] = {k: v for k, v in self.create.items() if v}
        else:
            target["object"] = self.object
        if self.configuration:
            target["configuration"] = self.configuration
        body = {
            "name": self.name.strip(),
            "mode": self.mode,
            "active": self.active,
            "target": target,
            "fields": [
                {"source": {"model_id": self.model, "field": r.source}, "target": r.target,
                 **({"sync_mode": r.sync_mode} if r.sync_mode else {})}
                for r in self.rows if r.source and r.target
            ],
            "override_fields": [
                {"target": c.target, "override_value": c.value} for c in self.constants if c.target
            ],
            "schedule": self.schedule,
        }
        if self.identity_source and self.identity_target:
            body["identity"] = {
                "source": {"model_id": self.model, "field": self.identity_source},
                "target": self.identity_target,
                "function": self.identity_function or "Equality",
            }
        return body


def draft_from_post(data) -> Draft:
    """A Draft from the builder form (a QueryDict)."""
    draft = Draft(
        name=data.get("name", ""),
        active=data.get("active", "on") == "on",
        model=data.get("model", ""),
        connection=data.get("connection", ""),
        object=data.get("object", ""),
        mode=data.get("mode", ""),
        identity_source=data.get("identity_source", ""),
        identity_target=data.get("identity_target", ""),
        identity_function=data.get("identity_function", "Equality"),
    )
    draft.create = {key[len("create_"):]: value for key, value in data.items() if key.startswith("create_")}
    sources, targets, modes = data.getlist("map_source"), data.getlist("map_target"), data.getlist("map_sync_mode")
    draft.rows = [
        Row(source, target, modes[i] if i < len(modes) else "")
        for i, (source, target) in enumerate(zip(sources, targets))
    ]
    draft.constants = [
        Constant(target, value) for target, value in zip(data.getlist("const_target"), data.getlist("const_value"))
    ]
    for key, value in data.items():
        if key.startswith("config_") and value != "":
            draft.configuration[key[len("config_"):]] = {"true": True, "false": False}.get(value, value)
    draft.schedule = schedule_from_post(data)
    return draft


def schedule_from_post(data) -> dict:
    frequency = data.get("frequency") or "manual"
    schedule = {"frequency": frequency}
    wanted = {
        "hourly": ("minute",),
        "daily": ("hour", "minute"),
        "weekly": ("day_of_week", "hour", "minute"),
        "custom": CRON_FIELDS,
        "builder": CRON_FIELDS,
    }.get(frequency, ())
    for name in wanted:
        if data.get(name, "") != "":
            schedule[name] = data[name]
    if frequency == "runafter":
        schedule["run_after"] = {"sync_ids": data.getlist("run_after")}
        if data.get("run_after_success_only") == "on":
            schedule["run_after_success_only"] = True
    return schedule


def draft_from_sync(sync) -> Draft:
    identity = sync.identity or {}
    draft = Draft(
        name=sync.name,
        active=sync.active,
        model=str(sync.model_id),
        connection=str(sync.target_connection_id),
        object=sync.target_object or (NEW_TARGET if sync.target_create else ""),
        create=dict(sync.target_create or {}),
        mode=sync.mode,
        identity_source=(identity.get("source") or {}).get("field", ""),
        identity_target=identity.get("target", ""),
        identity_function=identity.get("function", "Equality"),
        rows=[
            Row((f.get("source") or {}).get("field", ""), f["target"], f.get("sync_mode", ""))
            for f in sync.fields or []
        ],
        constants=[Constant(c["target"], c.get("override_value", "")) for c in sync.override_fields or []],
        configuration=dict(sync.target_configuration or {}),
        schedule=dict(sync.schedule or {"frequency": "manual"}),
    )
    return draft
