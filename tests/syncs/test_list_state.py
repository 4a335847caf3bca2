"""The sync list shows state: the last real run's status, time and counts, the next run, and the
target by the name its connection gave it, with the id beside it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from console.engine.models import Execution, ExecutionStatus
from console.targets.models import DiscoveryCache
from tests.engine.conftest import data_model, make_sync, target_connection, warehouse  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

CADENCE = "cadence:10"


def row_of(body: str, name: str) -> str:
    return body.split(f">{name}</a>")[1].split("</tr>")[0]


def test_last_run_next_run_and_target_names(console, target_connection, make_sync):
    DiscoveryCache.objects.create(connection=target_connection, key="objects", refreshed_at=timezone.now(),
                                  data=[{"id": CADENCE, "name": "Spring outreach", "modes": []}])
    named = make_sync(name="Leads to cadence", target_object=CADENCE,
                      next_run_at=timezone.now() + timedelta(days=3, hours=12),
                      schedule={"frequency": "hourly"})
    older = Execution.objects.create(sync=named, status=ExecutionStatus.FAILED)
    Execution.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(hours=2))
    last = Execution.objects.create(sync=named, status=ExecutionStatus.COMPLETED, queried=12, inserted=5,
                                    updated=4, errored=3, completed_at=timezone.now() - timedelta(minutes=3))
    Execution.objects.create(sync=named, status=ExecutionStatus.FAILED, dry_run=True)
    unnamed = make_sync(name="People to CRM")

    body = console.get("/syncs").content.decode()

    row = row_of(body, "Leads to cadence")
    assert '<span class="target-name">Spring outreach</span>' in row and f"<code class=\"muted\">{CADENCE}</code>" in row
    assert f'href="/syncs/{named.pk}/runs/{last.pk}"' in row and ">completed<" in row
    assert "3\xa0minutes ago" in row
    assert "12 read · 9 written · 3 rejected" in row
    assert "in 3\xa0days" in row
    other = row_of(body, unnamed.name)
    assert "<code>people</code>" in other and "target-name" not in other, "no cached name: the id alone"
    assert "never run" in other
