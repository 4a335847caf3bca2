"""The model form: a warehouse connection and either a SQL query or a table."""

from django import forms

from console.api.errors import ApiError
from console.connections.services import connection_type, organization_connections

from .models import DataModel

SOURCES = [("query", "SQL query"), ("table", "Table")]
# where an error the service names by its API path shows in the form
FORM_FIELD = {"connection_id": "connection", "configuration.query": "query", "configuration.table": "table",
              "configuration": "query", "name": "name", "identifier": "identifier"}


class ModelForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    connection = forms.ChoiceField(label="Warehouse connection")
    source = forms.ChoiceField(choices=SOURCES, initial="query", widget=forms.RadioSelect, label="Source")
    query = forms.CharField(
        required=False, label="SQL", strip=False,
        help_text="Ctrl-Enter previews the first rows.",
        widget=forms.Textarea(attrs={"rows": 10, "class": "sql", "spellcheck": "false",
                                     "data-preview-shortcut": ""}))
    table = forms.CharField(required=False, label="Table", help_text="schema.table, as the warehouse lists it",
                            widget=forms.TextInput(attrs={"list": "table-choices", "autocomplete": "off"}))
    identifier = forms.CharField(required=False, max_length=200, label="Unique identifier",
                                 help_text="A field whose value is unique per row, such as email (optional).")

    def __init__(self, organization, *args, model: DataModel | None = None, **kwargs):
        if model is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_values(model)
        super().__init__(*args, **kwargs)
        connections = [c for c in organization_connections(organization)
                       if connection_type(c.type).kind == "warehouse"]
        self.fields["connection"].choices = [("", "Choose a warehouse…")] + [
            (str(c.pk), f"{c.name} ({c.type})") for c in connections]
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"f-{name}")

    def definition(self) -> dict:
        """The cleaned values in the API's shape, for the model services."""
        data = self.cleaned_data
        source = data.get("source") or "query"
        return {
            "name": data.get("name", ""),
            "connection_id": data.get("connection", ""),
            "configuration": {source: data.get(source, "")},
            "identifier": data.get("identifier", ""),
        }

    def add_service_error(self, error: ApiError):
        """Show the service's error on the field it names, or above the form."""
        named = (error.metadata or {}).get("errors") or []
        for item in named:
            field = FORM_FIELD.get(item.get("field", "").split("[")[0])
            if field in self.fields:
                self.add_error(field, item.get("message", error.message))
                return
        self.add_error(None, error.message)


def initial_values(model: DataModel) -> dict:
    source = "table" if model.configuration.get("table") else "query"
    return {"name": model.name, "connection": str(model.connection_id), "source": source,
            "query": model.configuration.get("query", ""), "table": model.configuration.get("table", ""),
            "identifier": model.identifier}
