"""Who may do what: one table for the console and the API alike.

Every request needs at least the read-only role. Requests that change something
need a member, and those that change credentials, API keys, members or
notifications need an admin. A few POSTs only read (seed 001 lists target
objects with POST) and a few GETs act (starting OAuth, forms that lead to a
change), so they are listed by pattern.
"""

import re

from console.accounts.models import Role

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# (pattern on the path, role needed to change anything there)
ADMIN_AREAS = [
    r"^/api/connections(/test|/connect/)?$",
    r"^/api/connections/[^/]+$",
    r"^/api/connections/[^/]+/proxy/settings$",
    r"^/api/connection_types/[^/]+/parameter_values$",
    r"^/api/webhooks",
    r"^/api/notifications",
    r"^/api/organization/users",
    r"^/api/organization/record-logging",
    r"^/api/permissions/",
    r"/grants(/|$)",
    r"^/connections/",
    r"^/settings",
    r"^/audit",
]
# POSTs that only read
READS = [
    r"^/api/connections/[^/]+/modelsync/",
    r"^/api/connections/[^/]+/query$",
    r"^/api/model-preview$",
    r"^/models/preview$",
    r"^/signin$",
    r"^/signout$",
    r"^/signup$",
    r"^/organizations/switch$",
]
# GETs that act or lead straight to a change
ACTING_GETS = [r"/new(/|$)", r"/edit$", r"/delete$", r"/authorize$"]
# pages and endpoints for admins only, even to read
ADMIN_READS = [r"^/audit", r"^/api/audit_events"]


def matches(patterns, path: str) -> bool:
    return any(re.search(pattern, path) for pattern in patterns)


def is_acting(method: str, path: str) -> bool:
    if method in SAFE_METHODS:
        return matches(ACTING_GETS, path)
    return not matches(READS, path)


def required_role(method: str, path: str) -> str:
    if matches(ADMIN_READS, path):
        return Role.ADMIN
    if not is_acting(method, path):
        return Role.READ_ONLY
    return Role.ADMIN if matches(ADMIN_AREAS, path) else Role.MEMBER


def refusal(role_needed: str) -> str:
    return {
        Role.ADMIN: "Only organization admins can do this.",
        Role.MEMBER: "Read-only members cannot change anything; ask an admin for the member role.",
    }.get(role_needed, "You cannot do this.")
