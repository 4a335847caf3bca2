"""The part of SOQL a sync connector uses, parsed and evaluated in Python.

Supported: ``SELECT f1, Parent.f2, COUNT() | FIELDS(ALL|STANDARD|CUSTOM) FROM Obj
[WHERE ...] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]``.
WHERE takes ``= != <> < <= > >= LIKE IN NOT IN``, ``AND OR NOT`` and parentheses,
with string, number, boolean, null, date, datetime literals and the date
literals TODAY, YESTERDAY and LAST_N_DAYS:n. Comparisons follow SOQL: text is
compared case-insensitively, and datetime fields only take unquoted datetime
literals.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import partial

from .sandbox_schema import NUMBER_TYPES, sobject, to_18


class SoqlError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*(?::\d+)?)
    """,
    re.VERBOSE,
)

KEYWORDS = {"select", "from", "where", "and", "or", "not", "in", "like", "order", "by", "asc", "desc",
            "nulls", "first", "last", "limit", "offset", "null", "true", "false", "includes", "excludes"}
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\",
           "%": "\\%", "_": "\\_"}


def tokenize(text):
    tokens, position = [], 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text[position:position + 10].split()[0]}'")
        position = match.end()
        kind = match.lastgroup
        if kind == "ws":
            continue
        value = match.group()
        if kind == "name" and value.lower() in KEYWORDS:
            kind = "keyword"
            value = value.lower()
        tokens.append((kind, value))
    return tokens


def unescape(literal):
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in ESCAPES:
                raise SoqlError("MALFORMED_QUERY", f"Invalid string literal '{literal}'. Illegal character sequence "
                                                   f"'\\{nxt}' in string literal.")
            out.append(ESCAPES[nxt])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def parse_datetime(value):
    """A SOQL datetime literal (or a stored timestamp) as an aware datetime."""
    text = value.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    return datetime.fromisoformat(text)


def format_datetime(moment):
    """Salesforce's JSON form: 2026-11-22T10:00:00.000+0000 (always UTC here)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


class Literal:
    def __init__(self, kind, value):
        self.kind = kind  # string, number, boolean, null, date, datetime, dateliteral
        self.value = value


class Comparison:
    def __init__(self, path, op, value):
        self.path, self.op, self.value = path, op, value


class BoolOp:
    def __init__(self, op, parts):
        self.op, self.parts = op, parts


class Query:
    def __init__(self):
        self.sobject = None
        self.select = []  # list of paths: ("Name",) or ("Account", "Name")
        self.count_only = False
        self.count_field = None
        self.where = None
        self.order = []  # (path, descending, nulls_last)
        self.limit = None
        self.offset = 0


class Parser:
    def __init__(self, text):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, offset=0):
        index = self.i + offset
        return self.tokens[index] if index < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        self.i += 1
        return token

    def unexpected(self):
        kind, value = self.peek()
        if kind is None:
            raise SoqlError("MALFORMED_QUERY", "unexpected token: '<EOF>'")
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{value}'")

    def expect_keyword(self, word):
        if self.peek() != ("keyword", word):
            self.unexpected()
        self.take()

    def at_keyword(self, word):
        return self.peek() == ("keyword", word)

    def parse(self):
        query = Query()
        self.expect_keyword("select")
        raw_select = self.parse_select_list(query)
        self.expect_keyword("from")
        kind, name = self.take()
        if kind != "name":
            self.i -= 1
            self.unexpected()
        obj = sobject(name)
        if obj is None:
            raise SoqlError("INVALID_TYPE", f"\n{self.text}\n{' ' * max(self.text.find(name), 0)}^\nERROR at Row:1:"
                                            f"Column:{self.text.find(name) + 1}\nsObject type '{name}' is not "
                                            "supported. If you are attempting to use a custom object, be sure to "
                                            "append the '__c' after the entity name. Please reference your WSDL or "
                                            "the describe call for the appropriate names.")
        query.sobject = obj
        query.select = [self.resolve_path(obj, path) for path in raw_select]
        if self.at_keyword("where"):
            self.take()
            query.where = self.parse_or(obj)
        if self.at_keyword("order"):
            self.take()
            self.expect_keyword("by")
            query.order = self.parse_order(obj)
        if self.at_keyword("limit"):
            self.take()
            query.limit = self.parse_int()
        if self.at_keyword("offset"):
            self.take()
            query.offset = self.parse_int()
            if query.offset > 2000:
                raise SoqlError("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
        if self.peek()[0] is not None:
            self.unexpected()
        if self.fields_function and self.fields_function != "standard" and (query.limit is None or query.limit > 200):
            raise SoqlError("MALFORMED_QUERY", "The SOQL FIELDS function must have a LIMIT of at most 200")
        return query

    def parse_int(self):
        kind, value = self.take()
        if kind != "number" or not value.isdigit():
            self.i -= 1
            self.unexpected()
        return int(value)

    def parse_select_list(self, query):
        paths = []
        self.fields_function = None
        while True:
            kind, value = self.take()
            if kind == "name" and value.lower() in ("count", "fields") and self.peek() == ("punct", "("):
                self.take()
                if value.lower() == "count":
                    if self.peek() == ("punct", ")"):
                        query.count_only = True
                    else:
                        arg_kind, arg = self.take()
                        if arg_kind != "name":
                            self.i -= 1
                            self.unexpected()
                        query.count_field = arg
                else:
                    arg_kind, arg = self.take()
                    if arg_kind != "name" or arg.lower() not in ("all", "standard", "custom"):
                        self.i -= 1
                        self.unexpected()
                    self.fields_function = arg.lower()
                    paths.append(("FIELDS", arg.lower()))
                if self.take() != ("punct", ")"):
                    self.i -= 1
                    self.unexpected()
            elif kind == "name":
                paths.append(tuple(value.split(".")))
            else:
                self.i -= 1
                self.unexpected()
            if self.peek() == ("punct", ","):
                self.take()
                continue
            return paths

    def resolve_path(self, obj, path):
        """Canonical field names for a (relationship, field) path, or INVALID_FIELD."""
        if path[0] == "FIELDS":
            return path
        if len(path) == 1:
            field = obj.field(path[0])
            if field is None:
                raise self.no_such_column(path[0], obj.name)
            return (field["name"],)
        if len(path) == 2:
            ref = obj.relationships.get(path[0].lower())
            if ref is None:
                raise SoqlError("INVALID_FIELD", f"Didn't understand relationship '{path[0]}' in field path. If "
                                                 "you are attempting to use a custom relationship, be sure to "
                                                 "append the '__r' after the custom relationship name.")
            parent = sobject(ref["referenceTo"][0])
            field = parent.field(path[1])
            if field is None:
                raise self.no_such_column(path[1], parent.name)
            return (ref["relationshipName"], field["name"])
        raise SoqlError("INVALID_FIELD", f"Field path '{'.'.join(path)}' is deeper than this sandbox supports")

    def no_such_column(self, name, entity):
        column = self.text.find(name) + 1
        return SoqlError("INVALID_FIELD", f"\n{self.text}\n{' ' * max(column - 1, 0)}^\nERROR at Row:1:Column:"
                                          f"{column}\nNo such column '{name}' on entity '{entity}'. If you are "
                                          "attempting to use a custom field, be sure to append the '__c' after the "
                                          "custom field name. Please reference your WSDL or the describe call for "
                                          "the appropriate names.")

    def parse_or(self, obj):
        parts = [self.parse_and(obj)]
        while self.at_keyword("or"):
            self.take()
            parts.append(self.parse_and(obj))
        return parts[0] if len(parts) == 1 else BoolOp("or", parts)

    def parse_and(self, obj):
        parts = [self.parse_not(obj)]
        while self.at_keyword("and"):
            self.take()
            parts.append(self.parse_not(obj))
        return parts[0] if len(parts) == 1 else BoolOp("and", parts)

    def parse_not(self, obj):
        if self.at_keyword("not"):
            self.take()
            return BoolOp("not", [self.parse_not(obj)])
        if self.peek() == ("punct", "("):
            self.take()
            inner = self.parse_or(obj)
            if self.take() != ("punct", ")"):
                self.i -= 1
                self.unexpected()
            return inner
        return self.parse_comparison(obj)

    def parse_comparison(self, obj):
        kind, name = self.take()
        if kind != "name":
            self.i -= 1
            self.unexpected()
        path = self.resolve_path(obj, tuple(name.split(".")))
        field = field_for(obj, path)
        kind, op = self.take()
        if kind == "keyword" and op == "not" and self.at_keyword("in"):
            self.take()
            op = "not in"
        elif kind == "keyword" and op in ("in", "like", "includes", "excludes"):
            pass
        elif kind != "op":
            self.i -= 1
            self.unexpected()
        if op in ("in", "not in", "includes", "excludes"):
            if self.take() != ("punct", "("):
                self.i -= 1
                self.unexpected()
            values = [self.parse_literal(field)]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.parse_literal(field))
            if self.take() != ("punct", ")"):
                self.i -= 1
                self.unexpected()
            return Comparison(path, op, values)
        value = self.parse_literal(field)
        if op == "like" and value.kind != "string":
            raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", "LIKE takes a string value")
        return Comparison(path, "!=" if op == "<>" else op, value)

    def parse_literal(self, field):
        kind, value = self.take()
        ftype = field["type"]
        if kind == "keyword" and value == "null":
            return Literal("null", None)
        if kind == "keyword" and value in ("true", "false"):
            if ftype != "boolean":
                raise self.wrong_type(field, "boolean")
            return Literal("boolean", value == "true")
        if kind == "string":
            if ftype in ("datetime", "date"):
                raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{field['name']}' must be "
                                                 f"of type {'dateTime' if ftype == 'datetime' else 'date'} and "
                                                 "should not be enclosed in quotes")
            if ftype in NUMBER_TYPES or ftype == "boolean":
                raise self.wrong_type(field, ftype)
            return Literal("string", unescape(value))
        if kind == "number":
            if ftype not in NUMBER_TYPES:
                raise self.wrong_type(field, ftype)
            return Literal("number", float(value))
        if kind == "datetime":
            if ftype not in ("datetime", "date"):
                raise self.wrong_type(field, ftype)
            return Literal("datetime", parse_datetime(value))
        if kind == "date":
            if ftype not in ("datetime", "date"):
                raise self.wrong_type(field, ftype)
            return Literal("date", value)
        if kind == "name" and ftype in ("datetime", "date"):
            upper = value.upper()
            if upper in ("TODAY", "YESTERDAY") or re.fullmatch(r"LAST_N_DAYS:\d+", upper):
                return Literal("dateliteral", upper)
        self.i -= 1
        self.unexpected()

    def wrong_type(self, field, ftype):
        return SoqlError("INVALID_FIELD", f"value of filter criterion for field '{field['name']}' must be of type "
                                          f"{ftype} and should be enclosed in quotes"
                         if ftype in ("string", "email", "phone", "url", "picklist", "id", "reference", "textarea")
                         else f"value of filter criterion for field '{field['name']}' must be of type {ftype}")

    def parse_order(self, obj):
        order = []
        while True:
            kind, name = self.take()
            if kind != "name":
                self.i -= 1
                self.unexpected()
            path = self.resolve_path(obj, tuple(name.split(".")))
            descending = False
            if self.at_keyword("asc") or self.at_keyword("desc"):
                descending = self.take()[1] == "desc"
            nulls_last = descending
            if self.at_keyword("nulls"):
                self.take()
                kind, which = self.take()
                if which not in ("first", "last"):
                    self.i -= 1
                    self.unexpected()
                nulls_last = which == "last"
            order.append((path, descending, nulls_last))
            if self.peek() == ("punct", ","):
                self.take()
                continue
            return order


def parse(text):
    if not text or not text.strip():
        raise SoqlError("MALFORMED_QUERY", "unexpected token: '<EOF>'")
    return Parser(text.strip()).parse()


def field_for(obj, path):
    if len(path) == 1:
        return obj.field(path[0])
    ref = obj.relationships[path[0].lower()]
    return sobject(ref["referenceTo"][0]).field(path[1])


def expand_select(query):
    """Select paths with FIELDS(...) expanded, duplicates removed, order kept."""
    paths, seen = [], set()
    for path in query.select:
        if path[0] == "FIELDS":
            which = path[1]
            expanded = [(f["name"],) for f in query.sobject.fields
                        if which == "all" or (which == "custom") == f["custom"]]
        else:
            expanded = [path]
        for item in expanded:
            key = tuple(p.lower() for p in item)
            if key not in seen:
                seen.add(key)
                paths.append(item)
    return paths


class Evaluator:
    """Filters and sorts stored records; `parent(obj_name, id)` looks up relationship targets."""

    def __init__(self, query, parent, now=None):
        self.query = query
        self.parent = parent
        self.now = now or datetime.now(timezone.utc)

    def value(self, record, path):
        if len(path) == 1:
            return record.get(path[0])
        ref = self.query.sobject.relationships[path[0].lower()]
        parent_id = record.get(ref["name"])
        if not parent_id:
            return None
        parent = self.parent(ref["referenceTo"][0], parent_id)
        return parent.get(path[1]) if parent else None

    def matches(self, record, node=None):
        node = self.query.where if node is None else node
        if node is None:
            return True
        if isinstance(node, BoolOp):
            if node.op == "and":
                return all(self.matches(record, part) for part in node.parts)
            if node.op == "or":
                return any(self.matches(record, part) for part in node.parts)
            return not self.matches(record, node.parts[0])
        field = field_for(self.query.sobject, node.path)
        actual = self.value(record, node.path)
        if node.op in ("in", "not in"):
            found = any(self.compare(field, actual, "=", literal) for literal in node.value)
            return found if node.op == "in" else not found
        if node.op in ("includes", "excludes"):
            chosen = {v.lower() for v in (actual or "").split(";") if v}
            found = any(all(part.lower() in chosen for part in lit.value.split(";")) for lit in node.value)
            return found if node.op == "includes" else not found
        return self.compare(field, actual, node.op, node.value)

    def compare(self, field, actual, op, literal):
        if literal.kind == "null" or actual is None:
            if op == "=":
                return actual is None and literal.kind == "null"
            if op == "!=":
                return (actual is None) != (literal.kind == "null")
            return False
        ftype = field["type"]
        if literal.kind == "dateliteral":
            start, end = self.date_range(literal.value)
            moment = to_moment(actual, ftype)
            inside = start <= moment < end
            return {"=": inside, "!=": not inside, "<": moment < start, "<=": moment < end,
                    ">": moment >= end, ">=": moment >= start}.get(op, False)
        if ftype in ("datetime", "date"):
            left, right = to_moment(actual, ftype), to_moment(literal.value, ftype)
        elif ftype in NUMBER_TYPES:
            left, right = float(actual), literal.value
        elif ftype == "boolean":
            left, right = bool(actual), literal.value
        elif ftype in ("id", "reference"):
            left, right = to_18(str(actual)) or str(actual), to_18(literal.value) or literal.value
        else:
            left, right = str(actual).lower(), str(literal.value).lower()
        if op == "like":
            return like(str(actual), literal.value)
        return {"=": left == right, "!=": left != right, "<": left < right, "<=": left <= right,
                ">": left > right, ">=": left >= right}[op]

    def date_range(self, literal):
        today = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        if literal == "TODAY":
            return today, today + timedelta(days=1)
        if literal == "YESTERDAY":
            return today - timedelta(days=1), today
        days = int(literal.split(":")[1])
        return today - timedelta(days=days), today + timedelta(days=1)

    def sort_key(self, path, nulls_high, record):
        """A record's key for one ORDER BY term: nulls above or below every value, strings caseless."""
        value = self.value(record, path)
        if value is None:
            return (nulls_high,)
        return (not nulls_high, value.lower() if isinstance(value, str) else value)

    def run(self, records):
        rows = [r for r in records if self.matches(r)] if self.query.where is not None else list(records)
        for path, descending, nulls_last in reversed(self.query.order or []):  # stable: the last term first
            rows.sort(key=partial(self.sort_key, path, nulls_last != descending), reverse=descending)
        rows = rows[self.query.offset:]
        if self.query.limit is not None:
            rows = rows[: self.query.limit]
        return rows


def to_moment(value, ftype):
    if isinstance(value, datetime):
        return value
    if ftype == "date" or (isinstance(value, str) and len(value) == 10):
        return datetime.fromisoformat(value[:10]).replace(tzinfo=timezone.utc)
    return parse_datetime(value)


def like(value, pattern):
    regex, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            regex += re.escape(pattern[i + 1])
            i += 2
            continue
        regex += ".*" if char == "%" else "." if char == "_" else re.escape(char)
        i += 1
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None
