from django.core.paginator import Paginator
from django.shortcuts import render

from console.accounts.decorators import admin_required

from .api import filtered
from .models import AuditEvent

PAGE_SIZE = 50


@admin_required
def audit_log(request):
    chosen = {name: request.GET.get(name, "").replace("\x00", "") for name in ("object_type", "action")}
    events = filtered(AuditEvent.objects.filter(organization=request.organization), **chosen)
    page = Paginator(events.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    kinds = AuditEvent.objects.filter(organization=request.organization)
    return render(request, "audit/list.html", {
        "page": page, "chosen": chosen,
        "object_types": kinds.order_by("object_type").values_list("object_type", flat=True).distinct(),
        "actions": kinds.order_by("action").values_list("action", flat=True).distinct(),
    })
