"""The connection form, generated from the connection type's fields in the catalogue."""

from django import forms

from integrations.base import MASK
from integrations.connection_types import ConnectionType

from .models import Connection
from .services import visible_configuration

SECRET_KEPT = "Stored encrypted. Leave empty to keep it."
SECRET_ITEMS_KEPT = f"A value left as {MASK} (or empty) keeps the stored one."


class ConnectionForm(forms.Form):
    name = forms.CharField(max_length=200)

    def __init__(self, kind: ConnectionType, *args, connection: Connection | None = None, **kwargs):
        if connection is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": connection.name, **initial_values(kind, visible_configuration(connection))}
        super().__init__(*args, **kwargs)
        self.kind = kind
        stored = set(connection.secrets) if connection is not None else set()
        for field in form_fields(kind):
            self.fields[field.name] = form_field(kind, field, stored_secret=field.name in stored)

    def configuration(self) -> dict:
        """The cleaned values as a connection configuration (empty secrets left out: kept)."""
        config = {}
        for field in form_fields(self.kind):
            value = self.cleaned_data.get(field.name)
            if field.type == "array":
                value = parse_lines(value, pairs=field.name == "headers")
            if value in (None, "") and field.type != "boolean":
                continue
            config[field.name] = value
        return config

    def add_configuration_errors(self, errors):
        for path, message in errors:
            name = path.removeprefix("configuration.").split(".")[0]
            self.add_error(name if name in self.fields else None,
                           message if name in self.fields else f"{path}: {message}")


def form_fields(kind: ConnectionType):
    chosen_later = set(kind.parameter_fields)
    return [f for f in kind.fields if not f.readonly and f.name not in kind.hidden and f.name not in chosen_later]


def form_field(kind: ConnectionType, field, stored_secret: bool) -> forms.Field:
    common = {"label": field.title, "help_text": field.description, "required": field.required}
    if field.secret:
        common["required"] = field.required and not stored_secret
        if stored_secret:
            common["help_text"] = SECRET_KEPT
        widget = forms.Textarea(attrs={"rows": 4}) if "private_key" == field.name else forms.PasswordInput()
        return forms.CharField(widget=widget, strip=False, **common)
    if field.choices:
        labels = kind.labels.get(field.name, {})
        choices = [(value, labels.get(value, value)) for value in field.choices]
        if not field.required:
            choices = [("", "—")] + choices
        return forms.ChoiceField(choices=choices, initial=field.default, **common)
    if field.type == "boolean":
        return forms.BooleanField(initial=bool(field.default), **{**common, "required": False})
    if field.type == "integer":
        return forms.IntegerField(initial=field.default, **common)
    if field.type == "array":
        hint = "One per line, as Name: value." if field.name == "headers" else "One per line."
        kept = SECRET_ITEMS_KEPT if field.secret_keys else ""
        common["help_text"] = f"{field.description} {hint} {kept}".strip()
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    return forms.CharField(initial=field.default, **common)


def initial_values(kind: ConnectionType, configuration: dict) -> dict:
    initial = {}
    for field in form_fields(kind):
        value = configuration.get(field.name)
        if field.type == "array" and isinstance(value, list):
            value = "\n".join(f"{v.get('name')}: {v.get('value')}" if isinstance(v, dict) else str(v) for v in value)
        if value is not None:
            initial[field.name] = value
    return initial


def parse_lines(text, pairs=False):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not pairs:
        return lines
    parsed = []
    for line in lines:
        name, _, value = line.partition(":")
        parsed.append({"name": name.strip(), "value": value.strip()})
    return parsed
