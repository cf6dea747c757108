"""A stand-in for redshift_connector that records what the library sends to Redshift.

`FakeRedshift` is a DB-API 2 module (`paramstyle`, `connect`, the exception classes): a real
SQLAlchemy engine of the project's Redshift dialect takes it as its driver, `make_engine(
"redshift+redshift_connector://…", module=fake)`, so every statement goes through the same
compilation, execution context and parameter handling as against a cluster. Each cursor's
`execute`/`executemany` is recorded as a `Sent` (the operation and its parameters, exactly as
SQLAlchemy handed them to the driver); the few reads the library and the dialect make get
canned rows (`FakeRedshift.answer`), every other SELECT none.

`server_text(sent)` is then what redshift_connector itself would put on the wire for it: the
operation as is when no parameters were given (`cursor.execute(sql)`), else its `%s`
placeholders turned into `$1, $2, …` by the driver's own `convert_paramstyle` (which also turns
`%%` outside quoted text into `%`, and leaves quoted text alone). `redshift_tokens` reads such
text with Redshift's lexical rules, on which the properties of `tests/sql/
test_sent_to_redshift.py` are checked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import redshift_connector
from redshift_connector.core import convert_paramstyle

VERSION = (
    "PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 "
    "(Red Hat 3.4.2-6.fc3), Redshift 1.0.77467"
)
PID = 4242
REJECT_COLUMNS = ("filename", "line_number", "colname", "type", "raw_line", "raw_field_value",
                  "err_code", "err_reason")  # fmt: skip
RELATION_COLUMNS = ("relkind", "schema_oid", "schema", "rel_oid", "relname", "diststyle",
                    "owner_id", "owner_name", "view_definition", "privileges")  # fmt: skip


@dataclass(frozen=True)
class Sent:
    """One call of the driver: `parameters` None for `cursor.execute(operation)` alone."""

    operation: str
    parameters: Sequence[Any] | dict[str, Any] | None
    many: bool = False

    @property
    def server_text(self) -> str:
        return server_text(self)


def server_text(sent: Sent) -> str:
    """What redshift_connector sends to the server for this call (before binding values)."""
    if sent.parameters is None:
        return sent.operation  # the driver does not look into the statement at all
    statement, _ = convert_paramstyle(FakeRedshift.paramstyle, sent.operation)
    return str(statement)


@dataclass
class Answer:
    """Canned rows for the statements that match `pattern` (searched, case-insensitive)."""

    pattern: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


class FakeCursor:
    arraysize = 1

    def __init__(self, connection: FakeConnection) -> None:
        self.connection = connection
        self.description: list[tuple[Any, ...]] | None = None
        self.rowcount = -1
        self._rows: Iterator[tuple[Any, ...]] = iter(())
        self.paramstyle = FakeRedshift.paramstyle  # redshift_connector's cursors carry it too

    def execute(self, operation: str, parameters: Any = None) -> FakeCursor:
        self.connection.fake.sent.append(Sent(operation, parameters))
        self._respond(operation)
        return self

    def executemany(self, operation: str, parameter_sets: Sequence[Any]) -> FakeCursor:
        self.connection.fake.sent.append(Sent(operation, list(parameter_sets), many=True))
        self.description, self.rowcount = None, len(parameter_sets)
        return self

    def _respond(self, operation: str) -> None:
        answer = self.connection.fake.answer(operation)
        if answer is None:  # DDL or DML: one row changed (Alembic's version UPDATE checks it)
            dml = re.match(r"\s*(insert|update|delete)\b", operation, re.IGNORECASE)
            self.description, self.rowcount, self._rows = None, 1 if dml else -1, iter(())
            return
        self.description = [(name, 25, None, None, None, None, None) for name in answer.columns]
        self.rowcount = len(answer.rows)
        self._rows = iter(answer.rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        return next(self._rows, None)

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        return [row for _, row in zip(range(size or self.arraysize), self._rows, strict=False)]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def close(self) -> None:
        pass

    def setinputsizes(self, *args: Any) -> None:
        pass

    def setoutputsize(self, *args: Any) -> None:
        pass


class FakeConnection:
    def __init__(self, fake: FakeRedshift) -> None:
        self.fake = fake
        self.autocommit = False
        # sqlalchemy-redshift's on_connect maps quoted_name to the driver's str converter.
        self.py_types: dict[type, Any] = {str: object()}

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def commit(self) -> None:
        self.fake.transactions.append("COMMIT")

    def rollback(self) -> None:
        self.fake.transactions.append("ROLLBACK")

    def close(self) -> None:
        pass


STAGED_TS = 1543622400000  # 2018-12-01 00:00:00 UTC, in ms


class FakeRedshift:
    """The driver module: `create_engine(url, module=FakeRedshift(...))`.

    `tables`: the tables the catalogue says exist (has_table); `revision`: what
    alembic_version holds (None: no version table rows); `copy_count`: pg_last_copy_count();
    `count`: what every `SELECT count(*)` answers.
    """

    paramstyle = redshift_connector.paramstyle
    apilevel = "2.0"
    threadsafety = 1
    Warning = redshift_connector.Warning
    Error = redshift_connector.Error
    InterfaceError = redshift_connector.InterfaceError
    DatabaseError = redshift_connector.DatabaseError
    DataError = redshift_connector.DataError
    OperationalError = redshift_connector.OperationalError
    IntegrityError = redshift_connector.IntegrityError
    InternalError = redshift_connector.InternalError
    ProgrammingError = redshift_connector.ProgrammingError
    NotSupportedError = redshift_connector.NotSupportedError
    __version__ = redshift_connector.__version__

    def __init__(
        self,
        *,
        tables: Sequence[str] = (),
        revision: str | None = None,
        copy_count: int = 0,
        count: int = 0,
        ledger: Sequence[tuple[Any, ...]] = (),
    ) -> None:
        self.ledger = list(ledger)  # rows of `SELECT location, size, version, … FROM loaded_files`
        self.tables = set(tables)
        self.count = count
        self.revision = revision
        self.copy_count = copy_count
        self.sent: list[Sent] = []
        self.transactions: list[str] = []
        self.connections = 0

    def connect(self, *args: Any, **kwargs: Any) -> FakeConnection:
        self.connections += 1
        return FakeConnection(self)

    def answer(self, operation: str) -> Answer | None:
        """The canned answer to `operation`, None for a statement that returns no rows."""
        flat = " ".join(operation.split()).lower()
        relation = re.search(r"from pg_catalog\.pg_class .* and relname = '(\w+)'", flat)
        if relation:  # sqlalchemy-redshift's has_table
            name = relation.group(1)
            found = [("r", 2200, "public", 100, name, "EVEN", 100, "awsuser", None, None)]
            return Answer("", RELATION_COLUMNS, found if name in self.tables else [])
        canned = (
            Answer(r"^select pg_catalog\.version\(\)", ("version",), [(VERSION,)]),
            Answer(r"^select current_schema\(\)", ("current_schema",), [("public",)]),
            Answer(r"^show standard_conforming_strings", ("setting",), [("off",)]),
            Answer(r"^show transaction isolation level", ("setting",), [("serializable",)]),
            Answer(
                r"pg_backend_pid\(\).*getdate\(\)",  # copy/redshift.py: the mark before a COPY
                ("pg_backend_pid", "getdate"),
                [(PID, dt.datetime(2026, 11, 30, 12, 0, 0))],
            ),
            Answer(r"pg_backend_pid\(\)", ("pg_backend_pid",), [(PID,)]),
            Answer(r"pg_last_copy_count\(\)", ("pg_last_copy_count",), [(self.copy_count,)]),
            Answer(r"from (stl_load_errors|sys_load_error_detail)", REJECT_COLUMNS, []),
            Answer(
                r"from alembic_version",
                ("version_num",),
                [(self.revision,)] if self.revision else [],
            ),
            Answer(r"^select count\(\*\)", ("count",), [(self.count,)]),
            # checkscope.scope_for: the staged plays' first and last ts, and a staged song
            Answer(r"^select min\(staging_events\.ts\)", ("min", "max"), [(STAGED_TS, STAGED_TS)]),
            Answer(r"from staging_songs limit", ("one",), [(1,)]),
            Answer(
                r"from loaded_files",
                ("location", "size", "version", "last_modified"),
                self.ledger,
            ),
        )
        for answer in canned:
            if re.search(answer.pattern, flat):
                return answer
        if re.match(r"\(*\s*(select|with)\b", flat):
            return Answer("", ("column",), [])  # any other query: no rows
        return None

    def statements(self) -> list[str]:
        """Every statement sent, as the server receives it (parameters not filled in)."""
        return [sent.server_text for sent in self.sent]


# --- Reading what the server receives, with Redshift's lexical rules ---------------------------

# Redshift's string literals take '' and a backslash escape (\' is a quote inside the literal):
# https://docs.aws.amazon.com/redshift/latest/dg/r_QUOTE_LITERAL.html doubles both.
_TOKEN = re.compile(
    r"""
    (?P<string>[Ee]?'(?:[^'\\]|\\.|'')*')
  | (?P<unterminated>')
  | (?P<identifier>"(?:[^"]|"")*")
  | (?P<comment>--[^\n\r]*|/\*.*?\*/)
  | (?P<parameter>\$\d+)
  | (?P<word>[A-Za-z_][A-Za-z_0-9$]*)
  | (?P<open>\()
  | (?P<close>\))
  | (?P<semicolon>;)
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def redshift_tokens(sql: str) -> list[Token]:
    """`sql` cut into tokens as Redshift's lexer would (spaces dropped)."""
    tokens = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup or "other"
        if kind != "space":
            tokens.append(Token(kind, match.group()))
    return tokens


def written_strings(sql: str) -> list[str]:
    """The text inside each string literal of `sql`, as written (escapes not undone)."""
    return [t.text[t.text.index("'") + 1 : -1] for t in redshift_tokens(sql) if t.kind == "string"]


_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def string_value(literal: str) -> str:
    """The value Redshift reads from one string literal token (`'it''s'`, `'a\\\\b'`)."""
    body = literal[literal.index("'") + 1 : -1]
    return re.sub(
        r"''|\\(.)", lambda m: _ESCAPES.get(m[1], m[1]) if m[1] else "'", body, flags=re.S
    )


def string_values(sql: str) -> list[str]:
    """The value of each string literal in `sql`, as Redshift reads it."""
    return [string_value(t.text) for t in redshift_tokens(sql) if t.kind == "string"]


def split_statements(script: str) -> list[str]:
    """The statements of `script` as Redshift would cut it: at each `;` outside literals,
    quoted names and comments; each exactly as written, from its first token to its last."""
    statements = []
    start = end = None
    for match in _TOKEN.finditer(script):
        kind = match.lastgroup
        if kind in ("space", "comment"):
            continue
        if kind == "semicolon":
            if start is not None:
                statements.append(script[start:end])
            start = end = None
            continue
        if start is None:
            start = match.start()
        end = match.end()
    if start is not None:
        statements.append(script[start:end])
    return statements


# Words that end a query's SELECT list (at the query's own parenthesis depth).
_AFTER_SELECT_LIST = frozenset(
    {"from", "where", "group", "having", "order", "limit", "offset", "union", "intersect",
     "except", "minus", "into", "window", "qualify"}
)  # fmt: skip


def parameters_in_select_lists(sql: str) -> list[str]:
    """The placeholders (`$n`) of `sql` that are part of a SELECT list, or of a LIMIT/OFFSET.

    The rule: each parenthesis opens a frame; a frame becomes a query when SELECT appears in
    it, and its SELECT list runs from SELECT to the first clause word (FROM, WHERE, …, UNION) at
    the same depth. A placeholder belongs to the innermost query around it, and is reported
    when it is in that query's SELECT list, however deep in expressions (a CASE, a function
    call) it sits. A placeholder inside a subquery's own WHERE is that subquery's, so
    `SELECT (SELECT max(q) FROM t WHERE s = $1)` is not reported, but `SELECT coalesce(a, $1)`
    and `SELECT CASE WHEN a LIKE $1 THEN $2 END` are: their type comes from nothing Redshift
    can see before binding (driver issue 59: `SELECT %s FROM …` fails with "Invalid type: 705"),
    and Redshift does not take a parameter in LIMIT either (driver issue 24).
    """
    frames: list[dict[str, Any]] = [{"query": True, "state": "start"}]
    found = []
    for token in redshift_tokens(sql):
        frame = frames[-1]
        if token.kind == "open":
            frames.append({"query": False, "state": None})
        elif token.kind == "close":
            if len(frames) > 1:
                frames.pop()
        elif token.kind == "semicolon":
            frames = [{"query": True, "state": "start"}]
        elif token.kind == "word":
            word = token.text.lower()
            if word == "select":
                frame["query"], frame["state"] = True, "select"
            elif frame["query"] and word in ("limit", "offset"):
                frame["state"] = "limit"
            elif frame["query"] and word in _AFTER_SELECT_LIST:
                frame["state"] = "clause"
        elif token.kind == "parameter":
            query = next(f for f in reversed(frames) if f["query"])
            if query["state"] in ("select", "limit"):
                found.append(token.text)
    return found


def redshift_literal(value: Any) -> str:
    """A bound value written as Redshift SQL, as `sparkify-dw sql` writes it inline."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):  # a datetime too: '2018-11-01 08:30:00', as SQLAlchemy
        return f"'{value}'"
    text = str(value).replace("\\", "\\\\").replace("'", "''")
    return f"'{text}'"


def filled_in(sent: Sent) -> str:
    """The server's text of `sent` with each `$n` replaced by its value, written inline."""
    text = sent.server_text
    if sent.parameters is None or sent.many:
        return text
    parameters = sent.parameters
    values = list(parameters.values() if isinstance(parameters, dict) else parameters)
    out = []
    for match in _TOKEN.finditer(text):
        if match.lastgroup == "parameter":
            out.append(redshift_literal(values[int(match.group()[1:]) - 1]))
        else:
            out.append(match.group())
    return "".join(out)
