"""The egress policy as the console applies it (integrations/egress.py does the work).

The process policy reads settings.EGRESS_ALLOW at each use, so web and worker
processes follow the setting. The helpers here are the up-front checks made when a
tenant saves a URL or host; the check made when connecting stays the real guard.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from integrations import egress
from integrations.connection_types import ConnectionType


def install():
    """Make settings.EGRESS_ALLOW the allow-list of this process; a bad entry stops startup."""
    try:
        egress.Policy(settings.EGRESS_ALLOW)
    except ValueError as error:
        raise ImproperlyConfigured(str(error)) from None
    egress.use(lambda: settings.EGRESS_ALLOW)


def url_problem(url: str) -> str | None:
    """Why the policy refuses this URL, or None (also when it is no URL at all: the caller's
    own validation says so)."""
    try:
        egress.current().check_url(url)
    except egress.EgressRefused as refusal:
        return None if refusal.rule == "url" else str(refusal)
    return None


def configuration_problems(kind: ConnectionType, config: dict) -> list[tuple[str, str]]:
    """[(field, message)] for each URL or host field of the configuration the policy refuses."""
    policy = egress.current()
    problems = []
    for field in kind.fields:
        value = config.get(field.name)
        if not field.address or not isinstance(value, str) or not value.strip():
            continue
        try:
            if field.address == "url":
                policy.check_url(value.strip())
            else:
                policy.check_host(*host_and_port(kind, config, value))
        except egress.EgressRefused as refusal:
            problems.append((field.name, str(refusal)))
    return problems


def host_and_port(kind: ConnectionType, config: dict, value: str) -> tuple:
    """A host field's host and port: "host:port" as given, else the type's port field, else 443."""
    host = value.strip().split("://", 1)[-1].split("/", 1)[0]
    if host.startswith("[") and "]" in host:
        bracketed, _, rest = host[1:].partition("]")
        host, given = bracketed, rest.lstrip(":")
    elif host.count(":") == 1:
        host, given = host.split(":")
    else:
        given = ""
    port_field = kind.field("port")
    port = given or config.get("port") or (port_field.default if port_field else None) or 443
    return host, int(port) if str(port).isdigit() else port
