"""The reading commands (`check`, `query`, `report`, `verify`, `db current`) open a DuckDB
warehouse read-only (issue 15): a read-only file or folder answers them, a notebook that holds
the file read-only does not block them, and a process that holds it read-write is one line
naming its PID. For notebooks: `open_warehouse` and `make_engine(url, read_only=True)`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from tests.helpers import Run


@pytest.fixture
def warehouse(sample_warehouse: str, tmp_path: Path) -> Path:
    """A copy of the loaded sample warehouse, in a folder of its own."""
    folder = tmp_path / "wh"
    folder.mkdir()
    path = folder / "sample.duckdb"
    shutil.copy(sample_warehouse.removeprefix("duckdb:///"), path)
    return path


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` (a file or a folder) made read-only; for root, whom modes do not stop, immutable
    too (chattr +i: what a read-only file system does to every process)."""
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    immutable = os.geteuid() == 0
    if immutable and subprocess.run(["chattr", "+i", str(path)], check=False).returncode:
        path.chmod(mode)
        pytest.skip("running as root without chattr +i: cannot make a file read-only")
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(mode)


def _reads(cli: Callable[..., Run], url: str, out: Path) -> None:
    for args in (
        ("check", "--db", url),
        ("query", "top-songs", "--db", url),
        ("report", "--db", url, "--out", str(out)),
        ("verify", "--db", url),
        ("db", "current", "--db", url),
    ):
        run = cli(*args)
        assert run.returncode == 0, (args, run.stdout + run.stderr)
        assert "Traceback" not in run.stderr
    assert out.is_file()


def test_a_read_only_file_answers_every_reading_command(
    cli: Callable[..., Run], warehouse: Path, tmp_path: Path
) -> None:
    with read_only(warehouse):
        with pytest.raises(duckdb.Error):  # it is read-only indeed
            duckdb.connect(str(warehouse)).close()
        _reads(cli, f"duckdb:///{warehouse}", tmp_path / "report.html")


def test_a_read_only_folder_answers_every_reading_command(
    cli: Callable[..., Run], warehouse: Path, tmp_path: Path
) -> None:
    with read_only(warehouse.parent):
        _reads(cli, f"duckdb:///{warehouse}", tmp_path / "report.html")
        assert sorted(p.name for p in warehouse.parent.iterdir()) == ["sample.duckdb"]


@contextmanager
def held(path: Path, *, read_only: bool) -> Iterator[int]:
    """Another process (a notebook) holding the DuckDB file open; its PID."""
    code = (
        "import duckdb, sys, time\n"
        f"c = duckdb.connect({str(path)!r}, read_only={read_only})\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield process.pid
    finally:
        process.kill()
        process.wait()


def test_a_notebook_reading_the_file_does_not_block_the_reading_commands(
    cli: Callable[..., Run], warehouse: Path, tmp_path: Path
) -> None:
    with held(warehouse, read_only=True):
        _reads(cli, f"duckdb:///{warehouse}", tmp_path / "report.html")


def test_a_process_writing_the_file_is_one_line_naming_its_pid(
    cli: Callable[..., Run], warehouse: Path, tmp_path: Path
) -> None:
    """DuckDB lets readers share a file, but not with a process that holds it read-write."""
    url = f"duckdb:///{warehouse}"
    with held(warehouse, read_only=False) as pid:
        for args in (("check",), ("query", "top-songs"), ("report", "--out", "r.html")):
            run = cli(*args, "--db", url)
            run.error_line("Cannot connect to", "Conflicting lock", f"(PID {pid})", alone=True)
    assert not (tmp_path / "r.html").exists()


def test_open_warehouse_reads_a_read_only_file_for_a_notebook(warehouse: Path) -> None:
    from sparkify_dw import make_engine, open_warehouse

    url = f"duckdb:///{warehouse}"
    with read_only(warehouse):
        engine = open_warehouse(url)
        try:
            with engine.connect() as connection:
                assert connection.execute(sa.text("SELECT count(*) FROM songs")).scalar()
        finally:
            engine.dispose()
        engine = make_engine(url, read_only=True)
        try:
            with (
                engine.connect() as connection,
                pytest.raises(sa.exc.DBAPIError, match="read-only"),
            ):
                connection.execute(sa.text("DELETE FROM songs"))
        finally:
            engine.dispose()


def test_open_warehouse_shares_this_process_s_read_write_engine(warehouse: Path) -> None:
    """DuckDB opens a file once per process, with one configuration: a notebook that loads
    with a read-write engine and reads through open_warehouse gets the read-write one."""
    from sparkify_dw import make_engine, open_warehouse

    url = f"duckdb:///{warehouse}"
    writer = make_engine(url)
    try:
        with writer.connect():
            reader = open_warehouse(url)
            with reader.connect() as connection:
                assert connection.execute(sa.text("SELECT count(*) FROM songs")).scalar()
            reader.dispose()
    finally:
        writer.dispose()
