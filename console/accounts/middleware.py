from django.core.exceptions import PermissionDenied
from django.http import Http404

from console.access.rules import Principal, refusal
from console.permissions import refusal as refusal_message

from .models import Membership

SESSION_KEY = "organization_id"


class CurrentOrganizationMiddleware:
    """Puts the signed-in user's current organization and membership on the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organization = None
        request.membership = None
        if request.user.is_authenticated:
            memberships = Membership.objects.select_related("organization").filter(
                user=request.user
            )
            chosen = request.session.get(SESSION_KEY)
            membership = (chosen and memberships.filter(organization_id=chosen).first()) or (
                memberships.order_by("created_at").first()
            )
            if membership:
                request.membership = membership
                request.organization = membership.organization
        return self.get_response(request)


class RoleMiddleware:
    """Refuses console requests the member's role and policies do not allow (console/access/rules.py).
    The API checks API keys the same way in its authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.membership is None or request.path.startswith("/api/"):
            return None
        request.access = Principal.of_membership(request.membership)
        refused = refusal(request.access, request.method, request.path)
        if refused and refused.status == 404:
            raise Http404("Not found.")
        if refused:
            raise PermissionDenied(refusal_message(refused.required_role))
        return None
