"""Faults outside staging, as a user meets them: a disk that fills up during a load, and
Ctrl-C. Each gives one line on stderr, leaves the warehouse as it was, and leaks nothing.

The full disk is real: a tmpfs of a few MiB mounted for the test (root only; skipped with the
reason elsewhere). DuckDB's writes there fail with ENOSPC exactly as on a full disk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.helpers import CHECKOUT, Run, python, sparkify

STAR = ("songplays", "users", "songs", "artists", "time")


@pytest.fixture(scope="module")
def big_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated sources far larger than the sample (≈100 MB of JSON, 200,000 events)."""
    out = tmp_path_factory.mktemp("big") / "data"
    run = sparkify(
        "generate", "--out", str(out), "--songs", "2000", "--events", "200000", cwd=out.parent
    )
    assert run.returncode == 0, run.stderr
    return out


def _sources(data: Path) -> list[str]:
    return [
        f"--song-data={data / 'song_data'}",
        f"--log-data={data / 'log_data'}",
        f"--log-jsonpath={data / 'log_json_path.json'}",
    ]


def _counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {
            t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in (*STAR, "staging_events")
        }


def _small_disk(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full disk needs a tmpfs of its own, which only root can mount")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


# 8 MiB: the sample fits (4 MiB), the big load's staging does not: DuckDB's COPY fails writing.
# 16 MiB: the staging fits, the commit's checkpoint does not: a FATAL error that invalidates
# the database in the process, whose pool then could not roll the connection back.
# 42 MiB, the big data loaded once already (about 41 MiB with the song catalogue, the play keys
# and the file ledger): loading it again (--all), the commit cannot write its write-ahead log.
# (A narrow window: since migration 0007 orders the play keys by time, 44 MiB takes the
# reload and 40 MiB fails the first load.)
@pytest.fixture(
    params=[("8m", False), ("16m", False), ("42m", True)],
    ids=["full while staging", "full at the checkpoint", "full at the WAL"],
)
def small_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, bool]]:
    size, big_first = request.param
    for where in _small_disk(tmp_path / "disk", size):
        yield where, big_first


def test_a_load_that_fills_the_disk_is_one_line_and_leaves_the_warehouse_as_it_was(
    small_disk: tuple[Path, bool], big_data: Path, tmp_path: Path
) -> None:
    disk, big_first = small_disk
    db = disk / "w.duckdb"
    url = f"duckdb:///{db}"
    assert sparkify("run", "--db", url, cwd=tmp_path).returncode == 0
    if big_first:
        loaded = sparkify("run", "--db", url, *_sources(big_data), cwd=tmp_path)
        assert loaded.returncode in (0, 1), loaded.stderr  # 1: a check may fail, not the load
        assert "Loaded into" in loaded.stdout, loaded.stderr
    before = _counts(db)

    sizes = []
    for _ in range(3):
        # --all: the file ledger would skip the big data loaded before
        failed = sparkify("run", "--db", url, "--all", *_sources(big_data), cwd=tmp_path)
        assert "Exception during reset" not in failed.stderr, failed.stderr
        line = failed.error_line("No space left on device", "the disk is full", "unchanged")
        assert "failed reading" not in line  # the files were read; the database could not write
        assert _counts(db) == before
        sizes.append(db.stat().st_size)
    # The first failed load leaves the blocks it wrote in the file; the next ones reuse them.
    assert sizes == [sizes[0]] * 3, sizes

    # Once there is room again, the same file takes the load.
    subprocess.run(["mount", "-o", "remount,size=256m", str(disk)], check=True)
    again = sparkify("run", "--db", url, *_sources(big_data), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "Loaded into" in again.stdout
    if not big_first:  # loaded before: the same data again adds nothing
        assert _counts(db)["songplays"] > before["songplays"]


# --- Ctrl-C ---------------------------------------------------------------------------------


def _interrupted(args: list[str], cwd: Path, *, after: str, delay: float) -> Run:
    """`sparkify-dw args…` sent SIGINT `delay` seconds after `after` shows on stderr."""
    environ = {k: v for k, v in os.environ.items() if k != "SPARKIFY_DB_URL"}
    environ["PYTHONPATH"] = str(CHECKOUT)
    process = subprocess.Popen(
        [sys.executable, "-m", "sparkify_dw", *args],
        cwd=cwd,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    first = ""
    if after:
        first = process.stderr.readline()
        assert after in first, first
    time.sleep(delay)
    assert process.poll() is None, "finished before it could be interrupted"
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    return Run(process.returncode, stdout, first + stderr)


def _one_interrupt_line(run: Run, *fragments: str) -> str:
    assert run.returncode == 130, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    assert "Aborted" not in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("interrupted: ")]
    assert len(lines) == 1, run.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_ctrl_c_during_a_load_says_it_was_rolled_back_and_it_was(
    big_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    assert sparkify("run", "--db", f"duckdb:///{db}", cwd=tmp_path).returncode == 0
    before = _counts(db)
    run = _interrupted(
        ["run", "--db", f"duckdb:///{db}", *_sources(big_data)],
        tmp_path,
        after="Loading into",
        delay=2.0,
    )
    _one_interrupt_line(run, "the load was rolled back, nothing changed")
    assert _counts(db) == before


def test_ctrl_c_during_generate_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "data"
    run = _interrupted(
        ["generate", "--out", str(out), "--songs", "20000", "--events", "2000000"],
        tmp_path,
        after="",
        delay=3.0,
    )
    _one_interrupt_line(run, str(out), "run generate again")


# SIGINT sent by the process to itself as its third statement to the database starts: a real
# signal at a known point of a command too quick to catch from outside.
_SIGINT_AT_THIRD_STATEMENT = """
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
import sparkify_dw.cli

sent = []

@event.listens_for(Engine, "before_cursor_execute")
def interrupt(*args):
    sent.append(1)
    if len(sent) == 3:
        os.kill(os.getpid(), signal.SIGINT)

sys.argv = ["sparkify-dw", *sys.argv[1:]]
sparkify_dw.cli.main()
"""


def test_ctrl_c_during_check_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    assert sparkify("run", "--db", f"duckdb:///{db}", cwd=tmp_path).returncode == 0
    run = python("-c", _SIGINT_AT_THIRD_STATEMENT, "check", "--db", f"duckdb:///{db}", cwd=tmp_path)
    _one_interrupt_line(run)
    assert run.stdout == ""
