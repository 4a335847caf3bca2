"""Snowflake through snowflake-connector-python.

The connection's host is derived from the account, unless an `endpoint`
("http://127.0.0.1:8200") is given: that is how the demo warehouse and the
tests reach a fakesnow server. With no schema configured the session uses
PUBLIC, Snowflake's default schema, so `SELECT ... FROM users` finds
DATABASE.PUBLIC.USERS.

Column names come back as Snowflake reports them (unquoted identifiers are
upper case: EMAIL); the engine matches mapped columns either way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from integrations.base import (
    ARRAY,
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

# Otherwise every login first asks cloud metadata services (169.254.169.254, metadata.google.internal)
# which platform the console runs on.
os.environ.setdefault("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")

TYPE_ID = "snowflake"
NAME = "Snowflake"

CONFIG_FIELDS = [
    ConfigField("account", "Account identifier", required=True,
                description="The part before .snowflakecomputing.com, e.g. xy12345.eu-west-1 or myorg-myaccount."),
    ConfigField("username", "Username", required=True),
    ConfigField("password", "Password", secret=True,
                description="Leave empty when authenticating with a private key."),
    ConfigField("dbname", "Database", required=True),
    ConfigField("warehouse", "Warehouse"),
    ConfigField("role", "Role"),
    ConfigField("schema", "Schema", default="PUBLIC"),
    ConfigField("private_key", "Private key (PEM)", secret=True,
                description="For key-pair authentication instead of a password."),
    ConfigField("private_key_passphrase", "Private key passphrase", secret=True),
]

# The connector's type codes (snowflake.connector.constants.FIELD_ID_TO_NAME), copied so
# that importing this module does not load the connector (about 50 MB) until a
# Snowflake connection is actually used.
FIELD_ID_TO_NAME = {
    0: "FIXED", 1: "REAL", 2: "TEXT", 3: "DATE", 4: "TIMESTAMP", 5: "VARIANT", 6: "TIMESTAMP_LTZ",
    7: "TIMESTAMP_TZ", 8: "TIMESTAMP_NTZ", 9: "OBJECT", 10: "ARRAY", 11: "BINARY", 12: "TIME",
    13: "BOOLEAN", 14: "GEOGRAPHY", 15: "GEOMETRY", 16: "VECTOR", 17: "MAP", 18: "FILE",
    19: "INTERVAL_YEAR_MONTH", 20: "INTERVAL_DAY_TIME",
}

DEFAULT_SCHEMA = "PUBLIC"
ACCOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*")
LOGIN_TIMEOUT = 30  # seconds
NETWORK_TIMEOUT = 300

_TYPES = {
    "REAL": NUMBER,
    "TEXT": STRING,
    "DATE": DATE,
    "TIMESTAMP": DATETIME, "TIMESTAMP_LTZ": DATETIME, "TIMESTAMP_TZ": DATETIME, "TIMESTAMP_NTZ": DATETIME,
    "VARIANT": OBJECT, "OBJECT": OBJECT, "MAP": OBJECT,
    "ARRAY": ARRAY, "VECTOR": ARRAY,
    "BOOLEAN": BOOLEAN,
}


def _errors():
    from snowflake.connector import errors

    return errors


def account_problem(account: str) -> str | None:
    """Why this is not a Snowflake account identifier (it becomes part of a host name), or None."""
    if not ACCOUNT.fullmatch(account or ""):
        return "may hold only letters, digits, '_', '-' and '.' (e.g. xy12345.eu-west-1 or myorg-myaccount)"
    return None


def column_type(meta) -> str:
    name = FIELD_ID_TO_NAME.get(meta.type_code, "")
    if name == "FIXED":
        return INTEGER if not meta.scale else NUMBER
    return _TYPES.get(name, STRING)


def private_key_der(pem: str, passphrase: str | None) -> bytes:
    """The PEM private key as the DER (PKCS#8) bytes the connector takes."""
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(
            pem.strip().encode(), password=passphrase.encode() if passphrase else None
        )
    except (ValueError, TypeError) as exc:
        reason = "wrong or missing passphrase" if "password" in str(exc).lower() else "not a PEM private key"
        raise ConnectionFailed(f"The Snowflake private key could not be read ({reason}).") from None
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


class SnowflakeSource(WarehouseSource):
    TYPE_ID = TYPE_ID
    NAME = NAME
    CONFIG_FIELDS = CONFIG_FIELDS

    def _where(self) -> str:
        c = self.config
        place = self.endpoint or f"account {c.get('account')!r}"
        return f"Snowflake at {place} (database {c.get('dbname')!r}, user {c.get('username')!r})"

    def connect_arguments(self) -> dict:
        c = self.config
        args = {
            "account": c.get("account") or "",
            "user": c.get("username") or "",
            "database": c.get("dbname") or None,
            "schema": c.get("schema") or DEFAULT_SCHEMA,
            "login_timeout": LOGIN_TIMEOUT,
            "network_timeout": NETWORK_TIMEOUT,
            "client_session_keep_alive": False,
        }
        bound = self.seconds_left(CONNECT_SHARE)
        if bound is not None:  # a web request: the connector's own retries end in time too
            args.update(login_timeout=int(bound), network_timeout=int(bound), socket_timeout=max(1, int(bound / 2)))
        for name in ("warehouse", "role"):
            if c.get(name):
                args[name] = c[name]
        if c.get("private_key"):
            args["private_key"] = private_key_der(c["private_key"], c.get("private_key_passphrase"))
            args["authenticator"] = "SNOWFLAKE_JWT"
        else:
            args["password"] = c.get("password") or ""
        if self.endpoint:
            url = urlsplit(self.endpoint)
            args["protocol"] = url.scheme or "https"
            args["host"] = url.hostname
            args["port"] = url.port or (443 if args["protocol"] == "https" else 80)
            args["session_parameters"] = {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False}
        return args

    def _connect(self):
        c = self.config
        missing = [n for n in ("account", "username", "dbname") if not c.get(n)]
        if missing:
            raise ConnectionFailed(f"The Snowflake configuration lacks {', '.join(missing)}.")
        problem = account_problem(c["account"])
        if problem:
            raise ConnectionFailed(f"The Snowflake account identifier {problem}.")
        args = self.connect_arguments()  # the connector resolves the host itself: it is checked just before
        egress.checked_address(args.get("host") or f"{args['account']}.snowflakecomputing.com", args.get("port", 443))
        import snowflake.connector

        return snowflake.connector.connect(**args)

    def _ping(self, conn) -> None:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchall()

    def _fail(self, exc: Exception):
        errors = _errors()
        if isinstance(exc, errors.ProgrammingError):
            return self.query_error(exc)
        if isinstance(exc, errors.OperationalError) and "connect" in str(exc).lower():
            self.close()
            return self.connection_error(exc)
        return self.query_error(exc)

    def list_tables(self) -> list[Table]:
        conn = self.connection()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_schema <> 'INFORMATION_SCHEMA' ORDER BY table_schema, table_name"
                )
                return [Table(schema, name) for schema, name in cur.fetchall()]
        except _errors().Error as exc:
            raise self._fail(exc) from None

    def describe_query(self, query: str) -> list[Column]:
        query = clean_query(query, TYPE_ID)
        conn = self.connection()
        try:
            with conn.cursor() as cur:
                metadata = cur.describe(query)  # describeOnly: compiled, not run
        except _errors().Error as exc:
            raise self._fail(exc) from None
        return [Column(m.name, column_type(m)) for m in metadata or []]

    def preview(self, query: str, limit: int = 20) -> tuple[list[Column], list[dict]]:
        columns = self.describe_query(query)
        rows: list[dict] = []
        if limit > 0:
            wrapped = f"SELECT * FROM (\n{clean_query(query, TYPE_ID)}\n) LIMIT {int(limit)}"
            for batch in self.stream(wrapped, batch_size=limit):
                rows.extend(batch)
        return columns, rows[:limit]

    def stream(self, query: str, batch_size: int = 5000) -> Iterator[list[dict]]:
        query = clean_query(query, TYPE_ID)
        conn = self.connection()
        try:
            with conn.cursor() as cur:
                cur.execute(query)
                columns = [Column(m.name, column_type(m)) for m in cur.description or []]
                names = [c.name for c in columns]
                structured = [names.index(n) for n in json_columns(columns)]
                # fetchmany walks the result chunk by chunk as Snowflake hands them out
                while rows := cur.fetchmany(batch_size):
                    batch = []
                    for row in rows:
                        if structured:
                            row = list(row)
                            for i in structured:
                                row[i] = parse_json_value(row[i])
                        batch.append(dict(zip(names, row)))
                    yield batch
        except _errors().Error as exc:
            raise self._fail(exc) from None


Source = SnowflakeSource
