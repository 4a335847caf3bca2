"""The hosted Polytomic Connect page: no sign-in, the session's token in the URL's query."""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from integrations.base import ConnectorError

from . import connect, oauth, services
from .forms import ConnectionForm


def closed(request, error) -> HttpResponse:
    return render(request, "connections/connect/closed.html", {"message": str(error)}, status=404)


def done(request, session) -> HttpResponse:
    url = connect.return_url(session)
    return redirect(url) if url else connect_done(request)


def connect_done(request):
    """Where a finished session lands when its redirect URL is no longer on the organization's list."""
    return render(request, "connections/connect/closed.html",
                  {"message": "The connection is made. You can close this window.", "ok": True})


def connect_page(request):
    """Pick a type (when the session offers several), fill its configuration, then authorize."""
    token = request.GET.get("token", "")
    try:
        session = connect.open_session(token)
    except connect.ConnectClosed as error:
        return closed(request, error)
    context = {"session": session, "token": token}
    if session.connection is not None and session.connection.status == "pending_auth":
        return render(request, "connections/connect/authorize.html", {**context, **authorize_context(session)})
    kind = connect.chosen_type(session, session.type or request.GET.get("type", ""))
    if kind is None:
        return render(request, "connections/connect/pick.html", {**context, "kinds": connect.types(session)})
    form = ConnectionForm(kind, request.POST or None, connection=session.connection,
                          initial=None if session.connection else {"name": session.name})
    form.fields.pop("name")
    if request.method == "POST" and form.is_valid():
        try:
            connection = connect.save(session, kind, form.configuration())
        except services.ConfigurationInvalid as error:
            form.add_configuration_errors(error.errors)
        else:
            if connect.finish(session):
                return done(request, session)
            if connection.status == "pending_auth":
                return render(request, "connections/connect/authorize.html", {**context, **authorize_context(session)})
            form.add_error(None, connection.status_message or "The connection could not be checked.")
    return render(request, "connections/connect/form.html", {**context, "kind": kind, "form": form})


def authorize_context(session) -> dict:
    return {"kind": services.connection_type(session.connection.type), "connection": session.connection}


def connect_authorize(request):
    """Off to the provider's consent page, in the popup the Connect page opened."""
    try:
        session = connect.open_session(request.GET.get("token", ""))
    except connect.ConnectClosed as error:
        return closed(request, error)
    if session.connection is None:
        return closed(request, "Fill in the connection's configuration first.")
    try:
        url = oauth.authorization_url(session.connection, callback_url=request.build_absolute_uri(oauth.CALLBACK_PATH))
    except ConnectorError as error:
        return closed(request, error)
    return redirect(url)


def connect_status(request):
    """The Connect page's status part, asked again once the popup reports; done means back to the caller."""
    token = request.GET.get("token", "")
    session = connect.find(token)
    if session is None or connect.status(session) == "expired":
        return closed(request, "This Connect link is no longer valid.")
    if connect.finish(session):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = connect.return_url(session) or reverse("connect:done")
        return response
    return render(request, "connections/connect/_status.html",
                  {"session": session, "token": token, **authorize_context(session)})
