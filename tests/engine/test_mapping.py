import datetime
import decimal
import uuid

import pytest

from console.engine.mapping import (
    Mapping,
    MappingError,
    RowMapper,
    identity_key,
    json_safe,
    without_create_only,
)

IDENTITY = {"source": {"model_id": "m", "field": "email"}, "target": "Email", "function": "Equality"}
FIELDS = [
    {"source": {"model_id": "m", "field": "first_name"}, "target": "FirstName"},
    {"source": {"model_id": "m", "field": "score"}, "target": "Score", "sync_mode": "create"},
    {"target": "Source", "override_value": "warehouse"},
]
OVERRIDES = [{"target": "Team", "override_value": "EMEA"}]


def mapper():
    return RowMapper(Mapping.from_sync(IDENTITY, FIELDS, OVERRIDES))


def test_a_row_becomes_identity_mapped_fields_and_constants():
    mapped = mapper()({"email": "ada@example.com", "first_name": "Ada", "score": decimal.Decimal("3")})
    assert mapped.key == "ada@example.com"
    assert mapped.problem == ""
    assert mapped.record.identity == "ada@example.com"
    assert mapped.record.fields == {
        "FirstName": "Ada", "Score": 3, "Source": "warehouse", "Team": "EMEA", "Email": "ada@example.com",
    }


def test_column_names_match_whatever_their_case():
    mapped = mapper()({"EMAIL": "ada@example.com", "FIRST_NAME": "Ada", "SCORE": 1})
    assert mapped.record.fields["FirstName"] == "Ada"


def test_a_missing_column_is_a_mapping_error_naming_it():
    with pytest.raises(MappingError, match="'score'"):
        mapper()({"email": "ada@example.com", "first_name": "Ada"})


@pytest.mark.parametrize("value, problem", [
    (None, "is null"), ("  ", "is empty"), ("x" * 501, "longer than 500"), ({"a": 1}, "holds a dict"),
])
def test_unusable_identities_carry_a_reason(value, problem):
    mapped = mapper()({"email": value, "first_name": "Ada", "score": 1})
    assert mapped.key is None
    assert problem in mapped.problem


def test_fingerprint_follows_the_mapped_values_and_nothing_else():
    row = {"email": "ada@example.com", "first_name": "Ada", "score": decimal.Decimal("3"), "unmapped": 1}
    digest = mapper()(row).fingerprint
    assert len(digest) == 32
    assert mapper()(dict(reversed(list(row.items())))).fingerprint == digest
    assert mapper()({k.upper(): v for k, v in row.items()}).fingerprint == digest
    assert mapper()({**row, "unmapped": 2}).fingerprint == digest
    assert mapper()({**row, "score": 3}).fingerprint == digest, "the same value sent, the same fingerprint"
    for column, other in [("email", "bob@example.com"), ("first_name", "Bob"), ("score", None)]:
        assert mapper()({**row, column: other}).fingerprint != digest


def test_a_changed_mapping_changes_every_fingerprint():
    row = {"email": "ada@example.com", "first_name": "Ada", "score": 3}
    other_constant = [{"target": "Team", "override_value": "APAC"}]
    assert (RowMapper(Mapping.from_sync(IDENTITY, FIELDS, other_constant))(row).fingerprint
            != mapper()(row).fingerprint)
    assert RowMapper(Mapping.from_sync(IDENTITY, FIELDS[:1], OVERRIDES))(row).fingerprint != mapper()(row).fingerprint


def test_identify_agrees_with_the_full_mapping():
    row = {"email": " Ada@example.com ", "first_name": "Ada", "score": 3}
    mapped = mapper()(row)
    assert mapper().identify(row) == (mapped.key, mapped.fingerprint, mapped.problem)


def test_warehouse_values_become_json_values():
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    some_id = uuid.uuid4()
    assert json_safe(decimal.Decimal("2.50")) == 2.5
    assert json_safe(decimal.Decimal("7")) == 7
    assert json_safe(when) == "2026-01-02T03:04:05+00:00"
    assert json_safe(datetime.date(2026, 1, 2)) == "2026-01-02"
    assert json_safe(some_id) == str(some_id)
    assert json_safe([decimal.Decimal("1"), {"k": when}]) == [1, {"k": "2026-01-02T03:04:05+00:00"}]


def test_case_insensitive_identity_functions_lower_the_key():
    assert identity_key("Ada@Example.com", "email", case_insensitive=True) == ("ada@example.com", "")
    assert identity_key(42, "id") == ("42", "")


def test_do_not_overwrite_fields_are_left_out_of_updates():
    mapping = Mapping.from_sync(IDENTITY, FIELDS, OVERRIDES)
    assert mapping.create_only == {"Score"}
    assert without_create_only({"Score": 1, "FirstName": "A"}, mapping.create_only) == {"FirstName": "A"}


def test_without_identity_a_row_is_its_own_key():
    mapped = RowMapper(Mapping.from_sync(None, FIELDS[:1], []))({"first_name": "Ada"})
    assert mapped.key == mapped.fingerprint
    assert mapped.record.identity is None
