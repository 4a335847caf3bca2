"""The sync page's sample requests for an HTTP API target: the dry run, and a test send of one row."""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from console.accounts.decorators import organization_required
from console.api.errors import ApiError
from console.connections.probes import ProbesBusy

from . import sample_requests
from .models import Sync


def sync_of(request, sync_id) -> Sync:
    return get_object_or_404(Sync.objects.select_related("model", "target_connection"), pk=sync_id,
                             organization=request.organization)


@organization_required
def sync_requests(request, sync_id):
    sync = sync_of(request, sync_id)
    context = {"sync": sync}
    try:
        context["preview"] = sample_requests.preview(sync)
    except (ApiError, ProbesBusy) as error:
        context["error"] = getattr(error, "message", str(error))
    return render(request, "syncs/_sample_requests.html", context)


@require_POST
@organization_required
def sync_test_send(request, sync_id):
    sync = sync_of(request, sync_id)
    row = request.POST.get("row", "0")
    context = {"sync": sync}
    try:
        context["sent"] = sample_requests.send_test(sync, int(row) if row.isdigit() else -1)
    except (ApiError, ProbesBusy) as error:
        context["error"] = getattr(error, "message", str(error))
    return render(request, "syncs/_test_send.html", context)
