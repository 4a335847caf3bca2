from django import template

from console.access import services

register = template.Library()


@register.inclusion_tag("access/_grants.html", takes_context=True)
def object_grants(context, kind, target):
    """The grants section of a connection, model or sync page: who holds which role on it."""
    request = context["request"]
    organization = request.organization
    return {
        "request": request, "csrf_token": context.get("csrf_token"), "kind": kind, "target": target,
        "grants": services.shares_of(organization, kind, target.pk),
        "members": services.members(organization), "roles": services.organization_roles(organization),
        "can_grant": request.membership.is_admin or request.access.may("apply_policy", kind, target.pk),
    }
