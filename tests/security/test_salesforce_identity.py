"""The identity URL a Salesforce token response names (read after OAuth for the user and
the instance) is the tenant's: pointed at metadata, private or the console's own loopback
ports, the check is refused before any connect and stores nothing from it."""

import pytest

from console.connections import services
from console.connections.models import ConnectionStatus
from tests.sandbox.connections import sandbox_connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("identity", [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.7/id/00D/005",
    "http://127.0.0.1:6379/id/00D/005",  # loopback, but no port the egress policy opened
])
def test_an_identity_url_off_limits_is_refused_before_connecting(organization, settings, sandbox, identity):
    settings.SANDBOX_URL = sandbox.url
    connection = sandbox_connection(organization, "salesforce", {
        "domain": "acme.my.salesforce.com", "connect_mode": "api", "oauth_access_token": "sandbox-api-key",
        "oauth_refresh_token": "unused", "oauth_id": identity})

    checked = services.check_connection(connection)
    assert checked.status == ConnectionStatus.UNHEALTHY
    host = identity.split("/")[2].split(":")[0]
    assert checked.status_message.startswith(f"{host} is a ") and "this console does not connect to" in \
        checked.status_message
    connection.refresh_from_db()
    assert "username" not in connection.configuration and "instance_url_override" not in connection.configuration
