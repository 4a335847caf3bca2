"""ProviderSession for a connection: an httpx.Client on the provider's API base URL
with its authentication, for discovery and writes.

    session = provider_session(connection)
    try:
        session.http.get("me")
    finally:
        session.http.close()

OAuth connections get an httpx.Auth that renews the access token shortly before
it expires and once more when the provider answers 401. A refused renewal marks
the connection needs_reconnect and raises NeedsReconnect.
"""

import threading

import httpx
from django.conf import settings

from integrations.base import ConnectionFailed, ProviderSession
from integrations.clock import SYSTEM_CLOCK, Clock
from integrations.egress import EgressTransport
from integrations.http import MeteredTransport, RetryingTransport

from console.engine.ratelimit import interactive_limiter

from . import oauth, stored, usage
from .models import Connection

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
SHORT_RATE_WAIT = 15.0  # seconds of 429 waits a page's discovery call accepts


class OAuthTokenAuth(httpx.Auth):
    def __init__(self, connection: Connection, config: dict, deadline: float | None = None,
                 clock: Clock = SYSTEM_CLOCK):
        self.connection = connection
        self.deadline = deadline
        self.clock = clock
        self.token = config["oauth_access_token"]
        self.expiry = config.get("oauth_token_expiry")
        self.lock = threading.Lock()

    def auth_flow(self, request):
        if self.expiring():
            self.renew(self.token)
        token = self.token
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self.renew(token)
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request

    def expiring(self) -> bool:
        return self.expiry is not None and float(self.expiry) - oauth.REFRESH_MARGIN <= self.clock.time()

    def renew(self, stale: str):
        with self.lock:
            if self.token != stale and not self.expiring():
                return  # another thread of this session already renewed
            config = oauth.renew_token(self.connection, stale, self.deadline)
            self.token = config["oauth_access_token"]
            self.expiry = config.get("oauth_token_expiry")


def provider_session(connection: Connection, limiter=None, rate_wait: float = SHORT_RATE_WAIT,
                     deadline: float | None = None, clock: Clock = SYSTEM_CLOCK) -> ProviderSession:
    """The provider's API client for this connection. Raises ConnectionFailed when the
    connection cannot be used yet (not authorized), NeedsReconnect when its grant is gone.

    Requests retry 5xx and network errors and wait out 429s (up to `rate_wait` seconds);
    `limiter` (acquire/rate_limited) shares the connection's API budget between workers;
    a web request's probe passes its `deadline` (time.monotonic()), which no request outlasts, and
    without a limiter of its own spends the budget's share runs leave to it (interactive_limiter).
    Every request sent counts against the connection's day (usage.py), refused past its cap.
    Token expiry and 429 waits are measured and waited on `clock`."""
    kind = stored.connection_type(connection.type)
    if kind.kind != "api":
        raise ConnectionFailed(f"{kind.name} connections have no HTTP API session.")
    config = stored.connection_config(connection)
    provider = kind.provider
    if kind.uses_oauth(config):
        if kind.needs_browser(config):
            raise ConnectionFailed(f"The {kind.name} connection {connection.name!r} is not authorized yet: "
                                   "connect it first.")
        if not oauth.fresh(config):
            config = oauth.renew_token(connection, config.get("oauth_access_token"), deadline)
        auth = OAuthTokenAuth(connection, config, deadline, clock)
    else:
        auth = provider.static_auth(config)
    base_url = provider.api_url(config, settings.SANDBOX_URL)
    headers = provider.headers(config)
    sending = EgressTransport()
    if not connection._state.adding:  # a saved connection's calls count against its day (a copy's, its parent's)
        sending = MeteredTransport(usage.CallMeter(stored.holder(connection).pk, usage.daily_cap(config), clock),
                                   sending)
    if limiter is None and deadline is not None and not connection._state.adding:
        limiter = interactive_limiter(connection, deadline - clock.monotonic())
    transport = RetryingTransport(limiter, max_rate_wait=rate_wait, deadline=deadline, transport=sending,
                                  sleep=clock.sleep, clock=clock.monotonic)
    http = httpx.Client(base_url=base_url, auth=auth, headers=headers, timeout=TIMEOUT, transport=transport)
    return ProviderSession(config=config, http=http, urls={"api": base_url})
