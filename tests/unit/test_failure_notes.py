"""What a failed load's line adds about the warehouse (Backend.failure_note), and DuckDB's
rollback of a database a FATAL error invalidated (logged, not raised). The real faults, a full
disk and Ctrl-C: tests/cli/test_faults.py."""

from __future__ import annotations

import logging

import duckdb
import pytest
from sqlalchemy.exc import DBAPIError

from sparkify_dw.backends import backend_for
from sparkify_dw.db import make_engine

DISK_FULL = 'IO Error: Could not write file "/x/w.duckdb": No space left on device'
OUT_OF_MEMORY_COMMIT = "FATAL Error: Failed to commit: Out of Memory Error: could not allocate"


@pytest.mark.parametrize(
    ("error", "fragments"),
    [
        (duckdb.IOException(DISK_FULL), ("disk is full", "unchanged", "next load reuses")),
        (duckdb.FatalException(f"FATAL Error: checkpoint failed: {DISK_FULL}"), ("disk is full",)),
        (duckdb.FatalException(OUT_OF_MEMORY_COMMIT), ("unchanged", "memory_limit")),
    ],
)
def test_duckdb_says_what_a_failure_left(error: Exception, fragments: tuple[str, ...]) -> None:
    note = backend_for("duckdb").failure_note(DBAPIError("COMMIT", {}, error))
    assert note is not None
    for fragment in fragments:
        assert fragment in note


@pytest.mark.parametrize("engine", ["duckdb", "postgresql", "redshift"])
def test_an_ordinary_error_adds_nothing(engine: str) -> None:
    error = DBAPIError("SELECT", {}, duckdb.CatalogException("Table x does not exist"))
    assert backend_for(engine).failure_note(error) is None


class _Invalidated:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def rollback(self) -> None:
        raise self.error


def test_a_rollback_duckdb_refuses_after_a_fatal_error_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = make_engine("duckdb:///:memory:")
    refused = duckdb.FatalException("FATAL Error: database has been invalidated")
    with caplog.at_level(logging.DEBUG, logger="sparkify_dw.backends.duckdb"):
        engine.dialect.do_rollback(_Invalidated(refused))
    assert "invalidated" in caplog.text
    # Any other failure of a rollback still raises.
    with pytest.raises(duckdb.IOException):
        engine.dialect.do_rollback(_Invalidated(duckdb.IOException("disk gone")))
