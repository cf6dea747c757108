"""Custom SQL constructs, compiled per engine: the few places where the engines' SQL differs.

Shared code builds one expression tree; what differs between DuckDB, PostgreSQL and Redshift is a
construct here with a `@compiles` function per dialect (the sqlalchemy-redshift pattern).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, DateTime, Sequence, Table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateColumn
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import DDLCompiler, SQLCompiler
from sqlalchemy.sql.elements import ClauseElement, ColumnElement
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
    # PostgreSQL and Redshift: multiply, never `ts / 1000` (BIGINT division drops the
    # milliseconds; Redshift's DATEADD takes an INT and overflows on epoch milliseconds).
    (millis,) = element.clauses
    return f"(TIMESTAMP 'epoch' + {compiler.process(millis, **kw)} * INTERVAL '1 millisecond')"


@compiles(EpochMsToTimestamp, "duckdb")
def _epoch_ms_duckdb(element: EpochMsToTimestamp, compiler: SQLCompiler, **kw: Any) -> str:
    # DuckDB cannot multiply an INTERVAL by a BIGINT this large; epoch_ms() is exact.
    (millis,) = element.clauses
    return f"epoch_ms(CAST({compiler.process(millis, **kw)} AS BIGINT))"


def identity_sequence(column: Column[Any]) -> Sequence:
    """The sequence that stands in for an IDENTITY column on DuckDB (which has no IDENTITY)."""
    identity = column.identity
    assert identity is not None, f"{column} is not an identity column"
    return Sequence(
        f"{column.table.name}_{column.name}_seq",
        start=identity.start,
        increment=identity.increment,
        minvalue=identity.minvalue,
    )


@compiles(CreateColumn, "duckdb")
def _create_column_duckdb(element: CreateColumn, compiler: DDLCompiler, **kw: Any) -> str:
    column = element.element
    if column.identity is None:
        return compiler.visit_create_column(element, **kw)  # type: ignore[no-untyped-call,no-any-return]
    # The sequence is created just before the table by the DuckDB Alembic impl (migrate.py).
    sequence = compiler.preparer.format_sequence(identity_sequence(column))
    return (
        f"{compiler.preparer.format_column(column)} "
        f"{compiler.dialect.type_compiler_instance.process(column.type)} "
        f"DEFAULT nextval('{sequence}') NOT NULL"
    )


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


def _redshift_has_no_returning() -> None:
    """Redshift has no RETURNING, but sqlalchemy-redshift inherits PostgreSQL's flags saying it
    does (sqlalchemy-redshift issues 281 and 330): Alembic's version-table INSERT would then end in
    `RETURNING version_num`, which Redshift rejects. Clear the flags on its dialects' mixin."""
    try:
        from sqlalchemy_redshift.dialect import RedshiftDialectMixin
    except ImportError:  # pragma: no cover - sqlalchemy-redshift is a dependency
        return
    for flag in (
        "implicit_returning",
        "insert_returning",
        "update_returning",
        "update_returning_multifrom",
        "delete_returning",
        "delete_returning_multifrom",
        "insert_executemany_returning",
        "insert_executemany_returning_sort_by_parameter_order",
    ):
        setattr(RedshiftDialectMixin, flag, False)


_redshift_has_no_returning()
