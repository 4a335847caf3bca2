"""An HTTP API target's requests before a run: the ones the model's first rows would
produce (a dry run, nothing sent) and a test send of one chosen row.

Requests are shown as the writer builds them, the connection's header values masked.
The endpoint's answer is given as status and reason only, never its body: the
endpoint is any host, and what it echoes may hold the secrets just sent to it.
"""

import httpx

from console.api.errors import ApiError, field_error
from console.connections import probes
from console.connections.sessions import provider_session
from console.datamodels.services import sample
from console.engine.mapping import Mapping, MappingError, RowMapper
from integrations.base import ConnectorError, WriteSpec
from integrations.writers import make_writer

from .models import Sync

SAMPLE_ROWS = 3
MAX_SAMPLE_ROWS = 10


def previewable(sync: Sync) -> bool:
    return sync.target_connection.type == "httpapi"


def sample_records(sync: Sync, rows: int) -> tuple[list, list[dict]]:
    """(records, skipped): the model's first rows as the sync would send them."""
    if not previewable(sync):
        raise ApiError(400, "Sample requests are shown for HTTP API targets only.", key="not_http_target")
    if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= MAX_SAMPLE_ROWS:
        raise field_error("rows", f"must be a whole number from 1 to {MAX_SAMPLE_ROWS}")
    mapper = RowMapper(Mapping.from_sync(sync.identity, sync.fields, sync.override_fields))
    records, skipped = [], []
    try:
        for index, row in enumerate(sample(sync.model, rows)):
            mapped = mapper(row)
            if mapped.problem:
                skipped.append({"row": index, "error": mapped.problem})
            records.append(mapped.record)
    except MappingError as error:
        raise ApiError(400, str(error), key="mapping_error") from None
    return records, skipped


def open_writer(sync: Sync, deadline: float | None = None):
    session = provider_session(sync.target_connection, deadline=deadline)
    spec = WriteSpec(object_id=sync.target_object, mode=sync.mode, identity_field=(sync.identity or {}).get("target"),
                     configuration=sync.target_configuration or {})
    try:
        return make_writer(sync.target_connection.type, session, spec)
    except ConnectorError as error:
        session.http.close()
        raise ApiError(400, str(error), key="invalid_target_configuration") from None


def preview(sync: Sync, rows: int = SAMPLE_ROWS) -> dict:
    """The requests the model's first `rows` rows would produce; nothing is sent."""
    records, skipped = sample_records(sync, rows)
    writer = open_writer(sync)
    try:
        planned, refused = writer.requests(records)
    finally:
        writer.http.close()
    skipped += [{"row": index, "error": why} for index, why in refused.items()]
    return {"requests": [{**writer.shown(request), "rows": list(request.indexes)} for request in planned],
            "skipped": sorted(skipped, key=lambda item: item["row"])}


def send_test(sync: Sync, row: int = 0) -> dict:
    """Sends the request carrying sample row `row` alone; its answer as status and reason."""
    if isinstance(row, bool) or not isinstance(row, int) or not 0 <= row < MAX_SAMPLE_ROWS:
        raise field_error("row", f"must be a whole number from 0 to {MAX_SAMPLE_ROWS - 1}")
    records, _ = sample_records(sync, row + 1)
    if row >= len(records):
        raise field_error("row", f"the model has {len(records)} rows; choose one from 0 to {len(records) - 1}")
    with probes.slot() as deadline:
        writer = open_writer(sync, deadline)
        try:
            shown, response = writer.test_send(records[row])
        except ConnectorError as error:
            raise ApiError(400, str(error), key="test_send_failed") from None
        finally:
            writer.http.close()
    return {"row": row, "request": {**shown, "rows": [row]}, "status": response.status_code,
            "reason": httpx.codes.get_reason_phrase(response.status_code)}
