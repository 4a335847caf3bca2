"""Model filters: which of the model's rows a sync sends.

Conditions come from `model_filters{conditions[{source{field}, function, value, label}], logic}`
or the deprecated `filters[]` + `filter_logic` (model-side entries only). `logic` combines
labels with and / or / parentheses; without it every condition must hold.
"""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .mapping import MappingError

TRUE_WORDS = {"true", "t", "yes", "y", "1"}
UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800, "month": 2592000, "year": 31536000}


class FilterError(MappingError):
    """A filter that cannot be applied; the message says which and why."""


@dataclass(frozen=True)
class Condition:
    column: str
    function: str
    value: Any
    label: str


def conditions_of(sync) -> tuple[list[Condition], str]:
    model_filters = getattr(sync, "model_filters", None) or {}
    raw, logic = model_filters.get("conditions") or [], model_filters.get("logic") or ""
    if not raw:
        raw = [f for f in (sync.filters or []) if (f.get("field_type") or "Model") == "Model"]
        logic = sync.filter_logic or ""
    conditions = []
    for i, item in enumerate(raw):
        ref = item.get("source") or item.get("field") or {}
        column = ref.get("field") if isinstance(ref, dict) else ref
        column = column or item.get("field_id")
        if not column or not item.get("function"):
            raise FilterError(f"Filter {i + 1} names no field or no function.")
        conditions.append(Condition(str(column), item["function"], item.get("value"), item.get("label") or ""))
    return conditions, logic


class RowFilter:
    """Call with a row: True when the row passes. Columns resolve on the first row."""

    def __init__(self, conditions: list[Condition], logic: str = ""):
        self.conditions = conditions
        for c in conditions:
            if c.function not in FUNCTIONS:
                raise FilterError(f"Unknown filter function '{c.function}'.")
        labels = {c.label: i for i, c in enumerate(conditions) if c.label}
        self.expression = parse_logic(logic, labels) if logic.strip() else ("and", list(range(len(conditions))))
        self.columns: dict[str, str] | None = None

    def __bool__(self):
        return bool(self.conditions)

    def resolve(self, row: dict):
        by_lower = {str(k).lower(): k for k in row}
        self.columns = {}
        for c in self.conditions:
            key = c.column if c.column in row else by_lower.get(c.column.lower())
            if key is None:
                raise FilterError(f"The filter on '{c.column}' names a column the model does not return.")
            self.columns[c.column] = key

    def __call__(self, row: dict) -> bool:
        if self.columns is None:
            self.resolve(row)
        return self.evaluate(self.expression, row)

    def evaluate(self, node, row) -> bool:
        if isinstance(node, int):
            c = self.conditions[node]
            return FUNCTIONS[c.function](row[self.columns[c.column]], c.value)
        op, parts = node
        results = (self.evaluate(p, row) for p in parts)
        return all(results) if op == "and" else any(results)


def parse_logic(logic: str, labels: dict[str, int]):
    """'A and (B or C)' -> ("and", [0, ("or", [1, 2])])."""
    tokens = re.findall(r"\(|\)|[^\s()]+", logic)
    position = 0

    def peek():
        return tokens[position].lower() if position < len(tokens) else None

    def take():
        nonlocal position
        position += 1
        return tokens[position - 1]

    def expression(op="or"):
        parts = [term() if op == "or" else factor()]
        while peek() == op:
            take()
            parts.append(term() if op == "or" else factor())
        return parts[0] if len(parts) == 1 else (op, parts)

    def term():
        return expression("and")

    def factor():
        token = take() if peek() is not None else None
        if token == "(":
            inner = expression()
            if peek() != ")":
                raise FilterError(f"Unbalanced parentheses in filter logic '{logic}'.")
            take()
            return inner
        if token not in labels:
            raise FilterError(f"Filter logic '{logic}' names '{token}', which no filter is labelled.")
        return labels[token]

    result = expression()
    if position != len(tokens):
        raise FilterError(f"Cannot read filter logic '{logic}'.")
    return result


# ---- the functions ---------------------------------------------------------------


def number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def moment(value):
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time(), datetime.timezone.utc)
    if isinstance(value, str):
        try:
            return moment(datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def comparable(a, b):
    """Both as numbers, else both as times, else both as strings."""
    na, nb = number(a), number(b)
    if na is not None and nb is not None:
        return na, nb
    ma, mb = moment(a), moment(b)
    if ma is not None and mb is not None:
        return ma, mb
    return str(a), str(b)


def equal(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return truthy(a) == truthy(b)
    x, y = comparable(a, b)
    return x == y


def truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in TRUE_WORDS
    return bool(value)


def compare(check):
    def function(value, given):
        if value is None or given is None:
            return False
        x, y = comparable(value, given)
        return check(x, y)
    return function


def text(check):
    def function(value, given):
        if value is None:
            return False
        return check(str(value).lower(), str(given or "").lower())
    return function


def options(given) -> list[str]:
    if isinstance(given, str):
        given = [part for part in given.split(",")]
    return [str(g).strip().lower() for g in (given or [])]


def between(value, given) -> bool:
    if isinstance(given, dict):
        low = given.get("from", given.get("start", given.get("min")))
        high = given.get("to", given.get("end", given.get("max")))
    else:
        low, high = (list(given) + [None, None])[:2]
    return compare(lambda x, y: x >= y)(value, low) and compare(lambda x, y: x <= y)(value, high)


def seconds(given) -> float:
    """'7 days', '12 hours', {"amount": 7, "unit": "days"} or a number of days."""
    if isinstance(given, dict):
        amount, unit = given.get("amount", given.get("value")), given.get("unit", "day")
    elif isinstance(given, str) and given.strip():
        parts = given.split()
        amount, unit = parts[0], parts[1] if len(parts) > 1 else "day"
    else:
        amount, unit = given, "day"
    unit = str(unit).lower().rstrip("s")
    if number(amount) is None or unit not in UNITS:
        raise FilterError(f"Cannot read the relative time '{given}'.")
    return float(number(amount)) * UNITS[unit]


def relative(check):
    def function(value, given):
        when = moment(value)
        if when is None:
            return False
        edge = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds(given))
        return check(when, edge)
    return function


def like(value, given) -> bool:
    if value is None:
        return False
    pattern = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in str(given or ""))
    return re.fullmatch(pattern, str(value), flags=re.IGNORECASE | re.DOTALL) is not None


def array_contains(value, given) -> bool:
    items = value if isinstance(value, (list, tuple)) else []
    return any(equal(item, given) for item in items)


FUNCTIONS = {
    "Equality": equal,
    "Inequality": lambda v, g: not equal(v, g),
    "IsNull": lambda v, g: v is None,
    "IsNotNull": lambda v, g: v is not None,
    "True": lambda v, g: v is not None and truthy(v),
    "False": lambda v, g: v is not None and not truthy(v),
    "GreaterThan": compare(lambda x, y: x > y),
    "GreaterThanEqual": compare(lambda x, y: x >= y),
    "LessThan": compare(lambda x, y: x < y),
    "LessThanEqual": compare(lambda x, y: x <= y),
    "OnOrAfter": compare(lambda x, y: x >= y),
    "OnOrBefore": compare(lambda x, y: x <= y),
    "Between": between,
    "StringContains": text(lambda v, g: g in v),
    "StringStartsWith": text(lambda v, g: v.startswith(g)),
    "StringEndsWith": text(lambda v, g: v.endswith(g)),
    "StringDoesNotContain": lambda v, g: not text(lambda a, b: b in a)(v, g),
    "StringDoesNotStartWith": lambda v, g: not text(lambda a, b: a.startswith(b))(v, g),
    "StringDoesNotEndWith": lambda v, g: not text(lambda a, b: a.endswith(b))(v, g),
    "StringOneOf": lambda v, g: v is not None and str(v).strip().lower() in options(g),
    "StringNotOneOf": lambda v, g: v is None or str(v).strip().lower() not in options(g),
    "StringLike": like,
    "StringNotLike": lambda v, g: not like(v, g),
    "StringMatchesTrimmed": lambda v, g: v is not None and str(v).strip().lower() == str(g or "").strip().lower(),
    "ArrayContains": array_contains,
    "ArrayDoesNotContain": lambda v, g: not array_contains(v, g),
    "InTheLast": relative(lambda when, edge: when >= edge),
    "RelativeOnOrAfter": relative(lambda when, edge: when >= edge),
    "RelativeOnOrBefore": relative(lambda when, edge: when <= edge),
}


def row_filter(sync) -> RowFilter:
    conditions, logic = conditions_of(sync)
    return RowFilter(conditions, logic)
