"""`sparkify-dw report` as a user runs it: the command's own process for the report; the
mistakes through `main()` in this one. The report itself: tests/integration/test_report.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from tests.helpers import Run, sparkify, svgs


def test_command_writes_the_report_and_says_where(sample_warehouse: str, tmp_path: Path) -> None:
    result = sparkify("report", "--db", sample_warehouse, "--out", "r/out.html", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    written = tmp_path / "r" / "out.html"
    assert written.is_file()
    assert "Wrote r/out.html" in result.stdout
    assert sample_warehouse.removeprefix("duckdb:///") in result.stdout
    assert len(svgs(written.read_text(encoding="utf-8"))) >= 5


def test_command_errors_are_one_line(
    tmp_path: Path, sample_warehouse: str, cli: Callable[..., Run]
) -> None:
    missing = tmp_path / "missing.duckdb"
    result = cli("report", "--db", f"duckdb:///{missing}")
    result.error_line("no warehouse at", "sparkify-dw run", alone=True)
    assert not missing.exists()  # not created by looking
    assert not (tmp_path / "report.html").exists()

    bare = tmp_path / "bare.duckdb"
    bare_engine = sa.create_engine(f"duckdb:///{bare}")
    bare_engine.connect().close()  # a database without tables
    bare_engine.dispose()
    result = cli("report", "--db", f"duckdb:///{bare}")
    result.error_line("no warehouse at", "sparkify-dw run", alone=True)

    (tmp_path / "a-folder").mkdir()
    result = cli("report", "--db", sample_warehouse, "--out", "a-folder")
    result.error_line("Cannot write the report to a-folder", alone=True)

    result = cli("report", "--db", "postgresql+psycopg://someone:hunter2@127.0.0.1:1/nowhere")
    result.error_line(alone=True)
    assert "hunter2" not in result.stderr
