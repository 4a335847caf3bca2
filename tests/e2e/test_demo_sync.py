"""The demo organization's seeded cadence sync runs as it is."""

import pytest
from django.core.management import call_command
from django.test import Client

from console.accounts.models import Organization
from console.accounts.services import create_api_key
from console.connections.models import Connection
from console.connections.services import check_connection
from console.syncs.models import Sync

from .conftest import ROWS, Api
from .test_seed_000 import enrolled, people

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_seed_demo_makes_a_cadence_sync_ready_to_run(e2e, tmp_path, settings):
    settings.VAR_DIR = tmp_path  # the demo's SQLite warehouse file goes here
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    organization = Organization.objects.get(name="Demo Company")
    [sync] = Sync.objects.filter(organization=organization, target_object="cadence:10")
    _, key = create_api_key(organization, "e2e")
    api = Api(Client(headers={"Authorization": f"Bearer {key}"}))

    run = api.run(sync.pk)
    assert run["status"] == "completed", run
    assert run["counts"]["inserted"] == ROWS
    assert len(people(e2e)) == ROWS and len(enrolled(e2e)) == ROWS


def test_seed_demo_provider_connections_pass_their_check(e2e, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    organization = Organization.objects.get(name="Demo Company")
    names = ["Salesloft (sandbox)", "Gong (sandbox)", "HubSpot (sandbox)", "Snowflake Connection", "Demo SQLite"]
    for name in names:
        connection = check_connection(Connection.objects.get(organization=organization, name=name))
        assert connection.status == "healthy", (name, connection.status_message)
