"""The demo rows: deterministic, lazy, and shaped for the product brief's queries."""

import inspect
import itertools

from integrations.demo import data


def test_rows_are_deterministic_and_lazy():
    assert list(data.users(50)) == list(data.users(50))
    assert list(data.users(5, seed=1)) != list(data.users(5, seed=2))
    assert inspect.isgenerator(data.users(1_000_000))
    first = list(itertools.islice(data.salesforce_contacts(1_000_000), 3))
    assert [r["id"] for r in first] == [1, 2, 3]


def test_rows_follow_the_table_definitions():
    for table, columns in data.TABLES.items():
        row = next(data.rows(table, 1))
        assert list(row) == [name for name, _ in columns]


def test_columns_the_briefs_queries_use_exist():
    users = {name for name, _ in data.TABLES["users"]}
    contacts = {name for name, _ in data.TABLES["salesforce_contacts"]}
    assert {"last_activity_date", "plan", "first_name", "last_name", "email", "subscription_plan",
            "crm_contact_id"} <= users
    assert {"contact_id", "subscription_plan", "first_name", "last_name", "email"} <= contacts


def test_people_are_realistic_and_unique():
    users = list(data.users(5000))
    assert len({u["email"] for u in users}) == 5000
    assert {u["plan"] for u in users} == set(data.PLANS)
    assert all(u["subscription_plan"] in data.PLANS for u in users)
    assert all(u["email"].endswith("@" + u["domain"]) for u in users)
    assert all(u["created_at"].date() <= u["last_activity_date"] <= data.TODAY for u in users)


def test_contact_ids_link_the_tables_and_the_gong_sandbox():
    from integrations.gong.sandbox import PROSPECTS

    users = list(data.users(1200))
    contacts = list(data.salesforce_contacts(1200))
    assert [u["crm_contact_id"] for u in users] == [c["contact_id"] for c in contacts]
    ids = [c["contact_id"] for c in contacts]
    assert len(set(ids)) == len(ids) and all(len(i) == 18 and i.startswith("003") for i in ids)
    known = {crm_id for crm_id, kind in PROSPECTS if kind == "Contact"}
    gold = {c["contact_id"] for c in contacts if c["subscription_plan"] == "gold"}
    assert known & gold, "the Gong query finds contacts the sandbox knows"
    assert known <= set(ids)
