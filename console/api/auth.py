from django.conf import settings
from ninja.security import HttpBearer

from console.access.rules import Principal, refusal
from console.accounts.partners import route_refusal
from console.accounts.services import api_key_from_header
from console.api.errors import ApiError
from console.permissions import refusal as refusal_message
from console.throttle import client_ip, held, hold, wait_seconds


class ApiKeyAuth(HttpBearer):
    """Bearer API key (raw or base64, as older clients send it) or Basic "key:"."""

    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        if not header.strip():
            return None
        guessing = f"api-key-failures:{client_ip(request)}"
        refuse_if_spent(held(guessing))
        api_key = api_key_from_header(header)
        if api_key is None:
            wait = wait_seconds(guessing, settings.API_KEY_FAILURES_PER_IP_PER_15_MINUTES, 900)
            if wait:
                hold(guessing, wait)
                refuse_if_spent(wait)
            return None
        request.api_key = api_key
        request.organization = api_key.organization
        refused = route_refusal(api_key, request.path)
        if refused:
            raise refused
        request.access = Principal.of_api_key(api_key)
        refused = refusal(request.access, request.method, request.path)
        if refused and refused.status == 404:
            raise ApiError(404, "Not found.", key="not_found")
        if refused:
            needed = refused.required_role
            raise ApiError(403, f"{refusal_message(needed)} This API key has the {api_key.get_role_display()} role.",
                           key="forbidden", metadata={"required_role": needed})
        return api_key

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the work
        return None


def refuse_if_spent(wait: float):
    """Wrong keys spend their address's budget; once spent, every key from there gets a 429."""
    if wait:
        raise ApiError(429, f"Too many requests with a wrong API key from this address. Retry in {wait:.0f} "
                            "seconds.", key="rate_limited", metadata={"retry_after": max(1, round(wait))})
