"""The query runner page: pick a warehouse connection, run SQL in a worker, read the rows."""

from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from console.accounts.decorators import organization_required
from console.connections.models import Connection
from integrations import catalogue

from . import services
from .models import QueryRun

SHOWN_ROWS = 200


def warehouses(organization):
    kinds = [kind.id for kind in catalogue.types(files=True) if kind.kind == "warehouse"]
    return Connection.objects.filter(organization=organization, type__in=kinds).order_by("name")


def own_run(request, query_id) -> QueryRun:
    return get_object_or_404(QueryRun, pk=query_id, organization=request.organization)


@organization_required
def query_page(request):
    connections = warehouses(request.organization)
    form = {"connection": request.POST.get("connection", ""), "query": request.POST.get("query", "")}
    error = None
    if request.method == "POST":
        connection = connections.filter(pk=form["connection"]).first() if form["connection"] else None
        if connection is None:
            error = ("connection", "Choose a warehouse connection.")
        else:
            try:
                run = services.start(connection, form["query"], user=request.user)
            except services.QueryRefused as refused:
                error = (refused.field, str(refused))
            else:
                return redirect("queries:detail", run.pk)
    return render(request, "queries/page.html", {"connections": connections, "form": form, "error": error,
                                                 "recent": services.organization_runs(request.organization)[:10]})


def result_context(run: QueryRun) -> dict:
    run = services.visible(run)
    return {"run": run, "rows": [[row.get(f) for f in run.fields] for row in run.rows[:SHOWN_ROWS]],
            "shown": min(len(run.rows), SHOWN_ROWS)}


@organization_required
def query_detail(request, query_id):
    return render(request, "queries/detail.html", result_context(own_run(request, query_id)))


@organization_required
def query_result(request, query_id):
    return render(request, "queries/_result.html", result_context(own_run(request, query_id)))


@require_POST
@organization_required
def query_cancel(request, query_id):
    services.cancel(own_run(request, query_id))
    return redirect("queries:detail", query_id)
