"""Which errors each engine retries (make_engine's DuckDB settings: tests/integration/)."""

from __future__ import annotations

import duckdb
import pytest
from sqlalchemy.exc import DBAPIError

from sparkify_dw.backends import backend_for


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
