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
