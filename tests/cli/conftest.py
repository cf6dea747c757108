"""The warehouse the read-only commands (query, verify, report) are run against."""

from __future__ import annotations

import pytest

from sparkify_dw import make_engine
from sparkify_dw.config import SAMPLE_DIR
from tests.helpers import load_dir


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a DuckDB file with the bundled sample loaded, once per worker; the tests only
    read it (and dispose of their engines: another process may open it next)."""
    url = f"duckdb:///{tmp_path_factory.mktemp('cli') / 'sample.duckdb'}"
    engine = make_engine(url)
    try:
        load_dir(engine, SAMPLE_DIR)
    finally:
        engine.dispose()
    return url
