"""`sparkify-dw history`: the loads table, written even for failed loads, newest first, as text
and as one JSON document valid against the shipped schema; on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema

from sparkify_dw.schemas import load_schema
from tests.helpers import Run


def _bad_logs(sample_dir: Path, folder: Path) -> Path:
    folder.mkdir()
    first = sorted((sample_dir / "log_data").rglob("*.json"))[0]
    (folder / first.name).write_bytes(first.read_bytes() + b"{broken\n")
    return folder


def test_history_lists_every_load_newest_first_failed_ones_too(
    cli: Callable[..., Run], db_url: str, sample_dir: Path, tmp_path: Path
) -> None:
    songs = str(sample_dir / "song_data")
    logs = str(sample_dir / "log_data")
    first = cli("run", "--db", db_url, "--song-data", songs, "--log-data", logs)
    assert first.returncode == 0, first.stderr
    again = cli("run", "--db", db_url, "--song-data", songs, "--log-data", logs)
    assert again.returncode == 0, again.stderr
    bad = str(_bad_logs(sample_dir, tmp_path / "bad"))
    failed = cli("run", "--db", db_url, "--song-data", songs, "--log-data", bad)
    assert failed.returncode == 1

    shown = cli("history", "--db", db_url, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    jsonschema.Draft202012Validator(load_schema("history")).validate(document)
    loads = document["loads"]
    assert [load["status"] for load in loads] == ["failed", "succeeded", "succeeded"]
    newest, second, oldest = loads
    assert "bad record" in newest["error"]
    assert newest["log_data"] == bad
    assert newest["finished_at"] is not None
    files = len(list((sample_dir / "song_data").rglob("*.json"))) + len(
        list((sample_dir / "log_data").rglob("*.json"))
    )
    assert (oldest["files_new"], oldest["files_skipped"]) == (files, 0)
    assert (second["files_new"], second["files_skipped"]) == (0, files)
    assert oldest["table_counts"]["songplays"]["before"] == 0
    assert oldest["table_counts"]["songplays"]["after"] > 0
    assert second["rows_staged"] == 0
    assert (
        second["table_counts"]["songplays"]["after"]
        == (oldest["table_counts"]["songplays"]["after"])
    )

    limited = json.loads(cli("history", "--db", db_url, "--format", "json", "--limit", "1").stdout)
    assert [load["load_id"] for load in limited["loads"]] == [newest["load_id"]]

    text = cli("history", "--db", db_url)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert sum("succeeded" in line for line in lines) == 2, text.stdout
    assert any("failed" in line and "bad record" in line for line in lines)


def test_history_without_a_warehouse_is_one_line(cli: Callable[..., Run], tmp_path: Path) -> None:
    missing = f"duckdb:///{tmp_path / 'none.duckdb'}"
    result = cli("history", "--db", missing)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "no warehouse" in result.stderr
    assert not (tmp_path / "none.duckdb").exists()
