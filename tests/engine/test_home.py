"""The home page answers "is anything wrong?": failing syncs, runs in progress, connections to
fix and records rejected in the last 24 hours, each linking to where it is fixed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from console.connections.models import Connection, ConnectionStatus
from console.engine.models import Execution, ExecutionStatus, RecordError
from tests.engine.conftest import data_model, make_sync, target_connection, warehouse  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_a_quiet_organization_sees_nothing_to_fix(console, make_sync):
    sync = make_sync()
    Execution.objects.create(sync=sync, status=ExecutionStatus.COMPLETED, queried=3, inserted=3)
    body = console.get("/").content.decode()
    assert 'id="all-clear"' in body
    assert 'id="failing"' not in body and 'id="running"' not in body


def test_failing_running_broken_and_rejected_each_link_to_the_fix(console, organization, make_sync):
    failed_sync = make_sync(name="Leads to CRM")
    old = Execution.objects.create(sync=failed_sync, status=ExecutionStatus.COMPLETED)
    Execution.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))
    failed = Execution.objects.create(sync=failed_sync, status=ExecutionStatus.FAILED, error="Token expired")
    rejecting_sync = make_sync(name="Accounts to CRM")
    rejecting = Execution.objects.create(sync=rejecting_sync, status=ExecutionStatus.COMPLETED, errored=2)
    for identity in ("a@example.com", "b@example.com"):
        RecordError.objects.create(execution=rejecting, identity=identity, message="blocked")
    stale = RecordError.objects.create(execution=rejecting, identity="c@example.com", message="old")
    RecordError.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(hours=25))
    running_sync = make_sync(name="Contacts to CRM")
    running = Execution.objects.create(sync=running_sync, status=ExecutionStatus.RUNNING, queried=40, inserted=7)
    dry = make_sync(name="Tried only")
    Execution.objects.create(sync=dry, status=ExecutionStatus.FAILED, dry_run=True)
    broken = Connection.objects.create(organization=organization, name="Salesloft", type="salesloft",
                                       status=ConnectionStatus.NEEDS_RECONNECT,
                                       status_message="The refresh token was revoked.")

    body = console.get("/").content.decode()

    assert 'id="all-clear"' not in body
    failing = body.split('id="failing"')[1].split("</section>")[0]
    assert f'href="/syncs/{failed_sync.pk}/runs/{failed.pk}"' in failing and "Token expired" in failing
    assert f'href="/syncs/{rejecting_sync.pk}/runs/{rejecting.pk}"' in failing and "2 rejected" in failing
    assert "Tried only" not in body, "a dry run is no sync's last run"
    in_progress = body.split('id="running"')[1].split("</section>")[0]
    assert f'href="/syncs/{running_sync.pk}/runs/{running.pk}"' in in_progress
    assert "40 read, 7 written" in in_progress and "<progress" in in_progress
    connections = body.split('id="broken-connections"')[1].split("</section>")[0]
    assert f'href="/connections/{broken.pk}"' in connections and "The refresh token was revoked." in connections
    rejected = body.split('id="rejected"')[1].split("</section>")[0]
    assert "2 records rejected in the last 24 hours" in rejected
    assert f'href="/syncs/{rejecting_sync.pk}/runs"' in rejected
