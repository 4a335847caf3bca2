"""The one rule for a tenant's SQL: exactly one statement, and it only reads.

A model's query, and whatever a preview, describe or stream runs, is parsed
with sqlglot in the warehouse's dialect before it is sent. It must be a
SELECT (with or without WITH), or set operations of selects; no SELECT INTO,
no locking clause, no data-modifying CTE, nothing after it. Read-only
transactions and sessions still guard the warehouse where it has them; this
check keeps everything else from being sent at all.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from integrations.base import QueryError

DIALECTS = {"postgresql": "postgres", "mysql": "mysql", "snowflake": "snowflake", "sqlite": "sqlite"}
LONGEST = 100_000  # characters; parsing takes about half a second at this length

# Nodes that write, lock, run other statements or reach outside the query, wherever they appear.
FORBIDDEN = (
    exp.DML, exp.DDL, exp.Drop, exp.Alter, exp.TruncateTable, exp.Command, exp.Into, exp.Lock,
    exp.Set, exp.Pragma, exp.Attach, exp.Detach, exp.Transaction, exp.Commit, exp.Rollback,
    exp.Use, exp.Grant, exp.Revoke, exp.Put, exp.Get, exp.LoadData, exp.Install, exp.Export,
    exp.Execute, exp.Declare, exp.Kill, exp.Cache, exp.Uncache, exp.Refresh, exp.Analyze, exp.Comment,
)
WHAT = {exp.Into: "SELECT ... INTO", exp.Lock: "a locking clause (FOR UPDATE, FOR SHARE)"}


class QueryRefused(QueryError):
    """The console will not send this query: it is not exactly one read-only statement."""


def check_read_only(query: str, type_id: str) -> None:
    """Raise QueryRefused unless `query` is one SELECT (or WITH ... SELECT, or a set operation
    of selects) that writes nothing, in the dialect of the warehouse type `type_id`."""
    dialect = DIALECTS[type_id]
    if len(query) > LONGEST:
        raise QueryRefused(f"The query is longer than {LONGEST:,} characters.")
    try:
        if dialect == "mysql":
            refuse_executable_comments(query)
        statements = [s for s in sqlglot.parse(query, read=dialect) if s is not None]
    except (ParseError, TokenError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise QueryRefused(f"The query could not be read as one {dialect} statement ({reason}).") from None
    except RecursionError:
        raise QueryRefused("The query is nested too deeply to be checked.") from None
    if len(statements) != 1:
        raise QueryRefused(f"The query holds {len(statements)} statements; give exactly one SELECT.")
    statement = statements[0]
    body = statement.unnest() if isinstance(statement, exp.Subquery) else statement
    if not isinstance(body, (exp.Select, exp.SetOperation)):
        raise QueryRefused(f"Only a SELECT can be run here, not {statement_name(statement)}.")
    for node in statement.walk():
        if isinstance(node, exp.CTE) and not isinstance(node.this, (exp.Query, exp.Values)):
            raise QueryRefused(f"A WITH clause may only hold SELECTs, not {statement_name(node.this)}.")
        if isinstance(node, FORBIDDEN):
            raise QueryRefused(f"The query may only read; it holds {statement_name(node)}.")


def refuse_executable_comments(query: str) -> None:
    """MySQL runs what a /*! ... */ comment holds, unseen by the parser."""
    for token in Dialect.get_or_raise("mysql").tokenize(query):
        if any(comment.startswith(("!", "M!")) for comment in token.comments):
            raise QueryRefused("MySQL executable comments (/*! ... */) are not allowed in a query.")


def statement_name(node) -> str:
    for kind, name in WHAT.items():
        if isinstance(node, kind):
            return name
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return node.key.upper()
