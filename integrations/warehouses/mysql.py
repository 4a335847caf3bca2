"""MySQL and MariaDB through PyMySQL.

`stream` reads with an unbuffered server-side cursor (SSCursor): rows come
off the socket as they are fetched. Stopping early closes the connection
rather than draining the rest of the result. `describe_query` and `preview`
wrap the query (`SELECT * FROM (...) LIMIT n`) so the server does the work of
not sending rows.
"""

from __future__ import annotations

from collections.abc import Iterator

from integrations.base import (
    BOOLEAN,
    DATE,
    DATETIME,
    INTEGER,
    NUMBER,
    OBJECT,
    STRING,
    Column,
    ConfigField,
    ConnectionFailed,
    Table,
)
from integrations import egress
from integrations.warehouses.base import (
    CONNECT_SHARE,
    WarehouseSource,
    clean_query,
    json_columns,
    parse_json_value,
)

try:
    import pymysql
    import pymysql.cursors
    from pymysql.constants import FIELD_TYPE
except ImportError:  # PyMySQL is optional until a MySQL connection is used
    pymysql = None

TYPE_ID = "mysql"
NAME = "MySQL"

CONFIG_FIELDS = [
    ConfigField("hostname", "Host", required=True, address="host"),
    ConfigField("port", "Port", type="integer", default=3306),
    ConfigField("database", "Database", required=True),
    ConfigField("username", "Username", required=True),
    ConfigField("password", "Password", secret=True),
    ConfigField("ssl", "Require SSL", type="boolean", default=False,
                description="Connect over TLS (the server's certificate is not verified)."),
]

CONNECT_TIMEOUT = 10  # seconds


_TYPES = {} if pymysql is None else {
    FIELD_TYPE.TINY: INTEGER, FIELD_TYPE.SHORT: INTEGER, FIELD_TYPE.LONG: INTEGER,
    FIELD_TYPE.LONGLONG: INTEGER, FIELD_TYPE.INT24: INTEGER, FIELD_TYPE.YEAR: INTEGER,
    FIELD_TYPE.FLOAT: NUMBER, FIELD_TYPE.DOUBLE: NUMBER, FIELD_TYPE.DECIMAL: NUMBER,
    FIELD_TYPE.NEWDECIMAL: NUMBER,
    FIELD_TYPE.DATE: DATE, FIELD_TYPE.NEWDATE: DATE,
    FIELD_TYPE.DATETIME: DATETIME, FIELD_TYPE.TIMESTAMP: DATETIME,
    FIELD_TYPE.JSON: OBJECT,
}


def column_type(description) -> str:
    type_code, length = description[1], description[3]
    if type_code == FIELD_TYPE.TINY and length == 1:
        return BOOLEAN  # TINYINT(1), MySQL's BOOLEAN
    if type_code == FIELD_TYPE.BIT and length == 1:
        return BOOLEAN
    return _TYPES.get(type_code, STRING)


def _client_error(exc) -> bool:
    """PyMySQL's client-side errors (2000-2999: can't connect, server gone away, lost connection)."""
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    return 2000 <= code < 3000 or isinstance(exc, pymysql.err.InterfaceError)


def _readable(exc):
    """PyMySQL's errors print as a tuple; give "1054: Unknown column ..." instead."""
    if len(exc.args) == 2 and isinstance(exc.args[0], int):
        return type(exc)(f"{exc.args[0]}: {exc.args[1]}")
    return exc


class MySQLSource(WarehouseSource):
    TYPE_ID = TYPE_ID
    NAME = NAME
    CONFIG_FIELDS = CONFIG_FIELDS

    def _where(self) -> str:
        c = self.config
        return f"MySQL at {c.get('hostname') or 'localhost'}:{c.get('port') or 3306} " \
               f"(database {c.get('database')!r}, user {c.get('username')!r})"

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def _connect(self):
        if pymysql is None:
            raise ConnectionFailed("MySQL support needs the PyMySQL package, which is not installed.")
        c = self.config
        try:
            conn = self._open(c, self.seconds_left(CONNECT_SHARE))
        except pymysql.Error as exc:
            raise _readable(exc) from None
        with conn.cursor() as cur:
            cur.execute("SET SESSION TRANSACTION READ ONLY")
        return conn

    @staticmethod
    def _open(c: dict, bound: float | None = None):
        """`bound`: a web request's seconds for connecting, and for each read and write after."""
        port = int(c.get("port") or 3306)
        return pymysql.connect(
            host=egress.checked_address(c.get("hostname") or "localhost", port),
            port=port,
            user=c.get("username") or None,
            password=c.get("password") or "",
            database=c.get("database") or None,
            ssl={"check_hostname": False} if c.get("ssl") else None,
            connect_timeout=bound or CONNECT_TIMEOUT,
            read_timeout=bound,
            write_timeout=bound,
            charset="utf8mb4",
            autocommit=True,
        )

    def _ping(self, conn) -> None:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchall()

    def _fail(self, exc):
        if _client_error(exc):
            self.close()
            return self.connection_error(_readable(exc))
        return self.query_error(_readable(exc))

    def _run(self, sql: str, args=None):
        conn = self.connection()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.description, cur.fetchall()
        except pymysql.Error as exc:
            raise self._fail(exc) from None

    def list_tables(self) -> list[Table]:
        _, rows = self._run(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = DATABASE() ORDER BY table_name"
        )
        return [Table(schema, name) for schema, name in rows]

    def describe_query(self, query: str) -> list[Column]:
        description, _ = self._run(f"SELECT * FROM (\n{clean_query(query, TYPE_ID)}\n) AS described LIMIT 0")
        return [Column(d[0], column_type(d)) for d in description or []]

    def preview(self, query: str, limit: int = 20) -> tuple[list[Column], list[dict]]:
        query = clean_query(query, TYPE_ID)
        description, rows = self._run(f"SELECT * FROM (\n{query}\n) AS preview LIMIT {int(limit)}")
        columns = [Column(d[0], column_type(d)) for d in description or []]
        return columns, [self._row(columns, row) for row in rows]

    @staticmethod
    def _row(columns: list[Column], row: tuple) -> dict:
        record = dict(zip((c.name for c in columns), row))
        for name in json_columns(columns):
            record[name] = parse_json_value(record[name])
        return record

    def stream(self, query: str, batch_size: int = 5000) -> Iterator[list[dict]]:
        query = clean_query(query, TYPE_ID)
        conn = self.connection()
        cur = conn.cursor(pymysql.cursors.SSCursor)
        finished = False
        try:
            cur.execute(query)
            columns = [Column(d[0], column_type(d)) for d in cur.description or []]
            while rows := cur.fetchmany(batch_size):
                yield [self._row(columns, row) for row in rows]
            finished = True
        except pymysql.Error as exc:
            finished = True
            raise self._fail(exc) from None
        finally:
            if finished:
                try:
                    cur.close()
                except pymysql.Error:
                    self.close()
            else:
                # Stopped early: closing the cursor would read the rest of the result off
                # the socket. Drop the connection instead and tell PyMySQL the result is
                # gone, so nothing tries to read it later.
                self.close()
                result = getattr(cur, "_result", None)
                if result is not None:
                    result.unbuffered_active = False
                cur.connection = None


Source = MySQLSource
