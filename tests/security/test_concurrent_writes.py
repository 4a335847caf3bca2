"""Writers racing each other get answers, not 500s: sixteen clients update one bulk sync at
once, ten times each, on the console as `make run` serves it. On SQLite a transaction that
reads before it writes used to fail at once with "database is locked"; transactions now take
the write lock when they begin and wait their turn."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from console.bulk.models import BulkSync
from tests.trust.conftest import one_of_each

pytestmark = pytest.mark.django_db(transaction=True)
CLIENTS, WRITES = 16, 10


def test_concurrent_updates_of_one_sync_all_succeed(serve_console, organization, api_key):
    sync = BulkSync.objects.get(pk=one_of_each(organization)["bulk"])
    url = serve_console(API_RATE_LIMIT_PER_MINUTE="100000")
    body = {"source_connection_id": str(sync.source_connection_id),
            "destination_connection_id": str(sync.destination_connection_id),
            "destination_configuration": {"schema": "copies"}, "default_schedule": {"frequency": "manual"},
            "schemas": []}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60) as client:

        def writes(writer: int) -> list[int]:
            return [client.put(f"/api/bulk/syncs/{sync.pk}", json={**body, "name": f"Copy {writer}.{n}"}).status_code
                    for n in range(WRITES)]

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = Counter(status for done in pool.map(writes, range(CLIENTS)) for status in done)

    assert statuses == {200: CLIENTS * WRITES}
    sync.refresh_from_db()
    assert sync.name.startswith("Copy ") and sync.destination_configuration["schema"] == "copies"
