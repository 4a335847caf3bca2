from ninja.security import HttpBearer

from console.accounts.services import api_key_from_header


class ApiKeyAuth(HttpBearer):
    """Bearer API key (raw or base64, as older clients send it) or Basic "key:"."""

    def __call__(self, request):
        api_key = api_key_from_header(request.headers.get("Authorization", ""))
        if api_key is None:
            return None
        request.api_key = api_key
        request.organization = api_key.organization
        return api_key

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the work
        return None
