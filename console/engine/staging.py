"""The engine's per-batch bookkeeping in a few set-based statements.

A run touches the database for every batch of thousands of rows: which of their
identities it has seen already, what the target last accepted for them, and the
states of each written chunk. The ORM's IN lists of thousands of placeholders
and model instances per row cost more than the statements themselves, so these
pass the identities as one array (PostgreSQL) or one JSON text (SQLite).
"""

import json

from django.db import connection
from django.utils import timezone

from console.syncs.models import RecordState

from .models import RunIdentity

STATE_COLUMNS = ("identity", "fingerprint", "target_id", "last_execution_id", "last_action")


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def each_key() -> str:
    """A subquery of the keys given as the statement's next parameter."""
    return "SELECT unnest(%s::text[])" if on_postgresql() else "SELECT value FROM json_each(%s)"


def key_list(keys: list[str]):
    return list(keys) if on_postgresql() else json.dumps(list(keys))


def db_value(model, field: str, value):
    return model._meta.get_field(field).get_db_prep_value(value, connection)


def first_sightings(execution_id, keys: list[str]) -> set[str]:
    """Records the identities as read by this execution; returns those it had not read before."""
    if not keys:
        return set()
    table = RunIdentity._meta.db_table
    source = "unnest(%s::text[]) AS keys(value)" if on_postgresql() else "json_each(%s)"
    sql = (f"INSERT INTO {table} (execution_id, identity) SELECT %s, value FROM {source} "
           "WHERE true ON CONFLICT DO NOTHING RETURNING identity")
    with connection.cursor() as cursor:
        cursor.execute(sql, [db_value(RunIdentity, "execution", execution_id), key_list(keys)])
        return {row[0] for row in cursor.fetchall()}


def accepted_states(sync_id, keys: list[str]) -> dict[str, tuple]:
    """identity -> (identity, fingerprint, target_id, last_execution_id, last_action)."""
    if not keys:
        return {}
    table = RecordState._meta.db_table
    sql = (f"SELECT {', '.join(STATE_COLUMNS)} FROM {table} "
           f"WHERE sync_id = %s AND identity IN ({each_key()})")
    execution_field = RecordState._meta.get_field("last_execution_id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [db_value(RecordState, "sync", sync_id), key_list(keys)])
        return {
            row[0]: (row[0], row[1], row[2],
                     execution_field.to_python(row[3]) if row[3] is not None else None, row[4])
            for row in cursor.fetchall()
        }


def save_states(sync_id, states: list[dict]):
    """Upserts what the target accepted: dicts of the STATE_COLUMNS."""
    if not states:
        return
    table = RecordState._meta.db_table
    columns = ("sync_id", *STATE_COLUMNS, "updated_at")
    updated = ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
    sync = db_value(RecordState, "sync", sync_id)
    now = db_value(RecordState, "updated_at", timezone.now())
    values = {column: [s[column] for s in states] for column in STATE_COLUMNS}
    values["last_execution_id"] = [db_value(RecordState, "last_execution_id", v)
                                   for v in values["last_execution_id"]]
    with connection.cursor() as cursor:
        if on_postgresql():
            # one statement for the whole chunk: a row per position of the arrays
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                "SELECT %s, * , %s FROM unnest(%s::text[], %s::text[], %s::text[], %s::uuid[], %s::text[]) "
                f"ON CONFLICT (sync_id, identity) DO UPDATE SET {updated}",
                [sync, now, *(values[c] for c in STATE_COLUMNS)])
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
                f"ON CONFLICT (sync_id, identity) DO UPDATE SET {updated}",
                [(sync, *row, now) for row in zip(*(values[c] for c in STATE_COLUMNS))])
