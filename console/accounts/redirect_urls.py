"""Where an API-started OAuth flow may send the browser once it is done.

An organization lists origins or URL prefixes in Settings; with none listed only the
console's own PUBLIC_URL is allowed. Only absolute http(s) URLs qualify, so never
javascript:, data: or scheme-relative ones.
"""

from urllib.parse import SplitResult, unquote, urlsplit

from django.conf import settings

MAX_LENGTH = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}


class RedirectRefused(ValueError):
    """The message says why; it names no field (the caller knows which it checked)."""


def parse(url: str) -> SplitResult:
    """The URL's parts when it is an absolute http(s) URL with a host; RedirectRefused otherwise."""
    if not url or len(url) > MAX_LENGTH or any(c.isspace() or ord(c) < 32 or c == "\\" for c in url):
        raise RedirectRefused(f"must be an absolute http(s) URL of at most {MAX_LENGTH} characters, "
                              "without spaces, control characters or backslashes.")
    parts = urlsplit(url)
    try:
        parts.port
    except ValueError:
        raise RedirectRefused("has an invalid port.") from None
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        raise RedirectRefused("must be an absolute http:// or https:// URL with a host.")
    if parts.username is not None or parts.password is not None:
        raise RedirectRefused("must not carry a user name or password.")
    if any(segment in (".", "..") for segment in unquote(parts.path).split("/")):
        raise RedirectRefused("must not contain '.' or '..' path segments.")
    return parts


def origin(parts: SplitResult) -> tuple:
    scheme = parts.scheme.lower()
    return scheme, parts.hostname.lower(), parts.port or DEFAULT_PORTS[scheme]


def within(url: SplitResult, prefix: SplitResult) -> bool:
    if origin(url) != origin(prefix):
        return False
    base = prefix.path or "/"
    path = url.path or "/"
    return path.startswith(base) if base.endswith("/") else path == base or path.startswith(base + "/")


def allowed_prefixes(organization) -> list[str]:
    return list(organization.oauth_redirect_urls or []) or [settings.PUBLIC_URL]


def check(organization, url: str) -> str:
    """The URL when the organization allows it; RedirectRefused otherwise."""
    parts = parse(url)
    for prefix in allowed_prefixes(organization):
        try:
            if within(parts, parse(prefix)):
                return url
        except RedirectRefused:
            continue
    raise RedirectRefused(f"{url} is not on this organization's list of OAuth redirect URLs (an admin "
                          "sets it in Settings); with no list, only the console's own address is allowed.")


def allowed_or_empty(organization, url: str) -> str:
    """For the callback: a stored URL still allowed by today's list, else ""."""
    if not url:
        return ""
    try:
        return check(organization, url)
    except RedirectRefused:
        return ""
