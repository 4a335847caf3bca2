"""The connection proxy's switch on a connection's page (admins turn it on or off)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from console.accounts.decorators import admin_required, organization_required
from console.connections.models import Connection

from . import services


def own_connection(request, connection_id) -> Connection:
    return get_object_or_404(Connection, pk=connection_id, organization=request.organization)


@organization_required
def proxy_card(request, connection_id):
    connection = own_connection(request, connection_id)
    return render(request, "proxy/_card.html", {"connection": connection, "supported": services.supported(connection),
                                               "settings": services.settings_of(connection)})


@require_POST
@admin_required
def proxy_switch(request, connection_id):
    connection = own_connection(request, connection_id)
    try:
        services.update_settings(connection, request.POST.get("enabled") == "on")
    except services.ProxyRefused as error:
        messages.error(request, str(error))
    return redirect("connections:detail", connection.pk)
