"""A connection's schemas in the console: refresh, each schema's fields, user fields and primary keys."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from console.accounts.decorators import organization_required
from console.connections.models import Connection
from integrations.base import ConnectorError

from . import discovery, services


def own_connection(request, connection_id) -> Connection:
    return get_object_or_404(Connection, pk=connection_id, organization=request.organization)


def own_schema(request, connection_id, schema_id):
    try:
        return services.get_schema(own_connection(request, connection_id), schema_id)
    except services.NotFound:
        raise Http404("No such schema.") from None


def status_context(connection) -> dict:
    return {"connection": connection, "catalog": services.catalog(connection)}


@organization_required
def schema_list(request, connection_id):
    connection = own_connection(request, connection_id)
    return render(request, "schemas/list.html", {**status_context(connection), "supported": discovery.supported(connection),
                                                 "schemas": services.schemas_of(connection)})


@organization_required
def refresh_status(request, connection_id):
    return render(request, "schemas/_status.html", status_context(own_connection(request, connection_id)))


@require_POST
@organization_required
def refresh(request, connection_id):
    connection = own_connection(request, connection_id)
    try:
        services.start_refresh(connection)
    except services.Unsupported as error:
        messages.error(request, str(error))
    return redirect("schemas:list", connection.pk)


@organization_required
def schema_detail(request, connection_id, schema_id):
    schema = own_schema(request, connection_id, schema_id)
    return render(request, "schemas/detail.html", {"connection": schema.connection, "schema": schema,
                                                   "fields": services.fields_of(schema),
                                                   "types": services.USER_TYPES})


@organization_required
def schema_records(request, connection_id, schema_id):
    schema = own_schema(request, connection_id, schema_id)
    try:
        rows, error = services.sample(schema), ""
    except ConnectorError as failure:
        rows, error = [], str(failure)
    columns = list(rows[0]) if rows else []
    return render(request, "schemas/_records.html", {"columns": columns, "rows": [[row.get(c) for c in columns]
                                                                                 for row in rows], "error": error})


def changed(request, connection_id, schema_id, work, done: str):
    try:
        work(own_connection(request, connection_id))
    except services.NotFound:
        raise Http404("No such schema.") from None
    except services.Invalid as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("schemas:detail", connection_id, schema_id)


@require_POST
@organization_required
def primary_keys(request, connection_id, schema_id):
    if "reset" in request.POST:
        return changed(request, connection_id, schema_id,
                       lambda c: services.reset_primary_keys(c, schema_id), "Primary keys reset to the source's.")
    keys = [{"field_id": field_id, "is_primary_key": True} for field_id in request.POST.getlist("primary_key")]
    return changed(request, connection_id, schema_id, lambda c: services.set_primary_keys(c, schema_id, keys),
                   "Primary keys saved.")


@require_POST
@organization_required
def add_field(request, connection_id, schema_id):
    field = {name: request.POST.get(name, "").strip() for name in ("field_id", "label", "type", "path")}
    return changed(request, connection_id, schema_id, lambda c: services.upsert_fields(c, schema_id, [field]),
                   f"Field {field['field_id']!r} saved.")


@require_POST
@organization_required
def delete_field(request, connection_id, schema_id, field_id):
    return changed(request, connection_id, schema_id, lambda c: services.delete_field(c, schema_id, field_id),
                   f"Field {field_id!r} deleted.")
