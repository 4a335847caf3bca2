from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from console.access.rules import visible
from console.accounts.decorators import organization_required
from console.api.errors import ApiError
from console.engine import overview
from console.engine.models import Execution

from . import builder, services
from .forms import Draft, draft_from_post, draft_from_sync
from .models import Sync


def sync_of(request, sync_id) -> Sync:
    return get_object_or_404(
        Sync.objects.select_related("model", "target_connection"), pk=sync_id, organization=request.organization
    )


@organization_required
def sync_list(request):
    # Only what the list shows: a sync's other JSON columns cost more to decode than the page to render.
    syncs = (
        visible(request, request.organization.syncs, "sync").select_related("model", "target_connection")
        .only("organization", "name", "mode", "active", "target_object", "target_create", "schedule", "updated_at",
              "next_run_at", "target_connection_id", "model__name", "target_connection__name")
        .order_by("-updated_at")
    )
    syncs = overview.with_target_names(overview.with_last_runs(syncs, Execution))
    return render(request, "syncs/list.html", {"syncs": syncs})


@organization_required
def sync_detail(request, sync_id):
    sync = sync_of(request, sync_id)
    return render(request, "syncs/detail.html", {
        "sync": sync, "sentence": services.describe(sync), "problems": services.problems(sync),
        "confirmations": services.confirmation_options(sync.target_connection, sync.target_object),
    })


@organization_required
def sync_new(request):
    return builder_page(request, None)


@organization_required
def sync_edit(request, sync_id):
    return builder_page(request, sync_of(request, sync_id))


def builder_page(request, sync):
    error = None
    if request.method == "POST":
        draft = draft_from_post(request.POST)
        try:
            if sync is None:
                sync = services.create_sync(request.organization, draft.definition(), user=request.user)
            else:
                sync = services.update_sync(sync, draft.definition(), user=request.user)
        except ApiError as failure:
            error = failure
        else:
            messages.success(request, f"Saved {sync.name}.")
            return redirect("syncs:detail", sync_id=sync.pk)
    else:
        draft = draft_from_sync(sync) if sync else Draft(model=request.GET.get("model", ""))
    context = {"b": builder.build(request.organization, draft, sync), "sync": sync, "error": error,
               "error_step": builder.error_step(error) if error else ""}
    return render(request, "syncs/builder.html", context, status=400 if error else 200)


@require_POST
@organization_required
def builder_step(request):
    """The builder again, after one change: the next step loads from discovery."""
    sync = None
    if request.POST.get("sync_id"):
        sync = sync_of(request, request.POST["sync_id"])
    draft = draft_from_post(request.POST)
    action = request.POST.get("action", "")
    if action:
        builder.apply_action(draft, action, builder.build(request.organization, draft, sync))
    return render(request, "syncs/_builder.html", {"b": builder.build(request.organization, draft, sync), "sync": sync})


@require_POST
@organization_required
def sync_activate(request, sync_id):
    sync = sync_of(request, sync_id)
    try:
        services.set_active(sync, request.POST.get("active") == "true", user=request.user,
                            confirmation=request.POST.get("confirm_redaction"))
    except ApiError as error:
        messages.error(request, f"{sync.name} was not activated. {error.message}")
        return redirect("syncs:detail", sync_id=sync.pk)
    messages.info(request, f"{sync.name} is {'active' if sync.active else 'paused'}.")
    return redirect("syncs:detail", sync_id=sync.pk)


@require_POST
@organization_required
def sync_delete(request, sync_id):
    sync = sync_of(request, sync_id)
    try:
        services.delete_sync(sync)
    except ApiError as error:
        messages.error(request, error.message)
        return redirect("syncs:detail", sync_id=sync.pk)
    messages.info(request, f"Deleted {sync.name}.")
    return redirect("syncs:list")
