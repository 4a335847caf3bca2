from ninja.security import HttpBearer

from console.accounts.models import role_allows
from console.accounts.services import api_key_from_header
from console.api.errors import ApiError
from console.permissions import refusal, required_role


class ApiKeyAuth(HttpBearer):
    """Bearer API key (raw or base64, as older clients send it) or Basic "key:"."""

    def __call__(self, request):
        api_key = api_key_from_header(request.headers.get("Authorization", ""))
        if api_key is None:
            return None
        request.api_key = api_key
        request.organization = api_key.organization
        needed = required_role(request.method, request.path)
        if not role_allows(api_key.role, needed):
            raise ApiError(403, f"{refusal(needed)} This API key has the {api_key.get_role_display()} role.",
                           key="forbidden", metadata={"required_role": needed})
        return api_key

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the work
        return None
