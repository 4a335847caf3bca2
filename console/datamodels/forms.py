"""The model form: a warehouse or SaaS connection and either a query (SQL, or Salesforce's SOQL)
or a table (a warehouse table, a Salesforce or HubSpot object)."""

from django import forms

from console.api.errors import ApiError
from console.connections.services import connection_type, organization_connections

from .models import DataModel
from .services import model_source

SOURCES = [("query", "Query (SQL or SOQL)"), ("table", "Table or object")]
# where an error the service names by its API path shows in the form
FORM_FIELD = {"connection_id": "connection", "configuration.query": "query", "configuration.table": "table",
              "configuration": "query", "name": "name", "identifier": "identifier",
              "configuration.object": "table", "configuration.include_deleted": "include_deleted"}


class ModelForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    connection = forms.ChoiceField(label="Source connection")
    source = forms.ChoiceField(choices=SOURCES, initial="query", widget=forms.RadioSelect, label="Source")
    query = forms.CharField(
        required=False, label="SQL", strip=False,
        help_text="Ctrl-Enter previews the first rows.",
        widget=forms.Textarea(attrs={"rows": 10, "class": "sql", "spellcheck": "false",
                                     "data-preview-shortcut": ""}))
    table = forms.CharField(required=False, label="Table or object",
                            help_text="schema.table as the warehouse lists it, or an object (Contact, contacts)",
                            widget=forms.TextInput(attrs={"list": "table-choices", "autocomplete": "off"}))
    include_deleted = forms.BooleanField(required=False, label="Include deleted records (Salesforce)")
    identifier = forms.CharField(required=False, max_length=200, label="Unique identifier",
                                 help_text="A field whose value is unique per row, such as email (optional).")

    def __init__(self, organization, *args, model: DataModel | None = None, **kwargs):
        if model is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_values(model)
        super().__init__(*args, **kwargs)
        connections = [c for c in organization_connections(organization)
                       if connection_type(c.type).capabilities.model_source]
        self.connections = connections
        self.fields["connection"].choices = [("", "Choose a connection…")] + [
            (str(c.pk), f"{c.name} ({c.type})") for c in connections]
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"f-{name}")

    def definition(self) -> dict:
        """The cleaned values in the API's shape, for the model services."""
        data = self.cleaned_data
        source = data.get("source") or "query"
        configuration = {self.configuration_key(source): data.get(source, "")}
        if data.get("include_deleted"):
            configuration["include_deleted"] = True
        return {
            "name": data.get("name", ""),
            "connection_id": data.get("connection", ""),
            "configuration": configuration,
            "identifier": data.get("identifier", ""),
        }

    def configuration_key(self, source: str) -> str:
        """The key the connection's models take for the form's choice (HubSpot calls a table `object`)."""
        connection = next((c for c in self.connections if str(c.pk) == self.cleaned_data.get("connection")), None)
        keys = model_source(connection).requires_one_of if connection and model_source(connection) else ()
        return keys[0] if source == "table" and keys and "table" not in keys else source

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
    configuration = model.configuration
    table = configuration.get("table") or configuration.get("object") or ""
    return {"name": model.name, "connection": str(model.connection_id),
            "source": "query" if configuration.get("query") else "table", "query": configuration.get("query", ""),
            "table": table, "include_deleted": bool(configuration.get("include_deleted")),
            "identifier": model.identifier}
