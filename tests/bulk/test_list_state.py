"""The bulk sync list shows state (last real run's status, time and counts, next run), and bulk
syncs are in the navigation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from console.bulk import services
from console.bulk.models import BulkExecution
from console.engine.models import ExecutionStatus

pytestmark = pytest.mark.django_db


def test_last_run_and_next_run_and_the_navigation(console, organization, fake_source, salesforce,
                                                   sqlite_destination):
    sync = services.create_bulk_sync(organization, {
        "name": "Contacts", "source_connection_id": str(salesforce.pk),
        "destination_connection_id": str(sqlite_destination.pk), "destination_configuration": {"schema": "sf"},
        "default_schedule": {"frequency": "manual"}, "schemas": [{"id": "Contact"}]})
    never = console.get("/bulk").content.decode()
    assert "never run" in never
    assert '<a href="/bulk" aria-current="page">Bulk syncs</a>' in never
    BulkExecution.objects.create(sync=sync, status=ExecutionStatus.COMPLETED, is_test=True, record_count=1)
    BulkExecution.objects.create(sync=sync, status=ExecutionStatus.FAILED, record_count=120, error_count=2,
                                 completed_at=timezone.now() - timedelta(minutes=5))
    sync.__class__.objects.filter(pk=sync.pk).update(active=True, next_run_at=timezone.now() + timedelta(days=2, hours=6))

    row = console.get("/bulk").content.decode().split(">Contacts</a>")[1].split("</tr>")[0]

    assert f'href="/bulk/{sync.pk}/runs"' in row and ">failed<" in row
    assert "5\xa0minutes ago" in row and "120 records · 2 errors" in row, "the test run is not the last run"
    assert "in 2\xa0days" in row
    assert '<a href="/bulk" >Bulk syncs</a>' in console.get("/syncs").content.decode()
