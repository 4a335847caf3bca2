import datetime

import pytest

from console.engine.filters import Condition, FilterError, RowFilter, parse_logic
from tests.engine.fakes import FakeTarget
from tests.engine.test_run import people


def passes(function, value, given):
    return RowFilter([Condition("x", function, given, "")])({"x": value})


@pytest.mark.parametrize("function, value, given, expected", [
    ("Equality", "gold", "gold", True), ("Equality", 3, "3", True), ("Equality", "3.0", 3, True),
    ("Equality", None, "x", False), ("Inequality", None, "x", True),
    ("IsNull", None, None, True), ("IsNotNull", "", None, True),
    ("True", "true", None, True), ("True", False, None, False), ("False", 0, None, True),
    ("GreaterThan", "10", 9, True), ("GreaterThan", "10", 11, False), ("LessThanEqual", 5, "5", True),
    ("OnOrAfter", datetime.date(2026, 3, 1), "2026-02-28T23:00:00Z", True),
    ("OnOrBefore", "2026-03-01T00:00:00+00:00", "2026-02-28", False),
    ("Between", 5, [1, 10], True), ("Between", 11, {"from": 1, "to": 10}, False),
    ("StringContains", "Gold Plan", "gold", True), ("StringStartsWith", "gold", "go", True),
    ("StringEndsWith", "gold", "xd", False), ("StringDoesNotContain", "silver", "gold", True),
    ("StringOneOf", "Gold", ["gold", "silver"], True), ("StringOneOf", "bronze", "gold,silver", False),
    ("StringNotOneOf", "bronze", ["gold"], True),
    ("StringLike", "ada@example.com", "%@example.com", True), ("StringNotLike", "ada@x.io", "%@example.com", True),
    ("StringMatchesTrimmed", "  Gold ", "gold", True),
    ("ArrayContains", ["a", "b"], "b", True), ("ArrayDoesNotContain", ["a"], "b", True),
])
def test_filter_functions(function, value, given, expected):
    assert passes(function, value, given) is expected


def test_relative_times():
    now = datetime.datetime.now(datetime.timezone.utc)
    assert passes("InTheLast", now - datetime.timedelta(days=2), "7 days")
    assert not passes("InTheLast", now - datetime.timedelta(days=9), {"amount": 7, "unit": "days"})
    assert passes("RelativeOnOrBefore", now - datetime.timedelta(hours=3), "2 hours")
    with pytest.raises(FilterError):
        passes("InTheLast", now, "soon")


def test_logic_combines_labels():
    conditions = [
        Condition("plan", "Equality", "gold", "A"),
        Condition("plan", "Equality", "silver", "B"),
        Condition("active", "True", None, "C"),
    ]
    f = RowFilter(conditions, "(A or B) and C")
    assert f({"plan": "silver", "active": True})
    assert not f({"plan": "silver", "active": False})
    assert not f({"plan": "bronze", "active": True})
    assert RowFilter(conditions[:1] + conditions[2:])({"plan": "gold", "active": "yes"}), "no logic: all must hold"
    assert parse_logic("A and B or C", {"A": 0, "B": 1, "C": 2}) == ("or", [("and", [0, 1]), 2])
    with pytest.raises(FilterError, match="names 'D'"):
        RowFilter(conditions, "A and D")
    with pytest.raises(FilterError, match="Unbalanced"):
        RowFilter(conditions, "(A and B")


def test_a_filter_on_a_missing_column_is_explained():
    with pytest.raises(FilterError, match="'tier'"):
        RowFilter([Condition("tier", "Equality", "x", "")])({"plan": "gold"})


@pytest.mark.django_db
def test_a_run_sends_only_rows_that_pass_the_filters(make_sync, data_model, run_in_process):
    condition = {"field": {"model_id": str(data_model.pk), "field": "plan"}, "field_type": "Model",
                 "function": "Equality", "value": "gold", "label": "A"}
    sync = make_sync(filters=[condition], filter_logic="A")
    target = FakeTarget()
    rows = people(3) + people(2, plan="gold", start=3)
    e = run_in_process(sync, rows, target)
    assert sorted(r.identity for r in target.sent) == ["p3@example.com", "p4@example.com"]
    assert e.queried == 2
    assert e.logs.filter(message__startswith="3 rows did not pass").exists()


def test_model_filters_win_over_the_deprecated_list():
    from types import SimpleNamespace

    from console.engine.filters import conditions_of

    sync = SimpleNamespace(
        model_filters={"conditions": [{"source": {"model_id": "m", "field": "plan"}, "function": "IsNotNull",
                                       "label": "X"}], "logic": "X"},
        filters=[{"field": {"field": "other"}, "function": "IsNull", "field_type": "Model"},
                 {"field": {"field": "t"}, "function": "IsNull", "field_type": "Target"}],
        filter_logic="",
    )
    assert conditions_of(sync) == ([Condition("plan", "IsNotNull", None, "X")], "X")
    sync.model_filters = None
    assert [c.column for c in conditions_of(sync)[0]] == ["other"], "target filters are the target's business"
