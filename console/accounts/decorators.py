from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect


def organization_required(view):
    """Signed in, with a current organization on request.organization."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.organization is None:
            return redirect("signup")
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view):
    @organization_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.is_admin:
            raise PermissionDenied("Only organization admins can do this.")
        return view(request, *args, **kwargs)

    return wrapper
