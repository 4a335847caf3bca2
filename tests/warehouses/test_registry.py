"""The registry of warehouse types and what each declares."""

import pytest

from integrations.base import ConfigField, ConnectorError
from integrations.warehouses import SOURCES, get_source
from integrations.warehouses.base import WarehouseSource


def test_every_type_is_registered_with_its_form():
    assert set(SOURCES) == {"snowflake", "postgresql", "mysql", "sqlite"}
    for type_id, module in SOURCES.items():
        assert module.TYPE_ID == type_id and module.NAME
        assert all(isinstance(f, ConfigField) for f in module.CONFIG_FIELDS)
        assert issubclass(module.Source, WarehouseSource)


def test_snowflake_fields():
    fields = {f.name: f for f in SOURCES["snowflake"].CONFIG_FIELDS}
    assert list(fields) == ["account", "username", "password", "dbname", "warehouse", "role", "schema",
                            "private_key", "private_key_passphrase"]
    assert {n for n, f in fields.items() if f.secret} == {"password", "private_key", "private_key_passphrase"}
    assert fields["schema"].default == "PUBLIC" and not fields["schema"].required


def test_postgres_and_sqlite_fields():
    fields = {f.name: f for f in SOURCES["postgresql"].CONFIG_FIELDS}
    assert list(fields) == ["hostname", "port", "database", "username", "password", "ssl"]
    assert fields["password"].secret and fields["ssl"].type == "boolean"
    assert [f.name for f in SOURCES["sqlite"].CONFIG_FIELDS] == ["path"]


def test_get_source(tmp_path):
    source = get_source("sqlite", {"path": str(tmp_path / "x.db")})
    assert source.TYPE_ID == "sqlite"
    assert get_source("snowflake", {}, endpoint="http://127.0.0.1:8200").endpoint == "http://127.0.0.1:8200"
    with pytest.raises(ConnectorError, match="not a warehouse"):
        get_source("salesforce", {})


def test_every_secret_is_scrubbed():
    source = get_source("snowflake", {"password": "pw-1", "private_key": "KEY-TEXT", "private_key_passphrase": "pp"})
    assert source.scrub("pw-1 KEY-TEXT pp") == "******** ******** ********"
