from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from console.access.rules import visible
from console.accounts.decorators import organization_required
from console.api.errors import ApiError

from . import services
from .forms import ModelForm
from .models import DataModel


def own_model(request, model_id) -> DataModel:
    return get_object_or_404(DataModel.objects.select_related("connection"),
                             pk=model_id, organization=request.organization)


@organization_required
def model_list(request):
    models = visible(request, services.organization_models(request.organization), "model")
    return render(request, "datamodels/list.html", {"models": models})


@organization_required
def model_new(request):
    return model_form(request, None)


@organization_required
def model_edit(request, model_id):
    return model_form(request, own_model(request, model_id))


def model_form(request, model: DataModel | None):
    form = ModelForm(request.organization, request.POST or None, model=model)
    if request.method == "POST" and form.is_valid():
        try:
            if model is None:
                model = services.create_model(request.organization, form.definition())
                messages.success(request, f"Model {model.name} saved with {model.fields.count()} fields.")
            else:
                model, refresh = services.update_model(model, form.definition())
                messages.success(request, f"Model {model.name} saved. {refresh_summary(refresh)}")
        except ApiError as error:
            form.add_service_error(error)
        else:
            return redirect("datamodels:detail", model.pk)
    return render(request, "datamodels/form.html", {"form": form, "model": model})


@require_POST
@organization_required
def model_preview(request):
    """The preview partial: the first rows and the fields they have, or the warehouse's error."""
    form = ModelForm(request.organization, request.POST)
    context = {"form": form}
    if form.is_valid():
        definition = {**form.definition(), "name": form.cleaned_data["name"] or "preview"}
        try:
            _, columns, rows = services.preview(request.organization, definition)
        except ApiError as error:
            context["error"] = error.message
        else:
            names = [c.name for c in columns]
            context.update(columns=columns, rows=[[row.get(n) for n in names] for row in rows])
    return render(request, "datamodels/_preview.html", context)


@organization_required
def model_tables(request):
    """Options for the table picker of the chosen connection."""
    context = {"tables": []}
    connection_id = request.GET.get("connection")
    if connection_id:
        try:
            connection = services.organization_connection(request.organization, connection_id)
            context["tables"] = services.list_tables(connection)
        except ApiError as error:
            context["error"] = error.message
    return render(request, "datamodels/_tables.html", context)


@organization_required
def model_detail(request, model_id):
    model = own_model(request, model_id)
    readable = {str(pk) for pk in visible(request, model.syncs.all(), "sync").values_list("pk", flat=True)}
    return render(request, "datamodels/detail.html", {
        "model": model, "fields": model.fields.all(),
        "syncs": [sync for sync in services.syncs_using(model) if sync["id"] in readable],
    })


@require_POST
@organization_required
def model_refresh(request, model_id):
    model = own_model(request, model_id)
    try:
        refresh = services.refresh_fields(model)
    except ApiError as error:
        messages.error(request, error.message)
    else:
        level = messages.warning if refresh.affected_syncs else messages.success
        level(request, refresh_summary(refresh))
    return redirect("datamodels:detail", model.pk)


@require_POST
@organization_required
def model_delete(request, model_id):
    model = own_model(request, model_id)
    try:
        services.delete_model(model)
    except services.ModelInUse as error:
        messages.error(request, str(error))
        return redirect("datamodels:detail", model.pk)
    messages.success(request, f"Model {model.name} deleted.")
    return redirect("datamodels:list")


def refresh_summary(refresh: services.Refresh) -> str:
    parts = []
    if refresh.added:
        parts.append("New fields: " + ", ".join(refresh.added) + ".")
    if refresh.vanished:
        parts.append("Gone from the source: " + ", ".join(refresh.vanished) + ".")
    if refresh.affected_syncs:
        names = ", ".join(s["name"] for s in refresh.affected_syncs)
        parts.append(f"These syncs map a field that is gone and will fail until they are fixed: {names}.")
    return " ".join(parts) or "The fields are unchanged."
