"""The engine's per-batch bookkeeping in a few set-based statements.

A run touches the database for every batch of thousands of rows (which of them
the target does not hold as they are now) and for every written chunk (the
states the target accepted). The batch travels as one JSON parameter, unpacked
by the database (json_each on SQLite, the json functions on PostgreSQL),
instead of IN lists of thousands of placeholders and a model instance per row.
"""

import json
from typing import NamedTuple
from uuid import UUID

from django.db import connection
from django.utils import timezone

from console.engine.models import RecordState

STATE_COLUMNS = ("identity", "fingerprint", "target_id", "last_execution_id", "last_action")


class TargetState(NamedTuple):
    """What the target holds for an identity, as recorded when it last accepted a write."""

    fingerprint: str  # "" once removed
    target_id: str
    last_execution_id: UUID | None
    last_action: str


class StoredState(NamedTuple):
    """One of a sync's states, read page by page when looking for records gone from the model."""

    pk: int
    identity: str
    fingerprint: str
    target_id: str
    last_execution_id: UUID | None
    last_action: str


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def db_value(model, field: str, value):
    return model._meta.get_field(field).get_db_prep_value(value, connection)


def accepted(sync_id, execution_id) -> set[int]:
    """hash() of every fingerprint the target holds for the sync, except those this execution
    wrote: a resumed run looks those up, to count what its earlier attempt did."""
    states = RecordState.objects.filter(sync_id=sync_id).exclude(fingerprint="")
    sql, params = states.exclude(last_execution_id=execution_id).values_list("fingerprint").query.sql_with_params()
    with connection.cursor() as cursor:
        if on_postgresql():  # rows as the server sends them, a chunk at a time
            return {hash(row[0]) for row in cursor.cursor.stream(sql, params, size=20000)}
        cursor.execute(sql, params)
        return {hash(row[0]) for rows in iter(lambda: cursor.fetchmany(20000), []) for row in rows}


def states_to_plan(sync_id, execution_id, fingerprints: dict[str, str],
                   skip_unchanged: bool) -> dict[str, TargetState | None]:
    """identity -> its TargetState, or None when the target holds nothing for it yet.

    With skip_unchanged, identities the target already holds with the same fingerprint
    are left out (the caller counts them unchanged), unless this execution wrote them
    (a resumed run counts what its earlier attempt did)."""
    if not fingerprints:
        return {}
    table = RecordState._meta.db_table
    if on_postgresql():
        # One index probe per key whatever the table's statistics say: right after a first
        # run they still describe an empty table, and a hash join would read every state
        # of the sync for each batch.
        pairs = (f"json_each_text(%s::json) AS k LEFT JOIN LATERAL (SELECT * FROM {table} "
                 "WHERE sync_id = %s AND identity = k.key LIMIT 1) s ON true")
    else:
        pairs = f"json_each(%s) AS k LEFT JOIN {table} s ON s.sync_id = %s AND s.identity = k.key"
    sql = f"SELECT k.key, s.fingerprint, s.target_id, s.last_execution_id, s.last_action FROM {pairs}"
    params = [json.dumps(fingerprints), db_value(RecordState, "sync", sync_id)]
    if skip_unchanged:
        sql += " WHERE s.identity IS NULL OR s.fingerprint <> k.value OR s.last_execution_id = %s"
        params.append(db_value(RecordState, "last_execution_id", execution_id))
    execution_field = RecordState._meta.get_field("last_execution_id")
    make = TargetState._make  # about twice as fast as calling TargetState(...), once a row
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            key: None if fingerprint is None else
            make((fingerprint, target_id, execution_field.to_python(last) if last is not None else None, action))
            for key, fingerprint, target_id, last, action in cursor.fetchall()
        }


def states_after(sync_id, pk: int, size: int) -> list[StoredState]:
    """The next `size` states of the sync whose pk is above `pk`, in pk order."""
    page = RecordState.objects.filter(sync_id=sync_id, pk__gt=pk).order_by("pk").values_list(*StoredState._fields)
    return [StoredState._make(row) for row in page[:size]]


def save_states(sync_id, states: list[dict]):
    """Upserts what the target accepted: dicts of the STATE_COLUMNS."""
    if not states:
        return
    table = RecordState._meta.db_table
    columns = ("sync_id", *STATE_COLUMNS, "updated_at")
    updated = ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
    executions = {}  # the execution ids as the column stores them, converted once
    for state in states:
        last = state["last_execution_id"]
        if last not in executions:
            value = db_value(RecordState, "last_execution_id", last)
            executions[last] = None if value is None else str(value)
    rows_json = json.dumps([{**state, "last_execution_id": executions[state["last_execution_id"]]}
                            for state in states])
    if on_postgresql():
        rows = ("json_to_recordset(%s::json) AS s(identity text, fingerprint text, target_id text, "
                "last_execution_id uuid, last_action text)")
        picked = ", ".join(f"s.{c}" for c in STATE_COLUMNS)
    else:
        rows = "json_each(%s) AS s"
        picked = ", ".join(f"json_extract(s.value, '$.{c}')" for c in STATE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT %s, {picked}, %s FROM {rows} "
            f"WHERE true ON CONFLICT (sync_id, identity) DO UPDATE SET {updated}",
            [db_value(RecordState, "sync", sync_id), db_value(RecordState, "updated_at", timezone.now()),
             rows_json])
