from .services import record_request


class AuditMiddleware:
    """Writes an audit event for every successful request that changed something."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        record_request(request, response)
        return response
