"""Data-quality checks of the warehouse: each a named SQLAlchemy Core query of offending rows.

Every check selects the rows that break one rule of the data contract (spec/data-contract.md);
a check passes when it selects none. The same expression trees run on DuckDB, PostgreSQL and
Redshift, where keys are informational only, which is why the uniqueness and reference checks
exist. `run_checks(bind)` runs them all and returns a `CheckResult` per check: its name,
severity, how many rows offend, and a few of them.

    from sparkify_dw import make_engine
    from sparkify_dw.checks import run_checks

    for result in run_checks(make_engine("duckdb:///sparkify.duckdb")):
        print(result.name, result.passed, result.offending, result.examples)

`run_checks(bind, scope="load")` reads, of each star table, only the rows the batch still in
staging names (what `run` checks after its load; sparkify_dw.checkscope says which rows).

Two rules need a word:

- `staged_plays_loaded`: staging holds only the last load's batch (a load empties it first),
  so after incremental loads `songplays` holds more plays than staging has NextSong events. The
  check is one-way: every staged NextSong play with a userId (one per play identity
  `(user_id, session_id, start_time)`) is in `songplays`. After one full load, or a
  `--full-refresh`, that is the same as "songplays holds exactly the staged plays".
- `load_errors_reviewed` (a warning): `load_errors` is the list of rejected records still to be
  looked at. Every row in it counts as unreviewed; reviewing means fixing the source (and
  loading it again) or accepting the loss, then `DELETE FROM load_errors WHERE load_id = '…'`.
  The table keeps the rejects of failed loads too (they are written outside the load's
  transaction), which are as much worth a look.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from html import escape
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Engine,
    String,
    and_,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CompoundSelect, Select

from sparkify_dw.checkscope import Scope, lookup, rows, scope_for
from sparkify_dw.display import data_frame, short
from sparkify_dw.errors import DatabaseError, SparkifyError, driver_reason
from sparkify_dw.merge import within
from sparkify_dw.models import TABLES, Tables
from sparkify_dw.sql import EpochMsToTimestamp, time_part
from sparkify_dw.timeparts import TIME_PARTS
from sparkify_dw.transforms import has_user, is_play
from sparkify_dw.urls import redact_url
from sparkify_dw.warehouse import NoWarehouseError as NoWarehouseError  # raised here too
from sparkify_dw.warehouse import open_warehouse, require_tables

EXAMPLES = 5  # offending rows kept per check

if TYPE_CHECKING:
    from typing import TypeAlias

    # A SELECT, or a UNION ALL of them (generic on SQLAlchemy 2.1 only: never evaluated).
    Query: TypeAlias = Select[Any] | CompoundSelect[*tuple[Any, ...]]


class Severity(StrEnum):
    ERROR = "error"  # the warehouse breaks the data contract: `check` and `run` exit 1
    WARNING = "warning"  # worth a look; the exit code stays 0


class ChecksFailed(SparkifyError):
    """At least one error-severity check failed; `results` holds every check's result."""

    def __init__(self, message: str, results: Sequence[CheckResult]) -> None:
        super().__init__(message)
        self.results = tuple(results)


@dataclass(frozen=True)
class Check:
    """One rule: `query` selects the rows that break it (none when the warehouse is sound)."""

    name: str
    description: str
    query: Callable[[Tables], Query]
    severity: Severity = Severity.ERROR

    def offending(self, tables: Tables | None = None) -> Query:
        """The offending rows, in the order the examples are taken."""
        return self.query(tables or TABLES)

    def count(self, tables: Tables | None = None) -> Select[Any]:
        """`SELECT count(*)` of the offending rows."""
        rows = self.offending(tables).order_by(None).subquery("offending")
        return select(func.count()).select_from(rows)

    def examples(self, tables: Tables | None = None, limit: int = EXAMPLES) -> Query:
        """The first `limit` offending rows."""
        return self.offending(tables).limit(limit)


@dataclass(frozen=True)
class CheckResult:
    """What one check found. `examples` are offending rows as {column: value}."""

    name: str
    description: str
    severity: Severity
    offending: int
    examples: tuple[dict[str, Any], ...] = field(default=())

    @property
    def passed(self) -> bool:
        return self.offending == 0

    @property
    def failed(self) -> bool:
        """Not passed, and an error: what makes `check` (and `run`) exit 1."""
        return not self.passed and self.severity is Severity.ERROR

    @property
    def status(self) -> str:
        """passed, warning (not passed, a warning) or failed (not passed, an error)."""
        if self.passed:
            return "passed"
        return "warning" if self.severity is Severity.WARNING else "failed"

    @property
    def state(self) -> str:
        """passed, FAILED (an error) or warning."""
        if self.passed:
            return "passed"
        return "FAILED" if self.severity is Severity.ERROR else "warning"

    def __str__(self) -> str:
        state = "passed" if self.passed else f"{self.offending:,} offending ({self.severity})"
        return f"{self.name}: {state}"

    def to_dict(self) -> dict[str, Any]:
        """The result as plain data; the examples' dates and times in ISO format, decimals as
        numbers (sparkify_dw/schemas/check.schema.json)."""
        from sparkify_dw.analytics import to_json_value

        return {
            "name": self.name,
            "description": self.description,
            "severity": str(self.severity),
            "status": self.status,
            "offending": self.offending,
            "examples": [
                {column: to_json_value(value) for column, value in row.items()}
                for row in self.examples
            ],
        }

    def __repr__(self) -> str:
        # Short: the examples are dicts of whole rows (a load's reject lines among them).
        more = f", {len(self.examples)} example(s)" if self.examples else ""
        return f"<CheckResult {self.name}: {self.state}, {self.offending:,} offending{more}>"

    def _repr_html_(self) -> str:
        head = f"<p><b>{escape(self.name)}</b>: {escape(self.description)}</p>"
        return head + _results_table([self])


class CheckResults(list[CheckResult]):
    """The results of a run of the checks, in order: a list, that a notebook shows as a table.

    `passed` is True when no error-severity check failed (warnings allowed); `failures` the
    checks that did fail; `scope` the rows they read: "warehouse" (every row) or "load" (those
    the last load's batch names, what `run` checks).
    """

    def __init__(self, results: Iterable[CheckResult] = (), *, scope: Scope = "warehouse") -> None:
        super().__init__(results)
        self.scope: Scope = scope

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[CheckResult]:
        return failures(self)

    def summary(self) -> str:
        """`15 checks: 14 passed, 0 failed, 1 warning(s)` (`15 checks of the load's rows: …`
        when they read only the rows a load's batch names)."""
        passed = sum(r.passed for r in self)
        warned = sum(not r.passed and r.severity is Severity.WARNING for r in self)
        what = " of the load's rows" if self.scope == "load" else ""
        return (
            f"{len(self)} checks{what}: {passed} passed, {len(self.failures)} failed, "
            f"{warned} warning(s)"
        )

    def to_pandas(self) -> Any:
        """One row per check: name, severity, state, offending, description."""
        rows = [(r.name, str(r.severity), r.state, r.offending, r.description) for r in self]
        columns = ("name", "severity", "state", "offending", "description")
        return data_frame(columns, rows, "CheckResults.to_pandas")

    def __repr__(self) -> str:
        lines = [f"<CheckResults {self.summary()}"]
        lines += [
            f"  {r.name}: {r.state} ({r.offending:,} offending)" for r in self if not r.passed
        ]
        return "\n".join(lines) + ">"

    def _repr_html_(self) -> str:
        return f"<p>{escape(self.summary())}</p>" + _results_table(self)


def _results_table(results: Sequence[CheckResult]) -> str:
    rows = [
        (r.name, r.severity.value, _STATE_HTML[r.state], f"{r.offending:,}", _examples(r))
        for r in results
    ]
    return _raw_html_table(("check", "severity", "result", "offending", "examples"), rows)


_STATE_HTML = {
    "passed": '<span style="color:#1a7f37">passed</span>',
    "FAILED": '<b style="color:#cf222e">FAILED</b>',
    "warning": '<span style="color:#9a6700">warning</span>',
}


def _examples(result: CheckResult) -> str:
    lines = [
        escape(", ".join(f"{k}={short(v, 40)}" for k, v in row.items())) for row in result.examples
    ]
    more = result.offending - len(result.examples)
    if lines and more > 0:
        lines.append(f"… and {more:,} more")
    return "<br>".join(lines)


def _raw_html_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A table whose cells are HTML already (escaped where they hold data)."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f'<td style="text-align:left">{cell}</td>' for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# The rules ----------------------------------------------------------------------------------


def _text(value: Any) -> ColumnElement[str]:
    return literal(value, String)


def _not_empty(t: Tables) -> Query:
    # One row per empty table: an aggregate without GROUP BY has one row, HAVING drops it. It
    # counts one row at most (LIMIT 1): count(*) of a whole table read it all. Always the whole
    # table, also in a load's scope (a load that brought nothing empties no table).
    empty = [
        select(_text(table.name).label("table_name"))
        .select_from(select(literal(1).label("one")).select_from(table).limit(1).subquery())
        .having(func.count() == 0)
        for table in t.star
    ]
    union = union_all(*empty)
    return union.order_by(union.selected_columns.table_name)


# Keys that must never be NULL: the primary keys, the play identity, and a song's artist.
# Every one is NOT NULL in the schema except songs.artist_id, so on a warehouse built by the
# migrations only that one can fail; the others guard tables changed by hand or by other tools.
# (songplays.song_id/artist_id are NULL for a play whose song is not in the catalogue.)
_KEYS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("songplays", ("songplay_id", "user_id", "session_id", "start_time"), "songplay_id"),
    ("users", ("user_id",), None),
    ("songs", ("song_id", "artist_id"), "song_id"),
    ("artists", ("artist_id",), None),
    ("time", ("start_time",), None),
)


def _null_keys(t: Tables) -> Query:
    parts = []
    for name, columns, row_key in _KEYS:
        table = rows(t, name)
        for column in columns:
            key = (
                table.c[row_key].cast(String)
                if row_key and row_key != column
                else null().cast(String)
            )
            parts.append(
                select(
                    _text(name).label("table_name"),
                    _text(column).label("column_name"),
                    key.label("row_key"),
                ).where(table.c[column].is_(None))
            )
    union = union_all(*parts)
    c = union.selected_columns
    return union.order_by(c.table_name, c.column_name, c.row_key)


def _unique(name: str, *key: str) -> Callable[[Tables], Query]:
    def query(t: Tables) -> Query:
        columns = [rows(t, name).c[k] for k in key]
        copies = func.count().label("copies")
        return (
            select(*columns, copies)
            .group_by(*columns)
            .having(func.count() > 1)
            .order_by(func.count().desc(), *columns)
        )

    return query


def _plays_reference(target: str, column: str, *, nullable: bool) -> Callable[[Tables], Query]:
    """Plays whose `column` is not in `target` (NULL allowed when `nullable`): the whole table,
    or in a load's scope the part of it that holds every row the checked plays can name."""

    def query(t: Tables) -> Query:
        p, dim = rows(t, "songplays"), lookup(t, target)
        missing = dim.c[column].is_(None)
        where = [p.c[column].is_not(None), missing] if nullable else [missing]
        shown = [p.c.songplay_id, p.c.start_time, p.c.user_id, p.c.session_id]
        if column not in ("start_time", "user_id"):
            shown.append(p.c[column])
        return (
            select(*shown)
            .select_from(p.outerjoin(dim, p.c[column] == dim.c[column]))
            .where(*where)
            .order_by(p.c.start_time, p.c.user_id, p.c.session_id)
        )

    return query


def _songs_have_artists(t: Tables) -> Query:
    s, a = rows(t, "songs"), t.artists
    return (
        select(s.c.song_id, s.c.title, s.c.artist_id)
        .select_from(s.outerjoin(a, s.c.artist_id == a.c.artist_id))
        .where(s.c.artist_id.is_not(None), a.c.artist_id.is_(None))
        .order_by(s.c.song_id)
    )


def _staged_plays_loaded(t: Tables) -> Query:
    e, p = t.staging_events, t.songplays
    staged = (
        select(
            e.c.user_id,
            e.c.session_id,
            EpochMsToTimestamp(e.c.ts).label("start_time"),
        )
        .where(is_play(t), *has_user(t))
        .distinct()
        .subquery("staged")
    )
    same_play = and_(
        p.c.user_id == staged.c.user_id,
        p.c.session_id == staged.c.session_id,
        p.c.start_time == staged.c.start_time,
        within(p.c.start_time, EpochMsToTimestamp(e.c.ts)),  # implied: the batch's days
    )
    return (
        select(staged.c.user_id, staged.c.session_id, staged.c.start_time)
        .select_from(staged.outerjoin(p, same_play))
        .where(p.c.songplay_id.is_(None))
        .order_by(staged.c.start_time, staged.c.user_id, staged.c.session_id)
    )


def _time_parts_match(t: Tables) -> Query:
    time = rows(t, "time")
    wrong = [
        or_(time.c[column].is_(None), time.c[column] != time_part(part, time.c.start_time))
        for column, part in TIME_PARTS.items()
    ]
    return (
        select(time.c.start_time, *(time.c[column] for column in TIME_PARTS))
        .where(or_(*wrong))
        .order_by(time.c.start_time)
    )


def _load_errors(t: Tables) -> Query:
    e = t.load_errors
    return select(
        e.c.load_id,
        e.c.starttime,
        e.c.table_name,
        e.c.filename,
        e.c.line_number,
        e.c.colname,
        e.c.err_code,
        e.c.err_reason,
    ).order_by(e.c.starttime.desc(), e.c.id)


CHECKS: tuple[Check, ...] = (
    Check("star_tables_not_empty", "every star table has rows", _not_empty),
    Check(
        "no_null_keys",
        "no NULL key: primary keys, the play identity, a song's artist_id",
        _null_keys,
    ),
    Check("unique_users", "one users row per user_id", _unique("users", "user_id")),
    Check("unique_songs", "one songs row per song_id", _unique("songs", "song_id")),
    Check("unique_artists", "one artists row per artist_id", _unique("artists", "artist_id")),
    Check("unique_time", "one time row per start_time", _unique("time", "start_time")),
    Check(
        "unique_plays",
        "one songplays row per play (user_id, session_id, start_time)",
        _unique("songplays", "user_id", "session_id", "start_time"),
    ),
    Check(
        "plays_have_users",
        "every play's user_id is in users",
        _plays_reference("users", "user_id", nullable=False),
    ),
    Check(
        "plays_have_time",
        "every play's start_time is in time",
        _plays_reference("time", "start_time", nullable=False),
    ),
    Check(
        "plays_have_songs",
        "every play's non-NULL song_id is in songs",
        _plays_reference("songs", "song_id", nullable=True),
    ),
    Check(
        "plays_have_artists",
        "every play's non-NULL artist_id is in artists",
        _plays_reference("artists", "artist_id", nullable=True),
    ),
    Check(
        "songs_have_artists", "every song's non-NULL artist_id is in artists", _songs_have_artists
    ),
    Check(
        "staged_plays_loaded",
        "every staged NextSong play with a userId (the last load's batch) is in songplays",
        _staged_plays_loaded,
    ),
    Check(
        "time_parts_match",
        "time's hour, day, week, month, year, weekday are those of start_time",
        _time_parts_match,
    ),
    Check(
        "load_errors_reviewed",
        "no rejected record left in load_errors (delete them once reviewed)",
        _load_errors,
        Severity.WARNING,
    ),
)


# Running them -------------------------------------------------------------------------------

logger = logging.getLogger(__name__)
# The name `progress(name, checks done, checks in all)` hears while the checks run.
CHECKS_PROGRESS = "checks"


def check_warehouse(connection: Connection, tables: Tables | None = None) -> None:
    """Raise NoWarehouseError unless every table the checks read exists."""
    require_tables(connection, (t.name for t in (tables or TABLES).all))


def run_checks(
    bind: Engine | Connection,
    checks: Sequence[Check] = CHECKS,
    *,
    examples: int = EXAMPLES,
    tables: Tables | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    scope: Scope = "warehouse",
) -> CheckResults:
    """Run `checks` (every check by default) and return their results, in order (a list).

    `scope="load"` reads, of each star table, only the rows the batch still in staging names
    (what `run` checks after its load: sparkify_dw.checkscope); by default every row.

    Reads only. Given an Engine, the checks run on one connection of their own; given a
    Connection, in its current transaction (or a new one). Raises NoWarehouseError when the
    database has no warehouse. `progress` hears of each check done, as CHECKS_PROGRESS (the
    load's callback type, `sparkify_dw.loader.ProgressCallback`).
    """
    tables = tables or TABLES
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return _run(connection, checks, examples, tables, progress, scope)
    return _run(bind, checks, examples, tables, progress, scope)


def _run(
    connection: Connection,
    checks: Sequence[Check],
    examples: int,
    tables: Tables,
    progress: Callable[[str, int, int], None] | None,
    scope: Scope,
) -> CheckResults:
    check_warehouse(connection, tables)
    results = CheckResults(scope=scope)
    if scope == "load":
        tables = scope_for(connection, tables)
    if progress is not None:
        progress(CHECKS_PROGRESS, 0, len(checks))
    for check in checks:
        offending = connection.execute(check.count(tables)).scalar_one()
        rows: tuple[dict[str, Any], ...] = ()
        if offending and examples > 0:
            found = connection.execute(check.examples(tables, examples))
            rows = tuple(dict(row._mapping) for row in found)
        result = CheckResult(check.name, check.description, check.severity, offending, rows)
        results.append(result)
        logger.info(
            "check %s: %s",
            check.name,
            "passed" if result.passed else f"{offending:,} offending row(s) ({check.severity})",
            extra={"check": check.name, "offending": offending},
        )
        if progress is not None:
            progress(CHECKS_PROGRESS, len(results), len(checks))
    return results


def failures(results: Sequence[CheckResult]) -> list[CheckResult]:
    """The error-severity checks that failed."""
    return [r for r in results if r.failed]


def results_to_dict(results: Sequence[CheckResult], *, scope: bool = False) -> dict[str, Any]:
    """Every check's result, and a summary, as plain data: `ok` is false when an error-severity
    check failed (the exit code 1 of `check` and `run`); with `scope`, the rows they read
    ("warehouse" or "load": `run`'s document says it, `check` reads every row)."""
    where = getattr(results, "scope", "warehouse")
    return {
        **({"scope": where} if scope else {}),
        "ok": not failures(results),
        "summary": {
            "checks": len(results),
            "passed": sum(r.status == "passed" for r in results),
            "failed": sum(r.status == "failed" for r in results),
            "warnings": sum(r.status == "warning" for r in results),
        },
        "results": [r.to_dict() for r in results],
    }


def check_database(
    db_url: str,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    scope: Scope = "warehouse",
) -> CheckResults:
    """Connect to `db_url`, run every check, disconnect: what `sparkify-dw check` runs (and,
    with `scope="load"`, what `run` runs after its load).

    A DuckDB file that does not exist is a NoWarehouseError (and is not created); a database
    that does not answer, or fails a query, is a DatabaseError. Passwords are masked.
    """
    engine = open_warehouse(db_url)
    try:
        return run_checks(engine, progress=progress, scope=scope)
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"Checks failed to run on {redact_url(engine.url)}: {driver_reason(exc)}"
        ) from exc
    finally:
        engine.dispose()
