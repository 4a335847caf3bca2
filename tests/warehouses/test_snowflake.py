"""SnowflakeSource against the demo warehouse (fakesnow over Snowflake's HTTP protocol)."""

import datetime
from decimal import Decimal

import pytest

from integrations.base import ConnectionFailed, QueryError, Table
from integrations.demo import warehouse as demo
from integrations.warehouses.snowflake import SnowflakeSource, private_key_der
from tests.warehouses.conftest import ROWS, SEED_CONFIG

# The model queries of the product brief, as they reach the warehouse.
SEED_000 = ("SELECT MAX(last_activity_date) AS last_activity_date, plan, first_name, last_name, email "
            "FROM users GROUP BY plan, first_name, last_name, email")
SEED_001 = "SELECT contact_id FROM salesforce_contacts WHERE subscription_plan = 'gold'"
SEED_001_AS_SENT = "SELECT contact_id FROM salesforce_contacts WHERE subscription_plan = gold"  # shell ate the quotes
SEED_003 = "SELECT first_name, last_name, email FROM users"


@pytest.fixture
def source(fakesnow_endpoint):
    with SnowflakeSource(SEED_CONFIG, endpoint=fakesnow_endpoint) as source:
        yield source


def test_seed_config_connects_and_sees_the_demo_tables(source):
    source.check()
    assert source.list_tables() == [Table("PUBLIC", "SALESFORCE_CONTACTS"), Table("PUBLIC", "USERS")]


def test_table_columns_have_base_types(source):
    columns = {c.name: c.type for c in source.table_columns(Table("PUBLIC", "USERS"))}
    assert columns["ID"] == "integer"
    assert columns["EMAIL"] == "string"
    assert columns["LAST_ACTIVITY_DATE"] == "date"
    assert columns["CREATED_AT"] == "datetime"
    assert columns["MRR"] == "number"
    assert columns["IS_ACTIVE"] == "boolean"
    assert {"SUBSCRIPTION_PLAN", "CRM_CONTACT_ID", "PLAN", "FIRST_NAME", "LAST_NAME"} <= set(columns)


def test_seed_000_query(source):
    columns, rows = source.preview(SEED_000, limit=5)
    assert [(c.name, c.type) for c in columns] == [
        ("LAST_ACTIVITY_DATE", "date"), ("PLAN", "string"), ("FIRST_NAME", "string"),
        ("LAST_NAME", "string"), ("EMAIL", "string")]
    assert len(rows) == 5
    assert isinstance(rows[0]["LAST_ACTIVITY_DATE"], datetime.date)
    assert rows[0]["PLAN"] in ("free", "starter", "gold", "platinum")
    assert sum(len(batch) for batch in source.stream(SEED_000)) == ROWS  # emails are unique


def test_seed_001_query_returns_crm_contact_ids(source):
    assert source.describe_query(SEED_001)[0].name == "CONTACT_ID"
    ids = [row["CONTACT_ID"] for batch in source.stream(SEED_001) for row in batch]
    assert ids, "the demo has gold contacts"
    assert all(len(i) == 18 and i.startswith("003") for i in ids)
    assert "0035g00000SBX001AA" in ids  # known to the Gong sandbox


def test_seed_001_as_sent_carries_fakesnows_error(source):
    with pytest.raises(QueryError) as caught:
        source.preview(SEED_001_AS_SENT)
    message = str(caught.value)
    assert message.startswith('002043 (02000): Binder Error: Referenced column "GOLD" not found')
    with pytest.raises(QueryError, match="GOLD"):
        list(source.stream(SEED_001_AS_SENT))
    with pytest.raises(QueryError, match="GOLD"):
        source.describe_query(SEED_001_AS_SENT)


def test_seed_003_query(source):
    columns = source.describe_query(SEED_003)
    assert [(c.name, c.type) for c in columns] == [
        ("FIRST_NAME", "string"), ("LAST_NAME", "string"), ("EMAIL", "string")]
    _, rows = source.preview(SEED_003 + ";", limit=3)
    assert rows[0] == {"FIRST_NAME": rows[0]["FIRST_NAME"], "LAST_NAME": rows[0]["LAST_NAME"],
                       "EMAIL": rows[0]["EMAIL"]}
    assert "@" in rows[0]["EMAIL"]


def test_stream_returns_every_row_in_batches(source):
    batches = list(source.stream(source.table_query(Table("PUBLIC", "USERS")), batch_size=600))
    assert [len(b) for b in batches] == [600, 600, 600, 200]
    ids = [row["ID"] for batch in batches for row in batch]
    assert sorted(ids) == list(range(1, ROWS + 1))
    row = batches[0][0]
    assert isinstance(row["MRR"], Decimal) and isinstance(row["IS_ACTIVE"], bool)
    assert isinstance(row["CREATED_AT"], datetime.datetime)


def test_an_explicit_schema_and_quoted_table_query(fakesnow_endpoint):
    config = dict(SEED_CONFIG, schema="PUBLIC", warehouse="COMPUTE_WH", role="SYSADMIN")
    with SnowflakeSource(config, endpoint=fakesnow_endpoint) as source:
        query = source.table_query(Table("PUBLIC", "SALESFORCE_CONTACTS"))
        assert query == 'SELECT * FROM "PUBLIC"."SALESFORCE_CONTACTS"'
        _, rows = source.preview(query, limit=2)
        assert [r["ID"] for r in rows] == [1, 2]


def test_unreachable_endpoint_is_connection_failed_without_the_password(closed_port):
    config = dict(SEED_CONFIG, password="Hunter2-very-secret")
    source = SnowflakeSource(config, endpoint=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(ConnectionFailed) as caught:
        source.check()
    assert "Hunter2-very-secret" not in str(caught.value)
    assert "Snowflake" in str(caught.value)


def test_missing_configuration_is_named():
    with pytest.raises(ConnectionFailed, match="dbname"):
        SnowflakeSource({"account": "a", "username": "u", "password": "p"}).check()


def _pem(passphrase=None):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def test_key_pair_authentication_arguments():
    pem = _pem("open sesame")
    config = dict(SEED_CONFIG, password="", private_key=pem, private_key_passphrase="open sesame")
    args = SnowflakeSource(config).connect_arguments()
    assert args["authenticator"] == "SNOWFLAKE_JWT"
    assert isinstance(args["private_key"], bytes) and "password" not in args
    assert args["schema"] == "PUBLIC" and args["database"] == "database"
    assert "host" not in args  # derived from the account by the connector


def test_a_wrong_passphrase_is_connection_failed_without_secrets():
    pem = _pem("open sesame")
    with pytest.raises(ConnectionFailed, match="passphrase") as caught:
        private_key_der(pem, "not it")
    assert "not it" not in str(caught.value)
    source = SnowflakeSource(dict(SEED_CONFIG, private_key="garbage", private_key_passphrase="pp"))
    with pytest.raises(ConnectionFailed) as caught:
        source.check()
    assert "garbage" not in str(caught.value)


def test_the_runner_seeds_once_and_keeps_its_data(tmp_path, settings):
    with demo.running_fakesnow(tmp_path, rows=30) as endpoint:
        settings.EGRESS_ALLOW = [endpoint.split("//", 1)[1]]
        with SnowflakeSource(SEED_CONFIG, endpoint=endpoint) as source:
            assert source.preview("SELECT count(*) AS n FROM users")[1] == [{"N": 30}]
    with demo.running_fakesnow(tmp_path, rows=50) as endpoint:  # not seeded again
        settings.EGRESS_ALLOW = [endpoint.split("//", 1)[1]]
        with SnowflakeSource(SEED_CONFIG, endpoint=endpoint) as source:
            assert source.preview("SELECT count(*) AS n FROM salesforce_contacts")[1] == [{"N": 30}]
    assert (tmp_path / "DATABASE.db").exists()


def test_type_codes_match_the_connectors():
    from snowflake.connector.constants import FIELD_ID_TO_NAME

    from integrations.warehouses import snowflake

    assert snowflake.FIELD_ID_TO_NAME == dict(FIELD_ID_TO_NAME)
