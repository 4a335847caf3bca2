from django.contrib import messages
from django.core import signing
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from console.accounts.decorators import organization_required
from console.syncs.models import Sync

from . import error_handling, services
from .forms import ErrorHandlingForm, NotificationsForm
from .logs import LOG_TYPES, file_name, log_count, log_lines, read_token, sign_log
from .models import ACTIVE_STATUSES, Execution, NotificationSettings, Webhook, WebhookDelivery
from .notifications import save_settings

RUNS_SHOWN = 50
CHART_RUNS = 30
ERRORS_PER_PAGE = 50


def org_sync(request, sync_id) -> Sync:
    return get_object_or_404(Sync, pk=sync_id, organization=request.organization)


def org_execution(request, sync_id, execution_id) -> Execution:
    return get_object_or_404(Execution, pk=execution_id, sync=org_sync(request, sync_id))


def go(request, url):
    """Redirect; htmx requests follow with a full page load."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def with_duration(executions):
    now = timezone.now()
    for e in executions:
        end = e.completed_at or (now if e.started_at else None)
        e.duration = (end - e.started_at) if e.started_at and end else None
        e.written = e.inserted + e.updated + e.removed
        e.problems = e.errored + e.invalid
    return executions


def chart(executions) -> dict:
    """Bars of records per run, oldest first: written, rejected or invalid, unchanged."""
    runs = [e for e in reversed(executions) if not e.dry_run][-CHART_RUNS:]
    peak = max([e.written + e.problems + e.unchanged for e in runs] + [1])
    height, width = 60, 10
    bars = []
    for i, e in enumerate(runs):
        parts, y = [], height
        for css, value in (("written", e.written), ("problems", e.problems), ("unchanged", e.unchanged)):
            h = round(value * height / peak, 1)
            if h:
                y -= h
                parts.append({"css": css, "y": round(y, 1), "h": h})
        bars.append({"x": i * (width + 3), "width": width, "parts": parts, "run": e})
    return {"bars": bars, "height": height, "width": max(1, len(runs) * (width + 3))}


@organization_required
def runs(request, sync_id):
    sync = org_sync(request, sync_id)
    executions = with_duration(list(sync.executions.all().order_by("-created_at")[:RUNS_SHOWN]))
    context = {
        "sync": sync,
        "executions": executions,
        "chart": chart(executions),
        "active": any(e.status in ACTIVE_STATUSES for e in executions),
    }
    template = "engine/_runs_table.html" if request.htmx and request.GET.get("part") else "engine/runs.html"
    return render(request, template, context)


@require_POST
@organization_required
def start_run(request, sync_id):
    sync = org_sync(request, sync_id)
    kind = request.POST.get("kind", "run")
    try:
        execution = services.start_execution(
            sync,
            trigger="manual",
            dry_run=kind == "dry",
            resync=kind == "resync",
            allow_mass_removal=request.POST.get("allow_mass_removal") == "1",
        )
    except services.AlreadyRunning as running:
        messages.warning(request, "This sync is already running; here is the run in progress.")
        if running.execution:
            return go(request, reverse("engine:run", args=[sync.pk, running.execution.pk]))
        return go(request, reverse("engine:runs", args=[sync.pk]))
    return go(request, reverse("engine:run", args=[sync.pk, execution.pk]))


@organization_required
def run(request, sync_id, execution_id):
    execution = org_execution(request, sync_id, execution_id)
    return render(request, "engine/run.html", run_context(execution))


def run_context(execution) -> dict:
    with_duration([execution])
    return {
        "sync": execution.sync,
        "execution": execution,
        "active": execution.status in ACTIVE_STATUSES,
        "log": list(execution.logs.order_by("-id")[:100])[::-1],
        "failed_records": execution.record_errors.exists(),
        "log_files": log_files(execution),
    }


def log_files(execution) -> list[tuple[str, str]]:
    if execution.status in ACTIVE_STATUSES or execution.dry_run:
        return []
    return [(f"{t}.jsonl", sign_log(execution, t)) for t in LOG_TYPES if t != "warnings" and log_count(execution, t)]


@organization_required
def run_progress(request, sync_id, execution_id):
    execution = org_execution(request, sync_id, execution_id)
    context = run_context(execution)
    response = render(request, "engine/_run_progress.html", context)
    if not context["active"] and request.GET.get("was") == "active":
        response["HX-Trigger"] = "run-ended"
    return response


@organization_required
def run_errors(request, sync_id, execution_id):
    execution = org_execution(request, sync_id, execution_id)
    query = request.GET.get("q", "").strip()
    errors = execution.record_errors.all()
    if query:
        errors = errors.filter(identity__icontains=query)
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    start = (page - 1) * ERRORS_PER_PAGE
    shown = list(errors[start : start + ERRORS_PER_PAGE + 1])
    return render(
        request,
        "engine/_run_errors.html",
        {
            "execution": execution,
            "errors": shown[:ERRORS_PER_PAGE],
            "query": query,
            "page": page,
            "more": len(shown) > ERRORS_PER_PAGE,
            "total": errors.count(),
        },
    )


@require_POST
@organization_required
def cancel_run(request, sync_id, execution_id):
    execution = org_execution(request, sync_id, execution_id)
    try:
        messages.info(request, services.sync_runs.cancel(execution))
    except services.NotCancelable as error:
        messages.warning(request, str(error))
    return go(request, reverse("engine:run", args=[sync_id, execution_id]))


@require_POST
@organization_required
def retry_run(request, sync_id, execution_id):
    execution = org_execution(request, sync_id, execution_id)
    try:
        retry = services.retry_failed_records(execution)
    except services.AlreadyRunning:
        messages.warning(request, "This sync is already running; retry the failed records when it ends.")
        return go(request, reverse("engine:run", args=[sync_id, execution_id]))
    return go(request, reverse("engine:run", args=[sync_id, retry.pk]))


def log_file(request, token, filename):
    """A record log behind a signed, expiring URL (what the API's log URLs point at)."""
    try:
        execution_id, log_type = read_token(token)
    except signing.BadSignature:
        raise Http404("This link is invalid or has expired.") from None
    if filename != file_name(log_type):
        raise Http404("No such log file.")
    execution = get_object_or_404(Execution, pk=execution_id)
    response = StreamingHttpResponse(log_lines(execution, log_type), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="{log_type}.jsonl"'
    return response


@organization_required
def notifications(request):
    organization = request.organization
    webhook = Webhook.objects.filter(organization=organization).first()
    chosen = NotificationSettings.objects.filter(organization=organization).first()
    initial = {
        "endpoint": webhook.endpoint if webhook else "",
        "enabled": not webhook.disabled if webhook else True,
        "emails": "\n".join(chosen.emails) if chosen else "",
    }
    form = NotificationsForm(request.POST or None, initial=initial, has_secret=bool(webhook))
    if request.method == "POST":
        if not request.membership.is_admin:
            messages.warning(request, "Only organization admins can change notifications.")
            return redirect("engine:notifications")
        if form.is_valid():
            save_settings(organization, webhook, form.cleaned_data)
            messages.info(request, "Notifications saved.")
            return redirect("engine:notifications")
    deliveries = WebhookDelivery.objects.filter(webhook=webhook).select_related("event").annotate(
        attempt=Window(RowNumber(), partition_by=[F("event_id")], order_by=[F("attempted_at").asc(), F("id").asc()]),
    ).order_by("-attempted_at", "-id")[:20] if webhook else []
    return render(request, "engine/notifications.html", {"form": form, "webhook": webhook, "deliveries": deliveries})



@organization_required
def sync_notifications(request, sync_id):
    """The sync's own notification settings: its error handling."""
    sync = org_sync(request, sync_id)
    current = error_handling.model_settings(sync)
    initial = {**current, "subscribers": "\n".join(current["subscribers"])}
    form = ErrorHandlingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        sync.error_handling = error_handling.clean_model_settings({**current, **form.cleaned_data})
        sync.save(update_fields=["error_handling", "updated_at"])
        messages.info(request, "Notification settings saved.")
        return redirect("engine:sync-notifications", sync_id=sync.pk)
    return render(request, "engine/sync_notifications.html", {"sync": sync, "form": form})
