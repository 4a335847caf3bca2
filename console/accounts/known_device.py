"""A signed cookie that marks a browser where an account signed in before.

Sign-ins from that browser spend a budget of their own, so someone guessing the
password elsewhere cannot lock the account's owner out.
"""

import secrets

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

COOKIE = "known_device"
SALT = "console.accounts.known-device"
MAX_AGE = 365 * 24 * 3600


def account_tag(email: str) -> str:
    return salted_hmac(SALT, email.lower()).hexdigest()[:32]


def device_of(request, email: str) -> str | None:
    """The device id in the request's cookie, when the cookie was issued to this account."""
    value = request.COOKIES.get(COOKIE) if request is not None else None
    if not value or not email:
        return None
    try:
        data = signing.loads(value, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("account") != account_tag(email):
        return None
    return data.get("device") or None


def remember(response, request, email: str):
    device = device_of(request, email) or secrets.token_urlsafe(16)
    value = signing.dumps({"account": account_tag(email), "device": device}, salt=SALT)
    response.set_cookie(COOKIE, value, max_age=MAX_AGE, httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE)
