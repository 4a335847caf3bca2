"""Where the console may connect on a tenant's say-so.

By default the policy refuses loopback, link-local, private, shared (carrier-grade
NAT), unspecified, multicast and reserved addresses, IPv6 forms that embed one of
these (::ffff:127.0.0.1, 6to4, NAT64), and every scheme but http and https. An
allow-list widens it: CIDRs ("10.1.0.0/16", any port) or host:port entries
("127.0.0.1:8100", "warehouse.internal:5432").

Addresses are checked after resolution, when connecting, and the connection goes to
the address that was checked: a name that resolves differently the second time
(DNS rebinding) or an odd spelling of an address (2130706433, 0x7f000001, 127.1)
gains nothing.

    policy = Policy(["127.0.0.1:8100"])
    http = httpx.Client(transport=EgressTransport(policy))   # None: the process policy, current()
    address = policy.allowed_addresses("db.example.com", 5432)[0]   # connect a driver here
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import urlsplit

import httpcore
import httpx

from integrations.base import ConnectionFailed

SCHEMES = ("http", "https")
PRIVATE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
SHARED = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
WIDENS = "(EGRESS_ALLOW widens this)"
HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*")

# rule: (what one such address is, what the console does not connect to)
RULES = {
    "unspecified": ("the unspecified address", "the unspecified address"),
    "loopback": ("a loopback address", "loopback addresses"),
    "link-local": ("a link-local address", "link-local addresses"),
    "multicast": ("a multicast address", "multicast addresses"),
    "private": ("a private address", "private addresses"),
    "shared": ("a shared (carrier-grade NAT) address", "shared addresses"),
    "reserved": ("a reserved address", "reserved or special-purpose addresses"),
}

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class EgressRefused(ConnectionFailed):
    """The policy refuses this destination; nothing was sent to it. `rule` names the rule."""

    def __init__(self, message: str, rule: str, address: str = ""):
        super().__init__(message)
        self.rule = rule
        self.address = address


def system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def numeric_address(host: str) -> Address | None:
    """The address a numeric host stands for, in any spelling the C library accepts
    (2130706433, 0x7f000001, 127.1, ::ffff:127.0.0.1); None for a name. Never asks DNS."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(infos[0][4][0])


def plain_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def unwrapped(address: Address) -> Address:
    """The IPv4 address an IPv4-mapped IPv6 address stands for; others unchanged."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def rule_for(address: Address) -> str | None:
    """The rule that refuses this address, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return rule_for(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if any(address in network for network in PRIVATE if network.version == address.version):
        return "private"
    if address in SHARED:
        return "shared"
    if address.is_reserved or getattr(address, "is_site_local", False) or not address.is_global:
        return "reserved"
    return None


def parse_entry(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | tuple[str, int]:
    """A CIDR (or a single address) as a network, or host:port as (host, port)."""
    text = entry.strip()
    try:
        return ipaddress.ip_network(text.strip("[]"), strict=False)
    except ValueError:
        pass
    host, _, port = text.rpartition(":")
    host = plain_host(host)
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or any(c in host for c in "/@ "):
        raise ValueError(f"EGRESS_ALLOW entry {entry!r} is neither a CIDR nor host:port")
    address = numeric_address(host)
    return (str(unwrapped(address)) if address else host, int(port))


def entries(allow: str | Iterable[str]) -> tuple[str, ...]:
    items = allow.split(",") if isinstance(allow, str) else allow
    return tuple(item.strip() for item in items if item and item.strip())


class Policy:
    def __init__(self, allow: str | Iterable[str] = (), resolver: Callable[[str, int], list[str]] | None = None):
        parsed = [parse_entry(entry) for entry in entries(allow)]
        self.networks = [item for item in parsed if not isinstance(item, tuple)]
        self.endpoints = {item for item in parsed if isinstance(item, tuple)}
        self.resolver = resolver

    def allows(self, address: Address, port: int, host: str = "") -> bool:
        if any(address in network for network in self.networks if network.version == address.version):
            return True
        return (str(address), port) in self.endpoints or (plain_host(host), port) in self.endpoints

    def refusal(self, address: Address, port: int, host: str = "") -> EgressRefused | None:
        """Why the policy refuses to connect to address:port (reached as `host`), or None."""
        address = unwrapped(address)
        rule = rule_for(address)
        if rule is None or self.allows(address, port, host):
            return None
        one, many = RULES[rule]
        subject = f"{address} is" if plain_host(host) in ("", str(address)) else f"{host} resolves to {address},"
        return EgressRefused(f"{subject} {one}; this console does not connect to {many} {WIDENS}", rule,
                             str(address))

    def allowed_addresses(self, host: str, port: int) -> list[str]:
        """The addresses `host` resolves to that the policy allows, to connect to instead of
        the name; EgressRefused when there are none. DNS failures raise socket.gaierror."""
        check_port(port)
        host = checked_name(host)
        allowed, refused = [], None
        for text in (self.resolver or system_resolver)(host, port):
            address = unwrapped(ipaddress.ip_address(text))
            refusal = self.refusal(address, port, host)
            if refusal is None:
                allowed.append(str(address))
            else:
                refused = refused or refusal
        if not allowed:
            raise refused or EgressRefused(f"{host} resolves to no address", "resolution")
        return list(dict.fromkeys(allowed))

    def check_host(self, host: str, port: int):
        """The check made before saving a host: numeric addresses in any spelling and
        localhost names are judged now; other names when they are connected to."""
        check_port(port)
        host = checked_name(host)
        if host == "localhost" or host.endswith(".localhost"):
            candidates = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
        else:
            address = numeric_address(host)
            candidates = [address] if address else []
        refusals = [self.refusal(address, port, host) for address in candidates]
        if candidates and all(refusals):
            raise refusals[0]

    def check_url(self, url: str):
        """The check made before saving a URL: its scheme, then its host as check_host does."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as error:
            raise EgressRefused(f"{url!r} is not a URL ({error})", "url") from None
        check_scheme(parsed.scheme)
        if not parsed.host:
            raise EgressRefused(f"{url!r} names no host", "url")
        self.check_host(parsed.raw_host.decode("ascii"), parsed.port or (443 if parsed.scheme == "https" else 80))


def check_scheme(scheme: str):
    if scheme not in SCHEMES:
        shown = f"{scheme}:" if scheme else "a URL without a scheme"
        raise EgressRefused(f"{shown} is not allowed; this console connects only over http and https", "scheme")


def checked_name(host: str) -> str:
    """The host in plain form, if it is an address or a DNS name (not a path, a list or a URL)."""
    host = plain_host(host)
    if not (HOST_NAME.fullmatch(host) or numeric_address(host)):
        raise EgressRefused(f"{host!r} is not a host name or an address", "host")
    return host


def check_port(port):
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise EgressRefused(f"{port!r} is not a port number (1 to 65535)", "port")


# ---- the process policy -------------------------------------------------------------------

_allow_list: Callable[[], str | Iterable[str]] = lambda: os.environ.get("EGRESS_ALLOW", "")


def exact_entry(address: str) -> str:
    """The host:port entry that opens exactly one server, given its URL or host:port."""
    parts = urlsplit(address if "://" in address else f"//{address}")
    return f"{parts.hostname}:{parts.port}"


def allow_in_environment(*addresses: str) -> None:
    """Open these servers to this process and the processes it starts (benchmarks, demos)."""
    allowed = list(entries(os.environ.get("EGRESS_ALLOW", "")))
    allowed += [entry for entry in map(exact_entry, addresses) if entry not in allowed]
    os.environ["EGRESS_ALLOW"] = ",".join(allowed)


def use(allow_list: Callable[[], str | Iterable[str]]):
    """Where current() reads the allow-list from (the console passes its settings)."""
    global _allow_list
    _allow_list = allow_list


def current() -> Policy:
    """The policy of this process, from EGRESS_ALLOW unless use() said otherwise."""
    return _policy(entries(_allow_list()))


def checked_address(host: str, port: int) -> str:
    """The address to connect a driver to for host:port, as the process policy allows."""
    return current().allowed_addresses(host, port)[0]


@lru_cache(maxsize=16)
def _policy(allow: tuple[str, ...]) -> Policy:
    return Policy(allow)


# ---- httpx ----------------------------------------------------------------------------------


class CheckedBackend(httpcore.NetworkBackend):
    """httpcore's network backend with the policy applied to every TCP connection it opens."""

    def __init__(self, policy: Policy | None = None):
        self.policy = policy
        self.inner = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        policy = self.policy or current()
        try:
            addresses = policy.allowed_addresses(host, port)
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        failure = None
        for address in addresses:
            try:
                return self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise EgressRefused("Unix sockets are not allowed; this console connects only over http and https",
                            "scheme")

    def sleep(self, seconds):
        self.inner.sleep(seconds)


class EgressTransport(httpx.HTTPTransport):
    """An httpx transport that refuses what the policy refuses: other schemes before
    sending, addresses as it connects. A followed redirect connects through here too."""

    def __init__(self, policy: Policy | None = None):
        super().__init__(trust_env=False)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
        self._pool = httpcore.ConnectionPool(  # httpx's own pool, on the checked backend
            ssl_context=httpx.create_ssl_context(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=CheckedBackend(policy),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_scheme(request.url.scheme)
        return super().handle_request(request)
