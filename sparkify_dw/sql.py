"""Custom SQL constructs, compiled per engine: the few places where the engines' SQL differs.

Shared code builds one expression tree; what differs between DuckDB, PostgreSQL and Redshift is a
construct here with a `@compiles` function per dialect (the sqlalchemy-redshift pattern).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, String, Table, case, extract, literal, null
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BinaryExpression, ClauseElement, ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class EpochMsToTimestamp(FunctionElement[dt.datetime]):
    """Epoch milliseconds (BIGINT) → UTC TIMESTAMP without time zone, milliseconds kept."""

    type = DateTime()
    name = "epoch_ms_to_timestamp"
    inherit_cache = True

    def __init__(self, millis: ColumnElement[Any]) -> None:
        super().__init__(millis)


@compiles(EpochMsToTimestamp)
def _epoch_ms_default(element: EpochMsToTimestamp, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL and Redshift, the same SQL: the whole seconds, then the milliseconds left over.
    # Redshift documents `TIMESTAMP 'epoch' + <seconds> * INTERVAL '1 second'` (the EPOCH note of
    # https://docs.aws.amazon.com/redshift/latest/dg/r_Dateparts_for_datetime_functions.html),
    # an interval literal as "a numeric quantity and a supported date part"
    # (https://docs.aws.amazon.com/redshift/latest/dg/r_interval_literals.html), `millisecond`
    # being one of those date parts, and MOD (r_MOD.html). BIGINT `/` truncates and MOD takes the
    # dividend's sign, so ts = 1000 * (ts / 1000) + MOD(ts, 1000) for every ts, negative too:
    # exact, milliseconds kept. Never `ts / 1000` alone (it drops the milliseconds), never
    # DATEADD (it takes an INT: epoch milliseconds overflow it), and never one INTERVAL times the
    # whole ~1.5e12 milliseconds (not a documented form; PostgreSQL's double arithmetic is then
    # off by microseconds near year 9999).
    (millis,) = element.clauses
    ts = compiler.process(millis, **kw)
    return (
        f"(TIMESTAMP 'epoch' + ({ts} / 1000) * INTERVAL '1 second'"
        f" + MOD({ts}, 1000) * INTERVAL '1 millisecond')"
    )


@compiles(EpochMsToTimestamp, "duckdb")
def _epoch_ms_duckdb(element: EpochMsToTimestamp, compiler: SQLCompiler, **kw: Any) -> str:
    # DuckDB cannot multiply an INTERVAL by a BIGINT this large; epoch_ms() is exact.
    (millis,) = element.clauses
    return f"epoch_ms(CAST({compiler.process(millis, **kw)} AS BIGINT))"


class HistoricalYear(FunctionElement[int]):
    """EXTRACT(year …) as PostgreSQL and Redshift count years: 1 BC is -1, there is no year 0.

    DuckDB counts astronomically (1 BC is 0, 2 BC is -1); a play before year 1 is legal on every
    engine (a negative enough ts), so its `time.year` must not depend on the engine.
    """

    type = Integer()
    name = "historical_year"
    inherit_cache = True

    def __init__(self, timestamp: ColumnElement[Any]) -> None:
        super().__init__(timestamp)


@compiles(HistoricalYear)
def _historical_year(element: HistoricalYear, compiler: SQLCompiler, **kw: Any) -> str:
    (timestamp,) = element.clauses
    return str(compiler.process(extract("year", timestamp), **kw))


@compiles(HistoricalYear, "duckdb")
def _historical_year_duckdb(element: HistoricalYear, compiler: SQLCompiler, **kw: Any) -> str:
    (timestamp,) = element.clauses
    year = compiler.process(extract("year", timestamp), **kw)
    return f"(CASE WHEN {year} <= 0 THEN {year} - 1 ELSE {year} END)"


def time_part(field: str, timestamp: ColumnElement[Any]) -> ColumnElement[Any]:
    """EXTRACT(field FROM timestamp), the year counted alike on every engine (HistoricalYear)."""
    return HistoricalYear(timestamp) if field == "year" else extract(field, timestamp)


class Compared(FunctionElement[str]):
    """A VARCHAR as Redshift compares it: trailing blanks do not count (`'Soul ' = 'Soul'`).

    "Trailing spaces in VARCHAR and CHAR values are treated as semantically insignificant when
    values are compared" (the "Significance of trailing blanks" section of
    https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html, with the example
    on r_Examples_with_character_types.html). Only the space U+0020 is such a blank: a tab or a
    no-break space at the end still counts. The data contract ("Text comparisons") makes it the
    rule of every engine wherever the library compares text: a text value in a PARTITION BY, a
    GROUP BY or a comparison with a constant goes through `compared`, two text values through
    `same`; never a value that is stored (stored values keep their blanks).

    Redshift compiles the plain column: the engine ignores the blanks itself, and a key join
    stays a plain join on the distribution key. DuckDB and PostgreSQL compare the value with its
    trailing spaces trimmed, `rtrim(x, ' ')` (both take the characters to trim as a second
    argument; Redshift's RTRIM would too, but is not needed there).
    """

    name = "compared"
    inherit_cache = True

    def __init__(self, text: ColumnElement[Any]) -> None:
        super().__init__(text)
        self.type = text.type


@compiles(Compared)
def _compared_trimmed(element: Compared, compiler: SQLCompiler, **kw: Any) -> str:
    (text,) = element.clauses
    return f"rtrim({compiler.process(text, **kw)}, ' ')"


@compiles(Compared, "redshift")
def _compared_redshift(element: Compared, compiler: SQLCompiler, **kw: Any) -> str:
    (text,) = element.clauses
    return str(compiler.process(text, **kw))


class SameText(BinaryExpression[bool]):
    """`a = b` (or, negated, `a != b`) between two texts, compared as `Compared` says.

    A binary expression of the two texts themselves, not of two `Compared`: sqlalchemy-redshift
    finds the tables of a `DELETE … USING` by walking the WHERE clause's binary expressions down
    to their columns, and a function around a column hides its table from that walk.
    """

    inherit_cache = True

    def __init__(self, a: ColumnElement[Any], b: ColumnElement[Any], *, equal: bool = True):
        operator, negate = (operators.eq, operators.ne) if equal else (operators.ne, operators.eq)
        super().__init__(a, b, operator, type_=Boolean(), negate=negate)

    def _negate(self) -> SameText:
        return SameText(self.left, self.right, equal=self.operator is not operators.eq)


@compiles(SameText)
def _same_text_trimmed(element: SameText, compiler: SQLCompiler, **kw: Any) -> str:
    trimmed = element.operator(Compared(element.left), Compared(element.right))
    return str(compiler.process(trimmed, **kw))


@compiles(SameText, "redshift")
def _same_text_redshift(element: SameText, compiler: SQLCompiler, **kw: Any) -> str:
    plain = element.operator(element.left, element.right)  # the engine ignores the blanks
    return str(compiler.process(plain, **kw))


def compared(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """`value` as it takes part in a comparison: text as `Compared`, anything else as it is."""
    return Compared(value) if isinstance(value.type, String) else value


def same(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[bool]:
    """`a = b`, text compared as Redshift compares it (`SameText`); `~same(a, b)` is `a != b`."""
    return SameText(a, b) if isinstance(a.type, String) else a == b


def empty_as_null(text: ColumnElement[str]) -> ColumnElement[str]:
    """NULL where `text` is empty as Redshift compares it (`''` or blanks only), else `text`
    with its blanks: Redshift's own `NULLIF(text, '')`, spelled so every engine agrees."""
    return case((Compared(text) == literal("", String), null()), else_=text)


class Analyze(Executable, ClauseElement):
    """`ANALYZE table`: fresh planner statistics after a bulk load.

    Redshift's COPY updates them itself (STATUPDATE); on PostgreSQL a table filled inside the
    current transaction has none yet, and the planner then picks nested loops over the staging
    tables (seconds instead of milliseconds on the reference data).
    """

    inherit_cache = False

    def __init__(self, table: Table) -> None:
        self.table = table


@compiles(Analyze)
def _analyze(element: Analyze, compiler: SQLCompiler, **kw: Any) -> str:
    return f"ANALYZE {compiler.preparer.format_table(element.table)}"
