"""The sandbox's memory: a thread-safe JSON document store on one sqlite connection.

Documents live in named collections and always carry an "id" (an int or a
string, as the emulated provider uses). Provider modules see a `Scoped` view
whose collection names are prefixed with the provider name, so Salesforce's
"Contact" and HubSpot's "contacts" never meet; the inspection API reads the
same names as "<provider>/<collection>".

`scratch` is plain in-process memory (rate-limit windows, request counters)
that is cleared together with the documents on reset. `clock` is the sandbox's
time (token lifetimes, rate windows): tests `advance` it instead of sleeping,
and a reset sets it back to real time.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager

import orjson

from integrations.clock import OffsetClock

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    collection TEXT NOT NULL,
    key,
    body TEXT NOT NULL,
    PRIMARY KEY (collection, key)
);
CREATE TABLE IF NOT EXISTS counters (collection TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


MMAP_BYTES = 1 << 30


class NotFound(KeyError):
    pass


def _loads(body: str):
    """A stored document: by orjson (twice as fast), by the json module what orjson refuses (NaN, huge ints)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def _path(field: str) -> str:
    return '$."' + field.replace('"', '""') + '"'


def _where(equals: dict) -> tuple[str, list]:
    clauses, params = [], []
    for field, value in equals.items():
        if field == "id":
            column = "key"
        else:
            column = f"json_extract(body, '{_path(field)}')"
        if value is None:
            clauses.append(f"{column} IS NULL")
        elif isinstance(value, (list, tuple, set)):
            values = list(value)
            if not values:
                clauses.append("0")
                continue
            clauses.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
        elif isinstance(value, dict):
            raise TypeError(f"cannot filter on an object value ({field})")
        else:
            clauses.append(f"{column} = ?")
            params.append(value)
    return (" AND " + " AND ".join(clauses)) if clauses else "", params


def _order(order_by: str, filtered: bool = False) -> str:
    direction = "DESC" if order_by.startswith("-") else "ASC"
    field = order_by.lstrip("-")
    if field == "id":
        # "+key" keeps sqlite from walking the primary key just to save a sort, so that a
        # filter on an indexed field (State.ensure_index) can use its index instead.
        return f"{'+' if filtered else ''}key {direction}"
    # Ties fall back to the id so pages never overlap.
    return f"json_extract(body, '{_path(field)}') {direction}, key {direction}"


class State:
    """All sandbox data. Every method may be called from any thread.

    `find`, `page` and `count` take keyword equality filters on top-level
    fields; a list/tuple value means "one of". Anything fancier is done by
    the caller on the returned documents.
    """

    def __init__(self, path: str | None = None):
        self.path = path or ":memory:"
        self.lock = threading.RLock()
        self.scratch: dict = {}
        self.clock = OffsetClock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA synchronous=OFF")
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            # Pages read straight from the OS's cache: updates scattered over a large state
            # (a sync's changed records) no longer copy each page in first.
            self._db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        self._db.executescript(SCHEMA)
        self._depth = 0
        self._indexed: set[str] = set()

    # -- transactions -------------------------------------------------

    @contextmanager
    def transaction(self):
        """Group many writes into one sqlite transaction (much faster); nests."""
        with self.lock:
            if self._depth == 0:
                self._db.execute("BEGIN")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("COMMIT")

    def ensure_index(self, field: str):
        """Index a top-level field across all collections so find()/count() on it stop scanning.

        Only documents holding the field are indexed: a write then touches the indexes of its
        own fields, not one entry in every provider's index."""
        name = "".join(c if c.isalnum() else "_" for c in field)
        value = f"json_extract(body, '{_path(field)}')"
        with self.lock:
            self._indexed.add(field)
            self._db.execute(f"DROP INDEX IF EXISTS \"ix_{name}\"")  # every document's, in older state files
            self._db.execute(
                f"CREATE INDEX IF NOT EXISTS \"ixv_{name}\" ON docs (collection, {value}) WHERE {value} IS NOT NULL"
            )

    # -- ids ----------------------------------------------------------

    def next_id(self, collection: str, start: int = 1) -> int:
        with self.lock:
            row = self._db.execute(
                "INSERT INTO counters (collection, value) VALUES (?, ?) "
                "ON CONFLICT (collection) DO UPDATE SET value = value + 1 RETURNING value",
                (collection, start),
            ).fetchone()
            return row[0]

    def _bump(self, collection: str, value: int):
        self._db.execute(
            "INSERT INTO counters (collection, value) VALUES (?, ?) "
            "ON CONFLICT (collection) DO UPDATE SET value = max(value, excluded.value)",
            (collection, value),
        )

    # -- writes -------------------------------------------------------

    def insert(self, collection: str, doc: dict) -> dict:
        doc = dict(doc)
        with self.lock:
            if doc.get("id") is None:
                doc["id"] = self.next_id(collection)
            elif isinstance(doc["id"], int) and not isinstance(doc["id"], bool):
                self._bump(collection, doc["id"])
            try:
                self._db.execute(
                    "INSERT INTO docs (collection, key, body) VALUES (?, ?, ?)",
                    (collection, doc["id"], json.dumps(doc)),
                )
            except sqlite3.IntegrityError:
                raise ValueError(f"{collection} {doc['id']!r} already exists") from None
        return doc

    def put(self, collection: str, doc: dict) -> dict:
        """Insert or replace a whole document (it must carry an id)."""
        with self.lock:
            body = json.dumps(doc)
            if not self._db.execute("UPDATE docs SET body = ? WHERE collection = ? AND key = ?",
                                    (body, collection, doc["id"])).rowcount:
                self._db.execute("INSERT INTO docs (collection, key, body) VALUES (?, ?, ?)",
                                 (collection, doc["id"], body))
        return doc

    def update(self, collection: str, id, changes: dict) -> dict:
        with self.lock:
            doc = self.get(collection, id)
            if doc is None:
                raise NotFound(f"{collection} {id!r}")
            doc.update(changes)
            doc["id"] = id
            self._db.execute(
                "UPDATE docs SET body = ? WHERE collection = ? AND key = ?",
                (json.dumps(doc), collection, id),
            )
            return doc

    def delete(self, collection: str, id) -> bool:
        with self.lock:
            cursor = self._db.execute(
                "DELETE FROM docs WHERE collection = ? AND key = ?", (collection, id)
            )
            return cursor.rowcount > 0

    def delete_where(self, collection: str, **equals) -> int:
        where, params = _where(equals)
        with self.lock:
            cursor = self._db.execute(
                f"DELETE FROM docs WHERE collection = ?{where}", [collection, *params]
            )
            return cursor.rowcount

    # -- reads --------------------------------------------------------

    def get(self, collection: str, id) -> dict | None:
        with self.lock:
            row = self._db.execute(
                "SELECT body FROM docs WHERE collection = ? AND key = ?", (collection, id)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def get_many(self, collection: str, ids: list) -> dict:
        """{id: document} for those of these ids that exist, in one query."""
        found = {}
        for start in range(0, len(ids), 900):  # within sqlite's bound on parameters
            chunk = ids[start:start + 900]
            with self.lock:
                rows = self._db.execute(f"SELECT key, body FROM docs WHERE collection = ? AND key IN "
                                        f"({', '.join('?' * len(chunk))})", [collection, *chunk]).fetchall()
            found.update((key, _loads(body)) for key, body in rows)
        return found

    def ordered_keys(self, collection: str, order: list[tuple], skip_if_true: str | None = None) -> list:
        """The documents' keys sorted by [(field, descending, nulls_last)], then by key, read inside
        sqlite (strings caseless); without those whose `skip_if_true` field is true."""
        terms = []
        for name, descending, nulls_last in order:
            value = f"json_extract(body, '{_path(name)}')"
            terms.append(f"CASE WHEN json_type(body, '{_path(name)}') = 'text' THEN lower({value}) ELSE {value} END "
                         f"{'DESC' if descending else 'ASC'} NULLS {'LAST' if nulls_last else 'FIRST'}")
        skip = f" AND NOT coalesce(json_extract(body, '{_path(skip_if_true)}'), 0)" if skip_if_true else ""
        with self.lock:
            rows = self._db.execute(f"SELECT key FROM docs WHERE collection = ?{skip} "
                                    f"ORDER BY {', '.join([*terms, 'key'])}", [collection]).fetchall()
        return [key for (key,) in rows]

    def find(self, collection: str, order_by: str = "id", **equals) -> list[dict]:
        return self.page(collection, 0, -1, order_by=order_by, **equals)

    def find_one(self, collection: str, **equals) -> dict | None:
        found = self.page(collection, 0, 1, **equals)
        return found[0] if found else None

    def page(self, collection: str, offset: int, limit: int, order_by: str = "id", **equals) -> list[dict]:
        where, params = _where(equals)
        sql = (f"SELECT body FROM docs WHERE collection = ?{where} "
               f"ORDER BY {_order(order_by, any(f in self._indexed for f in equals))} LIMIT ? OFFSET ?")
        with self.lock:
            rows = self._db.execute(sql, [collection, *params, limit, offset]).fetchall()
        return [json.loads(row[0]) for row in rows]

    def count(self, collection: str, **equals) -> int:
        where, params = _where(equals)
        with self.lock:
            return self._db.execute(
                f"SELECT count(*) FROM docs WHERE collection = ?{where}", [collection, *params]
            ).fetchone()[0]

    def collections(self, prefix: str = "") -> list[str]:
        with self.lock:
            rows = self._db.execute(
                "SELECT DISTINCT collection FROM docs WHERE substr(collection, 1, ?) = ? ORDER BY 1",
                (len(prefix), prefix),
            ).fetchall()
        return [row[0] for row in rows]

    # -- lifecycle ----------------------------------------------------

    def reset(self):
        with self.lock:
            self._db.execute("DELETE FROM docs")
            self._db.execute("DELETE FROM counters")
            self.scratch.clear()
            self.clock = OffsetClock()

    def close(self):
        with self.lock:
            self._db.close()

    def scoped(self, prefix: str) -> "Scoped":
        return Scoped(self, prefix)


class Scoped:
    """The same API as State, with every collection name read as "<prefix>/<name>"."""

    def __init__(self, root: State, prefix: str):
        self.root = root
        self.prefix = prefix
        self.lock = root.lock
        self.scratch = root.scratch

    @property
    def clock(self) -> OffsetClock:
        return self.root.clock

    def _c(self, collection: str) -> str:
        return f"{self.prefix}/{collection}"

    def transaction(self):
        return self.root.transaction()

    def next_id(self, collection, start=1):
        return self.root.next_id(self._c(collection), start)

    def insert(self, collection, doc):
        return self.root.insert(self._c(collection), doc)

    def put(self, collection, doc):
        return self.root.put(self._c(collection), doc)

    def update(self, collection, id, changes):
        return self.root.update(self._c(collection), id, changes)

    def delete(self, collection, id):
        return self.root.delete(self._c(collection), id)

    def delete_where(self, collection, **equals):
        return self.root.delete_where(self._c(collection), **equals)

    def get(self, collection, id):
        return self.root.get(self._c(collection), id)

    def get_many(self, collection, ids):
        return self.root.get_many(self._c(collection), ids)

    def ordered_keys(self, collection, order, skip_if_true=None):
        return self.root.ordered_keys(self._c(collection), order, skip_if_true)

    def find(self, collection, order_by="id", **equals):
        return self.root.find(self._c(collection), order_by=order_by, **equals)

    def find_one(self, collection, **equals):
        return self.root.find_one(self._c(collection), **equals)

    def page(self, collection, offset, limit, order_by="id", **equals):
        return self.root.page(self._c(collection), offset, limit, order_by=order_by, **equals)

    def count(self, collection, **equals):
        return self.root.count(self._c(collection), **equals)

    def collections(self):
        start = len(self.prefix) + 1
        return [name[start:] for name in self.root.collections(self.prefix + "/")]
