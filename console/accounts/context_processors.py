from .models import Membership


def organizations(request):
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}
    return {
        "current_organization": getattr(request, "organization", None),
        "my_memberships": Membership.objects.select_related("organization")
        .filter(user=user)
        .order_by("organization__name"),
    }
