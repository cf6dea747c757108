"""`sparkify-dw query` and `sparkify-dw verify` as a user runs them: the command's own process
for the answers; the mistakes and `verify --write` through `main()` in this one.

The queries' answers themselves: tests/integration/test_analytics.py.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from sparkify_dw.analytics import QUERIES, SAMPLE_EXPECTATIONS, run_query
from tests.helpers import Run, sparkify


@pytest.mark.slow
def test_query_prints_a_table_csv_and_json(sample_warehouse: str, tmp_path: Path) -> None:
    engine = sa.create_engine(sample_warehouse)
    try:
        rows = run_query(engine, "top-songs", limit=3).rows
    finally:
        engine.dispose()

    table = sparkify("query", "top-songs", "--db", sample_warehouse, "--limit", "3", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "song_id" in table.stdout
    assert rows[0][0] in table.stdout  # an id is never cut short
    assert "3 row(s)" in table.stdout

    as_csv = sparkify(
        "query", "top-songs", "--db", sample_warehouse, "--limit", "3", "--format", "csv",
        cwd=tmp_path,
    )  # fmt: skip
    assert as_csv.returncode == 0, as_csv.stderr
    parsed = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert parsed == [list(QUERIES["top-songs"].columns)] + [[str(v) for v in r] for r in rows]

    as_json = sparkify(
        "query", "daily-active-users", "--db", sample_warehouse, "--since", "2018-11-29",
        "--format", "json",
        cwd=tmp_path,
    )  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    records = json.loads(as_json.stdout)
    assert [r["day"] for r in records] == ["2018-11-29", "2018-11-30"]
    assert set(records[0]) == {"day", "active_users", "plays"}

    listed = sparkify("query", "--list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    for name in QUERIES:
        assert name in listed.stdout


def test_query_mistakes_are_one_line(
    sample_warehouse: str, tmp_path: Path, cli: Callable[..., Run]
) -> None:
    cli("query", "top-hits").error_line("top-hits", "top-songs", alone=True)
    cli("query", "top-songs", "--db", f"duckdb:///{tmp_path / 'none.duckdb'}").error_line(
        "no warehouse at", "run `sparkify-dw run` first", alone=True
    )
    assert not (tmp_path / "none.duckdb").exists()  # not created by looking
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    cli("query", "level-split", "--db", f"duckdb:///{empty}").error_line(
        "no warehouse at", alone=True
    )
    cli("query", "top-songs", "--db", sample_warehouse, "--since", "2018-11-31").error_line(
        "since must be a date", alone=True
    )
    cli("query", "level-split", "--db", sample_warehouse, "--limit", "3").error_line(
        "level-split does not take limit", alone=True
    )


@pytest.mark.slow
def test_verify_passes_after_a_sample_run_and_shows_a_changed_value(tmp_path: Path) -> None:
    loaded = sparkify("run", cwd=tmp_path)  # the default: the sample into ./sparkify.duckdb
    assert loaded.returncode == 0, loaded.stderr

    passed = sparkify("verify", cwd=tmp_path)  # the bundled expectations by default
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "FAIL" not in passed.stdout
    assert passed.stdout.count("PASS") == len(
        json.loads(SAMPLE_EXPECTATIONS.read_text())["expectations"]
    )

    document = json.loads(SAMPLE_EXPECTATIONS.read_text(encoding="utf-8"))
    top_songs = document["expectations"][0]
    assert top_songs["query"] == "top-songs"
    song_id, plays = top_songs["rows"][1][0], top_songs["rows"][1][3]
    top_songs["rows"][1][3] = plays + 1
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document), encoding="utf-8")
    failed = sparkify("verify", "--expected", str(changed), cwd=tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Traceback" not in failed.stderr
    assert "FAIL top-songs" in failed.stdout
    assert f'changed row song_id="{song_id}": plays: expected {plays + 1}, got {plays}' in (
        failed.stdout
    )
    assert "1 failed" in failed.stdout


def test_verify_write_snapshots_a_warehouse_and_a_malformed_file_is_one_line(
    sample_warehouse: str, tmp_path: Path, cli: Callable[..., Run]
) -> None:
    snapshot = tmp_path / "snapshot.json"  # a new file: every query with its defaults
    written = cli("verify", "--expected", str(snapshot), "--write", "--db", sample_warehouse)
    assert written.returncode == 0, written.stderr
    assert [e["query"] for e in json.loads(snapshot.read_text())["expectations"]] == list(QUERIES)
    again = cli("verify", "--expected", str(snapshot), "--db", sample_warehouse)
    assert again.returncode == 0, again.stdout + again.stderr

    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"expectations": [{"query": "top-songs", "params": {"level": "gold"}}]}')
    cli("verify", "--expected", str(malformed)).error_line(
        "malformed.json: expectation 1 (top-songs): level must be free or paid", alone=True
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"expectations": [')
    cli("verify", "--expected", str(broken)).error_line("is not valid JSON", alone=True)


def test_verify_write_without_expected_refuses_and_leaves_the_packaged_file_alone(
    sample_warehouse: str, cli: Callable[..., Run]
) -> None:
    shipped = SAMPLE_EXPECTATIONS.read_bytes()
    refused = cli("verify", "--write", "--db", sample_warehouse)
    refused.error_line("--write needs --expected FILE", alone=True)
    assert SAMPLE_EXPECTATIONS.read_bytes() == shipped  # byte for byte
    checked = cli("verify", "--db", sample_warehouse)  # without --write: still the bundled file
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert str(SAMPLE_EXPECTATIONS) in checked.stdout.replace("\n", "")


def test_verify_write_replaces_the_file_whole_or_not_at_all(
    sample_warehouse: str, tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "x.json"
    assert (
        cli("verify", "--write", "--expected", str(target), "--db", sample_warehouse).returncode
        == 0
    )
    old = target.read_bytes()
    assert json.loads(old)["expectations"]

    real_fdopen = os.fdopen

    class HalfThenDiskFull:
        """The temporary file's handle: half the text reaches the disk, then the disk is full."""

        def __init__(self, descriptor: int) -> None:
            self.handle = real_fdopen(descriptor, "w", encoding="utf-8")

        def __enter__(self) -> HalfThenDiskFull:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, text: str) -> int:
            self.handle.write(text[: len(text) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

    def fdopen(descriptor: int, *args: object, **kwargs: object) -> HalfThenDiskFull:
        return HalfThenDiskFull(descriptor)

    monkeypatch.setattr("sparkify_dw.files.os.fdopen", fdopen)
    failed = cli("verify", "--write", "--expected", str(target), "--db", sample_warehouse)
    failed.error_line(f"Cannot write {target}: No space left on device", alone=True)
    assert target.read_bytes() == old  # the old file, intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]  # no temporary file left


def test_verify_write_into_a_missing_folder_is_one_line(
    sample_warehouse: str, tmp_path: Path, cli: Callable[..., Run]
) -> None:
    target = tmp_path / "no" / "such" / "x.json"
    failed = cli("verify", "--write", "--expected", str(target), "--db", sample_warehouse)
    failed.error_line(f"Cannot write {target}: No such file or directory", alone=True)
