"""Every Python block of README.md runs as written, in order, in an empty folder.

The blocks name `duckdb:///sparkify.duckdb` (a file in the folder they run in); on PostgreSQL the
test gives them a fresh database in its place. A block that stops working fails here, not in a
user's notebook.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import python

README = Path(__file__).resolve().parents[2] / "README.md"
DEFAULT_URL = "duckdb:///sparkify.duckdb"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", README.read_text(encoding="utf-8"), re.S | re.M)


def test_the_readme_has_python_blocks_that_use_the_default_database() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 4
    assert all(DEFAULT_URL in block for block in blocks)


@pytest.mark.slow
def test_every_python_block_runs_as_written(db_url: str, tmp_path: Path) -> None:
    for number, block in enumerate(python_blocks(), start=1):
        code = block if db_url.startswith("duckdb") else block.replace(DEFAULT_URL, db_url)
        result = python("-c", code, cwd=tmp_path)
        assert result.returncode == 0, f"README block {number}:\n{block}\n{result.stderr}"
    if db_url.startswith("duckdb"):
        assert (tmp_path / "sparkify.duckdb").is_file()
    assert (tmp_path / "top-artists.svg").read_text(encoding="utf-8").startswith("<svg")
