from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from console.access.rules import visible
from console.accounts.decorators import organization_required
from integrations import catalogue
from integrations.base import ConnectorError
from integrations.files import FILES_OFF

from . import oauth, services, sharing, usage
from .forms import ConnectionForm
from .models import Connection, ConnectionStatus


def own_connection(request, connection_id) -> Connection:
    return get_object_or_404(Connection, pk=connection_id, organization=request.organization)


@organization_required
def connection_list(request):
    connections = visible(request, services.organization_connections(request.organization), "connection")
    return render(request, "connections/list.html", {"connections": connections, "kinds": catalogue.by_id()})


@organization_required
def connection_new(request):
    query = request.GET.get("q", "").strip().lower()
    kinds = [k for k in services.offered_types()
             if not query or query in k.name.lower() or query in k.id or query in k.description.lower()]
    template = "connections/_catalogue.html" if request.htmx else "connections/catalogue.html"
    return render(request, template, {"kinds": kinds, "query": query})


@organization_required
def connection_create(request, type_id):
    kind = catalogue.get(type_id)
    if kind is None:
        messages.error(request, f"There is no connection type {type_id!r}.")
        return redirect("connections:new")
    if kind not in services.offered_types():
        messages.error(request, FILES_OFF)
        return redirect("connections:new")
    form = ConnectionForm(kind, request.POST or None, initial={"name": f"My {kind.name} connection"})
    if request.method == "POST" and form.is_valid():
        try:
            connection = services.create_connection(
                request.organization, name=form.cleaned_data["name"], type_id=kind.id,
                configuration=form.configuration(), user=request.user)
        except services.ConfigurationInvalid as error:
            form.add_configuration_errors(error.errors)
        else:
            return redirect("connections:detail", connection.pk)
    return render(request, "connections/form.html", {"form": form, "kind": kind})


@organization_required
def connection_detail(request, connection_id):
    connection = own_connection(request, connection_id)
    kind = services.connection_type(connection.type)
    return render(request, "connections/detail.html", {
        **status_context(connection), "rows": configuration_rows(kind, connection),
        "parameter_fields": kind.parameter_fields, **sharing_context(connection),
        "usage": usage.usage(connection) if kind.kind == "api" else None,
    })


@organization_required
def connection_status(request, connection_id):
    connection = own_connection(request, connection_id)
    return render(request, "connections/_status.html", status_context(connection))


@require_POST
@organization_required
def connection_test(request, connection_id):
    connection = services.check_connection(own_connection(request, connection_id))
    if request.htmx:
        return render(request, "connections/_status.html", status_context(connection, tested=True))
    return redirect("connections:detail", connection.pk)


@organization_required
def connection_edit(request, connection_id):
    connection = own_connection(request, connection_id)
    if connection.parent_id:
        messages.error(request, services.SharedReadOnly(connection).sentence)
        return redirect("connections:detail", connection.pk)
    kind = services.connection_type(connection.type)
    form = ConnectionForm(kind, request.POST or None, connection=connection)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_connection(connection, name=form.cleaned_data["name"],
                                       configuration=form.configuration())
        except services.ConfigurationInvalid as error:
            form.add_configuration_errors(error.errors)
        else:
            messages.info(request, "Connection saved.")
            return redirect("connections:detail", connection.pk)
    return render(request, "connections/form.html", {"form": form, "kind": kind, "connection": connection})


@organization_required
def connection_delete(request, connection_id):
    connection = own_connection(request, connection_id)
    users = services.connection_users(connection)
    if request.method == "POST" and not users:
        services.delete_connection(connection)
        messages.info(request, f"Deleted the connection {connection.name!r}.")
        return redirect("connections:list")
    return render(request, "connections/delete.html", {"connection": connection, "users": users},
                  status=409 if request.method == "POST" else 200)


@organization_required
def connection_authorize(request, connection_id):
    """Start OAuth: off to the provider's consent page (in the console's popup)."""
    connection = own_connection(request, connection_id)
    try:
        url = oauth.authorization_url(connection, callback_url=request.build_absolute_uri(oauth.CALLBACK_PATH),
                                      user=request.user, bind_session=True)
    except ConnectorError as error:
        return render(request, "connections/callback.html",
                      {"ok": False, "message": str(error), "connection": connection}, status=400)
    return redirect(url)


def oauth_callback(request):
    outcome = services.finish_authorization(request.GET, request.user)
    connection = outcome.connection
    result = {
        "type": "connection-oauth",
        "ok": outcome.ok,
        "message": outcome.message,
        "connection_id": str(connection.pk) if connection else None,
        "redirect_url": outcome.redirect_url,
    }
    show_link = connection is not None and request.user.is_authenticated and \
        request.organization is not None and connection.organization_id == request.organization.pk
    response = render(request, "connections/callback.html", {
        "ok": outcome.ok, "message": outcome.message, "result": result,
        "connection": connection if show_link else None,
    }, status=200 if connection else 400)
    # The popup reaches this page from the provider's site; any stricter policy here
    # would cut it from the console page that opened it and is waiting for the result.
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response


@organization_required
def connection_parameters(request, connection_id):
    """Values offered by the provider (LinkedIn ad accounts): pick and save."""
    connection = own_connection(request, connection_id)
    kind = services.connection_type(connection.type)
    fields = kind.parameter_fields
    saved = False
    if request.method == "POST":
        chosen = {name: request.POST.getlist(name) for name in fields}
        configuration = {**services.visible_configuration(connection), **chosen}
        try:
            connection = services.update_connection(connection, name=connection.name,
                                                    configuration=configuration, validate=False)
            saved = True
        except services.ConfigurationInvalid as error:
            messages.error(request, str(error))
    error, choices = "", []
    try:
        values = services.parameter_values(connection)
    except ConnectorError as failure:
        error, values = str(failure), {}
    for name in fields:
        selected = set(connection.configuration.get(name) or [])
        field = kind.field(name)
        options = [{"value": v, "label": label, "selected": v in selected} for v, label in values.get(name, [])]
        choices.append({"name": name, "title": field.title if field else name, "options": options})
    return render(request, "connections/_parameters.html", {
        "connection": connection, "choices": choices, "error": error, "saved": saved,
    })


def status_context(connection: Connection, tested=False) -> dict:
    kind = services.connection_type(connection.type)
    config = services.connection_config(connection)
    return {
        "connection": connection,
        "kind": kind,
        "uses_oauth": kind.uses_oauth(config) and not connection.parent_id,  # a shared copy is authorized by its owner
        "statuses": ConnectionStatus,
        "tested": tested,
        "authorize_url": reverse("connections:authorize", args=[connection.pk]),
    }


def sharing_context(connection: Connection) -> dict:
    """Who shares this connection with the organization, or whom the organization shares it with."""
    if connection.parent_id:
        return {"shared_by": connection.parent.organization.name, "copies": []}
    return {"shared_by": None, "copies": list(sharing.shared_copies(connection))}


def configuration_rows(kind, connection: Connection) -> list[dict]:
    """What the detail page shows: plain values (secret item keys masked), and for secrets
    only whether one is stored."""
    stored = services.connection_config(connection)
    visible = services.visible_configuration(connection)
    rows = []
    for field in kind.fields:
        if field.secret:
            if field.name in kind.hidden:
                continue
            rows.append({"title": field.title, "secret": True, "stored": bool(stored.get(field.name))})
        elif field.name in visible:
            rows.append({"title": field.title, "value": shown(visible[field.name]), "readonly": field.readonly})
    return rows


def shown(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(f"{v.get('name')}: {v.get('value')}" if isinstance(v, dict) else str(v) for v in value) or "—"
    return str(value)
