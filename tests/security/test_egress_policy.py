"""The egress policy (integrations/egress.py) on its own: what it refuses, in every spelling,
and that a refusal comes before any connection (the `trap` port counts connections).
Non-loopback addresses are only ever refused here; the suite's guard would stop a connect."""

from urllib.parse import urlsplit

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured

from console import egress as console_egress
from console.connections.services import ConfigurationInvalid, clean_configuration
from console.engine import notifications
from console.engine.forms import NotificationsForm
from console.engine.models import Event, Webhook
from integrations import catalogue, egress
from integrations.base import ConnectionFailed
from integrations.egress import CheckedBackend, EgressRefused, EgressTransport, Policy
from integrations.warehouses.mysql import MySQLSource
from integrations.warehouses.postgresql import PostgresSource
from integrations.warehouses.snowflake import SnowflakeSource

LOOPBACK = ["127.0.0.1", "127.1", "2130706433", "0x7f000001", "017700000001", "127.255.255.254",
            "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "localhost", "LOCALHOST.", "0", "0.0.0.0"]
OFF_MACHINE = [  # (host as written in a URL, the rule)
    ("169.254.169.254", "link-local"), ("2852039166", "link-local"), ("0xa9fea9fe", "link-local"),
    ("[fe80::1]", "link-local"), ("[::ffff:169.254.169.254]", "link-local"), ("[64:ff9b::a9fe:a9fe]", "link-local"),
    ("[2002:a9fe:a9fe::]", "link-local"), ("10.0.0.1", "private"), ("172.16.0.1", "private"),
    ("172.31.255.255", "private"), ("192.168.1.1", "private"), ("[fd00::1]", "private"), ("[fc00::1]", "private"),
    ("[::ffff:10.0.0.1]", "private"), ("100.64.0.1", "shared"), ("[::]", "unspecified"), ("224.0.0.1", "multicast"),
    ("[ff02::1]", "multicast"), ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"), ("[fec0::1]", "reserved"),
    ("192.0.2.10", "reserved"),
]


def client(policy: Policy, **options) -> httpx.Client:
    return httpx.Client(transport=EgressTransport(policy), timeout=5, **options)


def host_port(url: str) -> str:
    return urlsplit(url).netloc


@pytest.mark.parametrize("host", LOOPBACK)
def test_loopback_in_every_spelling_is_refused_before_connecting(trap, host):
    with pytest.raises(EgressRefused) as refused:
        Policy().check_url(f"http://{host}:{trap.port}/")
    assert refused.value.rule in ("loopback", "unspecified")
    with client(Policy()) as http, pytest.raises(EgressRefused) as at_connect:
        http.get(f"http://{host}:{trap.port}/")
    assert at_connect.value.rule == refused.value.rule
    assert "(EGRESS_ALLOW widens this)" in str(at_connect.value)
    assert trap.connections == 0


@pytest.mark.parametrize("host", ["0177.0.0.1", "0x7f.1", "127.0.1", "::1", "::ffff:127.0.0.1", "localhost"])
def test_loopback_hosts_of_warehouse_fields_are_refused_in_every_spelling(host):
    with pytest.raises(EgressRefused) as refused:
        Policy().check_host(host, 5432)
    assert refused.value.rule == "loopback"


@pytest.mark.parametrize("host", ["/var/run/postgresql", "db1,db2", "db.example.com/x", "host name", "evil.example#"])
def test_a_host_field_holds_a_host_and_nothing_else(host):
    policy = Policy(["0.0.0.0/0"], resolver=lambda name, port: pytest.fail(f"{name!r} was resolved"))
    for check in (policy.check_host, policy.allowed_addresses):
        with pytest.raises(EgressRefused) as refused:
            check(host, 5432)
        assert (refused.value.rule, str(refused.value)) == ("host", f"{host!r} is not a host name or an address")


def test_the_message_names_the_rule_and_the_address():
    with pytest.raises(EgressRefused) as refused:
        Policy().check_url("http://127.0.0.1:6379/")
    assert str(refused.value) == ("127.0.0.1 is a loopback address; this console does not connect to loopback "
                                  "addresses (EGRESS_ALLOW widens this)")
    with pytest.raises(EgressRefused) as spelled:
        Policy().check_url("http://0x7f000001/")
    assert str(spelled.value).startswith("0x7f000001 resolves to 127.0.0.1, a loopback address;")


@pytest.mark.parametrize("host, rule", OFF_MACHINE)
def test_metadata_private_and_other_special_addresses_are_refused(host, rule):
    with pytest.raises(EgressRefused) as refused:
        Policy().check_url(f"http://{host}/latest/meta-data/")
    assert refused.value.rule == rule
    with client(Policy()) as http, pytest.raises(EgressRefused) as at_connect:
        http.get(f"http://{host}/latest/meta-data/")
    assert at_connect.value.rule == rule


@pytest.mark.parametrize("address", ["93.184.216.34", "::ffff:93.184.216.34", "2606:4700::1111", "8.8.8.8"])
def test_public_addresses_pass(address):
    import ipaddress

    assert Policy().refusal(ipaddress.ip_address(address), 443) is None


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "dict://127.0.0.1:6379/",
                                 "ftp://127.0.0.1/", "ws://127.0.0.1/", "javascript:alert(1)",
                                 "data:text/plain,hello", "//127.0.0.1/", "127.0.0.1:8100"])
def test_schemes_other_than_http_and_https_are_refused(url):
    with pytest.raises(EgressRefused) as refused:
        Policy(["127.0.0.0/8"]).check_url(url)
    assert refused.value.rule == "scheme"


def test_other_schemes_are_refused_by_the_transport_too(trap):
    for url in (f"ws://127.0.0.1:{trap.port}/", f"ftp://127.0.0.1:{trap.port}/", "file:///etc/passwd"):
        with client(Policy([f"127.0.0.1:{trap.port}"])) as http, pytest.raises(EgressRefused) as refused:
            http.get(url)
        assert refused.value.rule == "scheme"
    assert trap.connections == 0


def test_a_port_out_of_range_is_refused():
    for port in (0, 65536, 99999):
        with pytest.raises(EgressRefused, match="is not a port number"):
            Policy(["0.0.0.0/0"]).allowed_addresses("127.0.0.1", port)


def test_unix_sockets_are_refused():
    with pytest.raises(EgressRefused, match="Unix sockets are not allowed"):
        CheckedBackend(Policy(["0.0.0.0/0"])).connect_unix_socket("/var/run/postgresql/.s.PGSQL.5432")


def test_a_name_that_rebinds_to_loopback_is_refused_when_connecting(trap):
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    policy = Policy(resolver=lambda host, port: next(answers))
    assert policy.allowed_addresses("rebind.test", trap.port) == ["93.184.216.34"]  # what a check up front saw
    with client(policy) as http, pytest.raises(EgressRefused) as refused:
        http.get(f"http://rebind.test:{trap.port}/")
    assert str(refused.value).startswith("rebind.test resolves to 127.0.0.1, a loopback address")
    assert trap.connections == 0


def test_a_name_answering_public_and_loopback_addresses_keeps_only_the_public_one():
    policy = Policy(resolver=lambda host, port: ["127.0.0.1", "93.184.216.34", "::1"])
    assert policy.allowed_addresses("mixed.test", 443) == ["93.184.216.34"]


def test_the_connection_goes_to_the_address_that_was_checked(http_receiver):
    port = urlsplit(http_receiver.url).port
    asked = []
    policy = Policy([f"127.0.0.1:{port}"], resolver=lambda host, p: asked.append(host) or ["127.0.0.1"])
    with client(policy) as http:
        assert http.get(f"http://tenant.test:{port}/hello").status_code == 200
    assert asked == ["tenant.test"]  # resolved once, by the policy: the name never reached the system resolver
    [request] = http_receiver.requests
    assert (request.path, request.headers["host"]) == ("/hello", f"tenant.test:{port}")


def test_a_redirect_to_loopback_is_refused_before_connecting(http_receiver, trap):
    http_receiver.answer(302, headers={"Location": f"http://127.0.0.1:{trap.port}/"})
    with client(Policy([host_port(http_receiver.url)]), follow_redirects=True) as http:
        with pytest.raises(EgressRefused, match="127.0.0.1 is a loopback address"):
            http.get(f"{http_receiver.url}/start")
        for elsewhere in ("file:///etc/passwd", f"gopher://127.0.0.1:{trap.port}/", "http://2130706433:6379/"):
            http_receiver.answer(307, headers={"Location": elsewhere})
            with pytest.raises(EgressRefused):
                http.get(f"{http_receiver.url}/again")
    assert trap.connections == 0
    assert [r.path for r in http_receiver.requests] == ["/start", "/again", "/again", "/again"]


def test_the_allow_list_widens_by_host_and_port(http_receiver, trap):
    port = urlsplit(http_receiver.url).port
    with client(Policy([f"127.0.0.1:{port}"])) as http:
        assert http.get(f"{http_receiver.url}/ok").status_code == 200
        assert http.get(f"http://2130706433:{port}/spelled").status_code == 200  # the same address
        with pytest.raises(EgressRefused):
            http.get(f"http://127.0.0.1:{trap.port}/")  # the same host, another port
    with client(Policy([f"localhost:{port}"])) as http:
        assert http.get(f"http://localhost:{port}/named").status_code == 200
        with pytest.raises(EgressRefused):
            http.get(f"http://127.0.0.1:{port}/")  # a name entry allows the name only
    assert trap.connections == 0
    assert [r.path for r in http_receiver.requests] == ["/ok", "/spelled", "/named"]


def test_the_allow_list_widens_by_cidr():
    import ipaddress

    policy = Policy(["10.0.0.0/8", "fd00::/8", "169.254.169.254"])
    for address in ("10.1.2.3", "fd00::5", "169.254.169.254", "::ffff:10.9.9.9"):
        assert policy.refusal(ipaddress.ip_address(address), 80) is None
    for address in ("192.168.1.1", "127.0.0.1", "169.254.169.253", "fc00::1"):
        assert policy.refusal(ipaddress.ip_address(address), 80) is not None


def test_allow_list_entries():
    assert Policy("127.0.0.1:8100, [::1]:8200,Warehouse.Internal:5432,10.0.0.0/8").endpoints == {
        ("127.0.0.1", 8100), ("::1", 8200), ("warehouse.internal", 5432)}
    for entry in ("nonsense", "127.0.0.1:0", "127.0.0.1:99999", "http://x:80/", "10.0.0.0/33", "host:port"):
        with pytest.raises(ValueError, match="EGRESS_ALLOW entry"):
            Policy([entry])


def test_the_process_policy_follows_the_setting(settings):
    settings.EGRESS_ALLOW = ["127.0.0.1:8100"]
    assert egress.current().endpoints == {("127.0.0.1", 8100)}
    settings.EGRESS_ALLOW = []
    assert egress.current().endpoints == set()
    settings.EGRESS_ALLOW = ["not an entry"]
    with pytest.raises(ImproperlyConfigured, match="'not an entry' is neither a CIDR nor host:port"):
        console_egress.install()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1", "localhost", "::ffff:127.0.0.1"])
def test_warehouse_hosts_are_refused_before_connecting(settings, trap, host):
    settings.EGRESS_ALLOW = []
    endpoint = f"http://[{host}]:{trap.port}" if ":" in host else f"http://{host}:{trap.port}"
    sources = [
        PostgresSource({"hostname": host, "port": trap.port, "database": "d", "username": "u", "password": "p"}),
        MySQLSource({"hostname": host, "port": trap.port, "database": "d", "username": "u", "password": "p"}),
        SnowflakeSource({"account": "xy12345", "username": "u", "password": "p", "dbname": "d"}, endpoint=endpoint),
    ]
    for source in sources:
        with pytest.raises(EgressRefused, match="a loopback address"):
            source.check()
    assert trap.connections == 0


def test_a_snowflake_account_cannot_steer_the_host():
    kind = catalogue.get("snowflake")
    for account in ("evil.example/x#", "a@169.254.169.254", "xy12345.snowflakecomputing.com:443?", " x"):
        assert [field for field, _ in kind.problems({"account": account, "password": "p"})] == ["account"]
        source = SnowflakeSource({"account": account, "username": "u", "password": "p", "dbname": "d"})
        with pytest.raises(ConnectionFailed, match="account identifier may hold only"):
            source.check()
    assert kind.problems({"account": "myorg-my_account.eu-west-1.aws", "password": "p"}) == []


@pytest.mark.parametrize("type_id, configuration, field, says", [
    ("httpapi", {"url": "http://127.0.0.1:6379/"}, "configuration.url", "127.0.0.1 is a loopback address"),
    ("httpapi", {"url": "https://hooks.example.com/", "healthcheck": "http://169.254.169.254/latest"},
     "configuration.healthcheck", "169.254.169.254 is a link-local address"),
    ("httpapi", {"url": "https://hooks.example.com/", "healthcheck": "file:///etc/passwd"},
     "configuration.healthcheck", "file: is not allowed"),
    ("postgresql", {"hostname": "10.0.0.7", "database": "d", "username": "u"}, "configuration.hostname",
     "10.0.0.7 is a private address"),
    ("mysql", {"hostname": "[::1]", "database": "d", "username": "u"}, "configuration.hostname",
     "::1 is a loopback address"),
    ("salesforce", {"domain": "192.168.0.1:8443", "connect_mode": "browser"}, "configuration.domain",
     "192.168.0.1 is a private address"),
])
def test_saving_a_refused_address_names_the_field_and_the_rule(settings, type_id, configuration, field, says):
    settings.EGRESS_ALLOW = []
    with pytest.raises(ConfigurationInvalid) as invalid:
        clean_configuration(catalogue.get(type_id), configuration)
    [(named, message)] = invalid.value.errors
    assert named == field and message.startswith(says)


def test_the_port_of_a_host_field_comes_from_the_configuration(settings):
    settings.EGRESS_ALLOW = ["127.0.0.1:15432"]
    kind = catalogue.get("postgresql")
    clean_configuration(kind, {"hostname": "127.0.0.1", "port": 15432, "database": "d", "username": "u"})
    with pytest.raises(ConfigurationInvalid, match="loopback"):
        clean_configuration(kind, {"hostname": "127.0.0.1", "database": "d", "username": "u"})  # 5432


def test_the_console_webhook_form_refuses_an_address(settings):
    settings.EGRESS_ALLOW = []
    form = NotificationsForm(data={"endpoint": "http://169.254.169.254/hook", "secret": "s", "enabled": "on",
                                   "emails": ""})
    assert not form.is_valid()
    assert form.errors["endpoint"] == ["169.254.169.254 is a link-local address; this console does not connect to "
                                       "link-local addresses (EGRESS_ALLOW widens this)"]


@pytest.mark.django_db
def test_a_webhook_stored_with_a_refused_address_is_not_sent(organization, settings, trap):
    settings.EGRESS_ALLOW = []
    webhook = Webhook(organization=organization, endpoint=f"http://127.1:{trap.port}/hook")
    webhook.secret = "signing-secret"
    webhook.save()
    event = Event.objects.create(organization=organization, type="sync.completed", payload={"sync_id": "s"})
    delivery = notifications.deliver(event)
    assert not delivery.success and delivery.status_code is None
    assert delivery.error.startswith("Not sent: 127.1 resolves to 127.0.0.1, a loopback address")
    assert trap.connections == 0
