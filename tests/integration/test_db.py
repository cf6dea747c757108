"""make_engine's per-engine setup, on a DuckDB file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from sparkify_dw.db import make_engine


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", "953.6 MiB"), ("?memory_limit=256MB", "244.1 MiB")],
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


@pytest.mark.parametrize("where", ["file", "memory"])
def test_duckdb_draws_no_progress_bar(tmp_path: Path, where: str) -> None:
    """DuckDB draws its progress bar on stdout once a statement runs over 2 s (seen during a
    3M-play migration): inside `--format json`'s document. Every connection turns it off."""
    url = f"duckdb:///{tmp_path / 'w.duckdb'}" if where == "file" else "duckdb:///:memory:"
    engine = make_engine(url)
    for _ in range(2):  # each new connection (no pool on a file)
        with engine.connect() as connection:
            query = text("SELECT current_setting('enable_progress_bar')")
            assert connection.execute(query).scalar_one() is False
    engine.dispose()
