from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from console.access.rules import visible
from console.accounts.decorators import organization_required
from console.api.errors import ApiError
from console.engine import overview
from console.engine.filters import FUNCTIONS
from console.engine.models import ACTIVE_STATUSES
from console.engine.views import go

from . import forms, logs, runs, schedules, services
from .models import BulkExecution, BulkSchedule, BulkSync

RUNS_SHOWN = 50


def sync_of(request, sync_id) -> BulkSync:
    return get_object_or_404(
        BulkSync.objects.select_related("source_connection", "destination_connection"),
        pk=sync_id, organization=request.organization,
    )


@organization_required
def bulk_list(request):
    syncs = visible(request, request.organization.bulk_syncs, "bulk_sync").select_related("source_connection", "destination_connection")
    return render(request, "bulk/list.html", {"syncs": overview.with_last_runs(syncs, BulkExecution)})


@organization_required
def bulk_new(request):
    return form_page(request, None)


@organization_required
def bulk_edit(request, sync_id):
    return form_page(request, sync_of(request, sync_id))


def form_page(request, sync):
    error = None
    if request.method == "POST":
        data = forms.definition(request.POST)
        try:
            if sync is None:
                sync = services.create_bulk_sync(request.organization, data, user=request.user)
            else:
                sync = services.update_bulk_sync(sync, data, user=request.user)
        except ApiError as failure:
            error = failure
        else:
            messages.success(request, f"Saved {sync.name}.")
            return redirect("bulk:runs", sync_id=sync.pk)
    else:
        data = forms.from_sync(sync) if sync else forms.blank()
    context = {"f": forms.context(request.organization, data), "sync": sync, "error": error}
    return render(request, "bulk/form.html", context, status=400 if error else 200)


@require_POST
@organization_required
def form_step(request):
    """The form again after one change: the chosen source's objects, a chosen object's fields."""
    sync = sync_of(request, request.POST["sync_id"]) if request.POST.get("sync_id") else None
    data = forms.definition(request.POST)
    return render(request, "bulk/_form.html", {"f": forms.context(request.organization, data), "sync": sync})


@organization_required
def run_history(request, sync_id):
    sync = sync_of(request, sync_id)
    executions = list(sync.executions.prefetch_related("schemas")[:RUNS_SHOWN])
    now = timezone.now()
    for e in executions:
        e.duration = ((e.completed_at or now) - e.started_at) if e.started_at else None
    context = {"sync": sync, "executions": executions,
               "active": any(e.status in ACTIVE_STATUSES for e in executions),
               "schedules": sync.additional_schedules.all(), "enabled_schemas": sync.enabled_schemas(),
               "functions": FUNCTIONS, "sync_modes": schedules.SYNC_MODES}
    template = "bulk/_runs_table.html" if request.htmx and request.GET.get("part") else "bulk/runs.html"
    return render(request, template, context)


@require_POST
@organization_required
def add_schedule(request, sync_id):
    """A schedule besides the default one, from the bulk sync's page."""
    sync = sync_of(request, sync_id)
    given = {name: request.POST.get(name, "").strip() for name in ("frequency", "minute", "hour", "day_of_week",
                                                                   "day_of_month", "month", "sync_mode")}
    try:
        schedules.save(sync, schedules.clean(sync, {"schedule": {k: v for k, v in given.items() if v}}),
                       user=request.user)
        messages.success(request, "Schedule added.")
    except ApiError as error:
        messages.warning(request, f"Schedule not added: {error.message}")
    return go(request, reverse("bulk:runs", args=[sync.pk]))


@require_POST
@organization_required
def delete_schedule(request, sync_id, schedule_id):
    get_object_or_404(BulkSchedule, pk=schedule_id, sync=sync_of(request, sync_id)).delete()
    messages.info(request, "Schedule deleted.")
    return go(request, reverse("bulk:runs", args=[sync_id]))


@require_POST
@organization_required
def save_schema_settings(request, sync_id, schema_id):
    """One object's filter, partition key and data cutoff, from the bulk sync's page."""
    sync = sync_of(request, sync_id)
    field_id, function = request.POST.get("filter_field", "").strip(), request.POST.get("filter_function", "")
    item = {"id": schema_id, "filters": [], "partition_key": request.POST.get("partition_key", "").strip() or "",
            "data_cutoff_timestamp": request.POST.get("data_cutoff_timestamp", "").strip() or "",
            "disable_data_cutoff": request.POST.get("disable_data_cutoff") == "on"}
    if field_id:
        item["filters"] = [{"field_id": field_id, "function": function,
                            "value": request.POST.get("filter_value", "")}]
    try:
        services.replace_schemas(sync, [item], merge=True, listed=False)
        messages.success(request, f"Settings of {schema_id} saved; its next run reads it in full.")
    except ApiError as error:
        messages.warning(request, f"Settings of {schema_id} not saved: {error.message}")
    return go(request, reverse("bulk:runs", args=[sync.pk]))


@require_POST
@organization_required
def start_run(request, sync_id):
    sync = sync_of(request, sync_id)
    kind = request.POST.get("kind", "run")
    try:
        runs.start_execution(sync, trigger="manual", resync_mode="resync" if kind == "resync" else "")
    except runs.AlreadyRunning:
        messages.warning(request, "This bulk sync is already running.")
    return go(request, reverse("bulk:runs", args=[sync.pk]))


@require_POST
@organization_required
def cancel_run(request, sync_id, execution_id):
    execution = get_object_or_404(BulkExecution, pk=execution_id, sync=sync_of(request, sync_id))
    try:
        messages.info(request, runs.bulk_runs.cancel(execution))
    except runs.NotCancelable as error:
        messages.warning(request, str(error))
    return go(request, reverse("bulk:runs", args=[sync_id]))


def log_file(request, token, filename):
    """A run's log file behind a signed, expiring URL (what the API's log URLs point at)."""
    try:
        execution = get_object_or_404(BulkExecution, pk=logs.read_token(token))
    except signing.BadSignature:
        raise Http404("This link is invalid or has expired.") from None
    if filename == "execution.jsonl":
        response = HttpResponse(logs.jsonl(execution.logs.order_by("id")), content_type="application/x-ndjson")
    elif filename == "logs.zip":
        response = HttpResponse(logs.archive(execution), content_type="application/zip")
    else:
        raise Http404("No such log file.")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
