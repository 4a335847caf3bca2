"""Properties of the field mapper and the diff planner, over generated rows (hypothesis).

The mapper is pure and tested alone. The planner is tested through real runs
(fake rows, fake target, real database): each example makes its own sync, so
examples never see each other's fingerprints.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.engine.mapping import VALUE_ENCODER, Mapping, RowMapper, encode_values, identity_key, json_safe
from tests.engine.conftest import data_model, make_sync, run_in_process, target_connection, warehouse  # noqa: F401
from tests.engine.fakes import FakeTarget

PLANNER = settings(max_examples=25, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MAPPER = settings(max_examples=200, deadline=None, database=None)

# ---- the field mapper ------------------------------------------------------------

warehouse_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.datetimes(), st.dates(), st.uuids(), st.binary(max_size=8),
)
json_like = st.recursive(
    warehouse_values, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
column_names = st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True)


@MAPPER
@given(value=json_like)
def test_json_safe_values_are_plain_json(value):
    safe = json_safe(value)
    assert json.loads(json.dumps(safe)) == safe
    assert json_safe(safe) == safe, "converting twice changes nothing"


@MAPPER
@given(values=st.lists(json_like, max_size=6).map(tuple))
def test_the_fast_values_encoder_writes_what_the_json_encoder_writes(values):
    assert encode_values(values) == VALUE_ENCODER.encode(values), "fingerprints saved before stay valid"


@MAPPER
@given(value=json_like, case_insensitive=st.booleans())
def test_identity_key_is_a_usable_string_or_a_reason(value, case_insensitive):
    key, problem = identity_key(value, "email", case_insensitive)
    assert (key is None) == bool(problem)
    if key is not None:
        assert key == key.strip() and key and len(key) <= 500
        assert not case_insensitive or key == key.lower()
    else:
        assert "'email'" in problem


@st.composite
def mapping_and_row(draw):
    columns = draw(st.lists(column_names, min_size=1, max_size=6, unique=True))
    targets = draw(st.lists(st.text(min_size=1, max_size=8), min_size=len(columns),
                            max_size=len(columns), unique=True))
    identity_column = draw(st.sampled_from(columns))
    fields = [{"source": {"field": c}, "target": t} for c, t in zip(columns, targets) if c != identity_column]
    constants = draw(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=5), max_size=2))
    overrides = [{"target": t, "override_value": v} for t, v in constants.items()]
    identity = {"source": {"field": identity_column}, "target": "IDENTITY", "function": "Equality"}
    row = {c: draw(warehouse_values) for c in columns}
    return Mapping.from_sync(identity, fields, overrides), row


@MAPPER
@given(case=mapping_and_row(), upper=st.booleans())
def test_mapped_fields_carry_the_row_then_constants_then_the_identity(case, upper):
    mapping, row = case
    if upper:  # Snowflake answers with upper-case column names
        row = {c.upper(): v for c, v in row.items()}
    mapped = RowMapper(mapping)(row)
    value_of = {c.lower(): v for c, v in row.items()}
    expected = {target: json_safe(value_of[column]) for column, target in mapping.fields}
    expected.update(dict(mapping.constants))
    key, problem = identity_key(json_safe(value_of[mapping.identity_source]), mapping.identity_source)
    if not problem:
        expected["IDENTITY"] = json_safe(value_of[mapping.identity_source])
    assert mapped.record.fields == expected
    assert (mapped.key, mapped.problem) == (key, problem)


@MAPPER
@given(case=mapping_and_row(), data=st.data())
def test_the_fingerprint_ignores_column_order_and_follows_every_mapped_value(case, data):
    mapping, row = case
    digest = RowMapper(mapping)(row).fingerprint
    assert RowMapper(mapping)(dict(reversed(list(row.items())))).fingerprint == digest
    column = data.draw(st.sampled_from(sorted(row)))
    changed = {**row, column: [row[column]]}  # a value no warehouse value equals
    assert RowMapper(mapping)(changed).fingerprint != digest


# ---- the diff planner --------------------------------------------------------------

# A small pool of emails so that duplicates happen; None and blanks are invalid identities.
emails = st.one_of(st.sampled_from([f"p{i}@example.com" for i in range(8)]), st.sampled_from([None, "", "  "]))
people_rows = st.lists(
    st.fixed_dictionaries({"email": emails, "first_name": st.sampled_from(["Ada", "Bo", "Cy"]),
                           "plan": st.sampled_from(["free", "pro"])}),
    max_size=15,
)


def adds_up(e) -> bool:
    return e.queried + e.vanished == e.invalid + e.unchanged + e.inserted + e.updated + e.removed + e.errored


def first_row_per_identity(rows):
    """What the planner should keep: the first row of each usable identity, in order."""
    kept = {}
    for row in rows:
        key, problem = identity_key(row["email"], "email")
        if not problem and key not in kept:
            kept[key] = row
    return kept


@pytest.mark.django_db
@PLANNER
@given(rows=people_rows, batch_size=st.integers(1, 5))
def test_a_run_counts_add_up_and_sets_aside_null_and_duplicate_identities(make_sync, run_in_process, rows,
                                                                           batch_size):
    target = FakeTarget()
    e = run_in_process(make_sync(), rows, target, batch_size=batch_size)
    kept = first_row_per_identity(rows)
    assert e.status == "completed", e.error
    assert adds_up(e)
    assert (e.queried, e.invalid, e.inserted) == (len(rows), len(rows) - len(kept), len(kept))
    assert [r.identity for r in target.sent] == list(kept)
    assert {k: v["first"] for k, v in target.records.items()} == {k: r["first_name"] for k, r in kept.items()}


@pytest.mark.django_db
@PLANNER
@given(rows=people_rows, batch_size=st.integers(1, 5),
       mode=st.sampled_from(["updateOrCreate", "update", "create"]))
def test_planning_the_same_rows_twice_finds_everything_unchanged(make_sync, run_in_process, rows, batch_size,
                                                                 mode):
    sync, target = make_sync(mode=mode), FakeTarget()
    first = run_in_process(sync, rows, target, batch_size=batch_size)
    target.sent.clear()
    second = run_in_process(sync, rows, target, batch_size=batch_size)
    assert adds_up(first) and adds_up(second)
    assert target.sent == []
    assert (second.inserted, second.updated, second.removed, second.errored) == (0, 0, 0, 0)
    assert second.unchanged == first.inserted + first.updated
    assert second.invalid == first.invalid


@pytest.mark.django_db
@PLANNER
@given(rows=people_rows.filter(lambda rows: first_row_per_identity(rows)), data=st.data(),
       mode=st.sampled_from(["updateOrCreate", "update"]))
def test_a_changed_field_is_always_an_update(make_sync, run_in_process, rows, data, mode):
    sync, target = make_sync(mode=mode), FakeTarget()
    run_in_process(sync, rows, target)
    kept = first_row_per_identity(rows)
    changed_key = data.draw(st.sampled_from(sorted(kept)))
    changed = [dict(r) for r in rows]
    first_index = next(i for i, r in enumerate(changed) if r is not None and identity_key(r["email"], "")[0] == changed_key)
    changed[first_index]["plan"] = "enterprise"
    target.sent.clear()
    e = run_in_process(sync, changed, target)
    assert adds_up(e)
    assert [r.identity for r in target.sent] == [changed_key]
    assert (e.updated, e.inserted, e.unchanged) == (1, 0, len(kept) - 1)
    assert target.sent[0].fields["plan"] == "enterprise"
    assert target.sent[0].target_id == f"t-{changed_key}"
