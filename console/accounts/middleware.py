from django.core.exceptions import PermissionDenied

from console.permissions import refusal, required_role

from .models import Membership, role_allows

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
    """Refuses console requests the member's role does not allow (console/permissions.py).
    The API checks API keys' roles the same way in its authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.membership is None or request.path.startswith("/api/"):
            return None
        needed = required_role(request.method, request.path)
        if not role_allows(request.membership.role, needed):
            raise PermissionDenied(refusal(needed))
        return None
