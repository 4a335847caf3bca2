"""Bulk-sync destinations on real warehouses: PostgreSQL (a scratch database) and
Snowflake (fakesnow). Tables are created, evolved as source fields appear,
upserted by the key, and deleted records marked or removed."""

import json
import uuid
from datetime import date, datetime, timezone

import pytest

from integrations.base import ARRAY, BOOLEAN, DATE, DATETIME, INTEGER, NUMBER, OBJECT, STRING, Column
from integrations.demo.pgcluster import source_config
from integrations.warehouses.destinations import get_destination

from .conftest import SNOWFLAKE

COLUMNS = [Column("Id", STRING), Column("Email", STRING), Column("Score__c", NUMBER),
           Column("IsActive", BOOLEAN), Column("SystemModstamp", DATETIME)]


def contact(number, deleted=False, **values):
    return {"Id": f"003{number:05d}", "Email": f"person{number}@acme.example", "Score__c": number * 1.5,
            "IsActive": "true", "SystemModstamp": f"2026-01-0{number % 9 + 1}T10:00:00.000+0000",
            "_deleted": deleted, **values}


@pytest.fixture(params=["postgresql", "snowflake"])
def open_destination(request):
    """open_destination(**options) -> a destination on a fresh schema of this warehouse."""
    if request.param == "postgresql":
        config, endpoint = source_config(request.getfixturevalue("postgres_url")), None
    else:
        config, endpoint = {**SNOWFLAKE, "password": "secret"}, request.getfixturevalue("fakesnow_endpoint")
    schema = f"bulk_{uuid.uuid4().hex[:8]}"
    opened = []

    def make(**options):
        destination = get_destination(request.param, config, endpoint=endpoint, schema=schema, **options)
        opened.append(destination)
        return destination

    yield make
    for destination in opened:
        destination.close()


def select(destination, table, columns="*") -> list[tuple]:
    target = destination.qualified(table.schema, table.name)

    def read(cur):
        cur.execute(f"SELECT {columns} FROM {target} ORDER BY {destination.quote(table.key)}")
        return [tuple(row) for row in cur.fetchall()]

    return destination.run(read)


def column_names(destination, table) -> list[str]:
    return [name.lower() for name in destination.existing_columns(table.schema, table.name)]


def test_a_table_is_created_with_normalized_names_and_the_consoles_columns(open_destination):
    destination = open_destination()
    table = destination.prepare("Contact", COLUMNS, key="Id")
    assert table.created and table.name.lower() == "contact"
    assert sorted(column_names(destination, table)) == sorted(
        ["id", "email", "score__c", "isactive", "systemmodstamp", "_deleted", "_inserted_at", "_updated_at"])
    written = destination.write(table, [contact(1), contact(2)])
    assert (written.upserted, written.deleted, written.errors) == (2, 0, 0)
    q = destination.quote
    rows = select(destination, table, f"{q(destination.name('Id'))}, {q(destination.name('Email'))}, "
                                      f"{q(destination.name('Score__c'))}, {q(destination.name('IsActive'))}, "
                                      f"{q(destination.name('SystemModstamp'))}, {q(destination.name('_deleted'))}")
    assert rows[0][:4] == ("00300001", "person1@acme.example", 1.5, True)
    stamp = rows[0][4]
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)
    assert stamp == datetime(2026, 1, 2, 10, 0, tzinfo=timezone.utc)
    assert [row[5] for row in rows] == [False, False]


def test_records_are_upserted_by_the_key(open_destination):
    destination = open_destination()
    table = destination.prepare("Contact", COLUMNS, key="Id")
    destination.write(table, [contact(1), contact(2)])
    q = destination.quote
    inserted_at = select(destination, table, q(destination.name("_inserted_at")))
    # the last version of a record in one batch wins
    destination.write(table, [contact(2, Email="first@acme.example"), contact(2, Email="second@acme.example"),
                              contact(3)])
    rows = select(destination, table, f"{q(destination.name('Id'))}, {q(destination.name('Email'))}")
    assert rows == [("00300001", "person1@acme.example"), ("00300002", "second@acme.example"),
                    ("00300003", "person3@acme.example")]
    assert select(destination, table, q(destination.name("_inserted_at")))[:2] == inserted_at


def test_tables_evolve_as_source_fields_appear(open_destination):
    destination = open_destination()
    table = destination.prepare("Contact", COLUMNS, key="Id")
    destination.write(table, [contact(1)])

    again = open_destination().prepare("Contact", COLUMNS, key="Id")
    assert not again.created and again.added == []

    grown = COLUMNS + [Column("Tier__c", STRING), Column("Profile", OBJECT)]
    evolved = open_destination()
    table = evolved.prepare("Contact", grown, key="Id")
    assert not table.created
    assert [c.name.lower() for c in table.added] == ["tier__c", "profile"]
    assert {"tier__c", "profile"} <= set(column_names(evolved, table))
    evolved.write(table, [contact(2, Tier__c="Gold", Profile={"plan": "pro"})])
    q = evolved.quote
    rows = select(evolved, table, f"{q(evolved.name('Id'))}, {q(evolved.name('Tier__c'))}")
    assert rows == [("00300001", None), ("00300002", "Gold")]


def test_deleted_records_are_marked(open_destination):
    destination = open_destination(deletes="mark")
    table = destination.prepare("Contact", COLUMNS, key="Id")
    destination.write(table, [contact(1), contact(2)])
    written = destination.write(table, [contact(2, deleted=True)])
    assert (written.upserted, written.deleted) == (1, 0)
    q = destination.quote
    assert select(destination, table, f"{q(destination.name('Id'))}, {q(destination.name('_deleted'))}") == [
        ("00300001", False), ("00300002", True)]


def test_deleted_records_are_removed(open_destination):
    destination = open_destination(deletes="remove")
    table = destination.prepare("Contact", COLUMNS, key="Id")
    destination.write(table, [contact(1), contact(2), contact(3)])
    written = destination.write(table, [contact(2, deleted=True), contact(3, deleted=True), contact(4)])
    assert (written.upserted, written.deleted) == (1, 2)
    assert select(destination, table, destination.quote(destination.name("Id"))) == [("00300001",), ("00300004",)]


def test_append_mode_keeps_every_version(open_destination):
    destination = open_destination(mode="append")
    table = destination.prepare("Contact", COLUMNS, key="Id")
    destination.write(table, [contact(1)])
    destination.write(table, [contact(1, Email="changed@acme.example")])
    q = destination.quote
    emails = sorted(row[0] for row in select(destination, table, q(destination.name("Email"))))
    assert emails == ["changed@acme.example", "person1@acme.example"]


def test_rebuild_drops_the_table_first(open_destination):
    destination = open_destination()
    table = destination.prepare("Contact", COLUMNS, key="Id")
    destination.write(table, [contact(1), contact(2)])
    table = destination.prepare("Contact", COLUMNS[:2], key="Id", rebuild=True)
    assert table.created
    assert select(destination, table) == []
    assert "score__c" not in column_names(destination, table)


def test_a_value_that_does_not_fit_is_skipped_and_counted(open_destination):
    destination = open_destination()
    table = destination.prepare("Contact", COLUMNS, key="Id")
    written = destination.write(table, [contact(1), contact(2, Score__c="a lot"), contact(3)])
    assert (written.upserted, written.errors) == (2, 1)
    assert "00300002" in written.first_error and "Score__c" in written.first_error
    assert select(destination, table, destination.quote(destination.name("Id"))) == [("00300001",), ("00300003",)]


def test_values_in_every_form_a_source_sends_land_as_their_column_types(open_destination):
    destination = open_destination()
    columns = [Column("Id", STRING), Column("Note", STRING), Column("Count", INTEGER), Column("Score", NUMBER),
               Column("Active", BOOLEAN), Column("Day", DATE), Column("At", DATETIME), Column("Meta", OBJECT),
               Column("Tags", ARRAY)]
    table = destination.prepare("Thing", columns, key="Id")
    at = datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc)
    written = destination.write(table, [
        {"Id": "a", "Note": "", "Count": "12.0", "Score": "1.5", "Active": True, "Day": "2026-03-04T05:06:07Z",
         "At": int(at.timestamp() * 1000), "Meta": {"plan": "pro"}, "Tags": ["x", "y"], "_deleted": False},
        {"Id": "b", "Note": "it's \"quoted\"\ttabbed\nlined", "Count": 7, "Score": 2, "Active": "false",
         "Day": "2026-03-04", "At": "2026-01-01T10:00:00", "Meta": '{"plan": "free"}', "Tags": [], "_deleted": False},
        {"Id": "c", "Count": "", "Score": None, "Active": "", "Day": "", "At": "2026-01-01T11:00:00.000+0100",
         "Meta": None, "_deleted": True},
    ])
    assert (written.upserted, written.errors) == (3, 0)
    names = ", ".join(destination.quote(destination.name(name)) for name in [c.name for c in columns] + ["_deleted"])
    rows = {row[0]: row[1:] for row in select(destination, table, names)}
    note, count, score, active, day, moment, meta, tags, deleted = rows["a"]
    assert (note, count, score, active, day, deleted) == ("", 12, 1.5, True, date(2026, 3, 4), False)
    assert moment == at and as_json(meta) == {"plan": "pro"} and as_json(tags) == ["x", "y"]
    note, count, score, active, day, moment, meta, tags, deleted = rows["b"]
    assert (note, count, score, active, day, moment) == ("it's \"quoted\"\ttabbed\nlined", 7, 2.0, False,
                                                         date(2026, 3, 4), at)
    assert as_json(meta) == {"plan": "free"} and as_json(tags) == []
    assert rows["c"] == (None, None, None, None, None, at, None, None, True)


def as_json(value):
    return json.loads(value) if isinstance(value, str) else value


def test_names_kept_as_the_source_spells_them_and_no_timestamps(open_destination):
    destination = open_destination(normalize_names=False, record_timestamps=False)
    table = destination.prepare("Contact", COLUMNS, key="Id", table_name="Contacts")
    assert table.name == "Contacts"
    destination.write(table, [contact(1)])
    assert "_inserted_at" not in column_names(destination, table)
    assert select(destination, table, destination.quote("Email")) == [("person1@acme.example",)]
