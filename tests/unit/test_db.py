"""make_engine's per-engine setup."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sparkify_dw.backends import backend_for
from sparkify_dw.db import make_engine


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", "488.2 MiB"), ("?memory_limit=1GB", "953.6 MiB")],
    ids=["default", "from-url"],
)
def test_duckdb_memory_is_capped_unless_the_url_says_otherwise(
    tmp_path: Path, query: str, expected: str
) -> None:
    # DuckDB's own default (80 % of RAM) lets a load's memory grow with its input.
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}{query}")
    with engine.connect() as connection:
        limit = connection.execute(text("SELECT current_setting('memory_limit')")).scalar_one()
    engine.dispose()
    assert limit == expected


class _DriverError(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("engine", "error", "retry"),
    [
        # redshift_connector puts the server's fields in the message; 1023 is the code
        (
            "redshift",
            _DriverError(
                "{'S': 'ERROR', 'C': 'XX000', 'M': '1023', 'D': 'Serializable isolation "
                "violation on table - 100144, transactions forming the cycle are: 1, 2'}"
            ),
            True,
        ),
        ("postgresql", _DriverError("could not serialize access", sqlstate="40001"), True),
        ("postgresql", _DriverError("deadlock detected", sqlstate="40P01"), True),
        ("postgresql", _DriverError("duplicate key value", sqlstate="23505"), False),
        ("redshift", _DriverError("{'S': 'ERROR', 'C': '42601', 'M': 'syntax error'}"), False),
        # each engine's rule is its own: a PostgreSQL SQLSTATE means nothing on Redshift
        ("redshift", _DriverError("could not serialize access", sqlstate="40001"), False),
        ("duckdb", _DriverError("could not serialize access", sqlstate="40001"), False),
        (
            "duckdb",
            duckdb.TransactionException("TransactionContext Error: Conflict on update!"),
            True,
        ),
        ("duckdb", duckdb.ConstraintException("Duplicate key"), False),
    ],
)
def test_only_serialization_conflicts_are_worth_a_retry(
    engine: str, error: Exception, retry: bool
) -> None:
    wrapped = DBAPIError("INSERT …", {}, error)
    assert backend_for(engine).is_retryable(wrapped) is retry
