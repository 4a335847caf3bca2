"""A console page whose connection check found every probe slot taken says so (429)."""

from django.http import HttpResponse
from django.shortcuts import render

from .probes import ProbesBusy


class ProbesBusyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ProbesBusy) or request.path.startswith("/api/"):
            return None
        if getattr(request, "htmx", False):
            response = HttpResponse(str(exception), status=429, content_type="text/plain; charset=utf-8")
        else:
            response = render(request, "system/busy.html", {"message": str(exception)}, status=429)
        response["Retry-After"] = str(exception.retry_after)
        return response
