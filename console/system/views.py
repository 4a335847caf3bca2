from django.shortcuts import render

from console.accounts.decorators import organization_required

from .health import system_health


@organization_required
def status_page(request):
    return render(request, "system/status.html", {"health": system_health()})
