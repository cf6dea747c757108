"""`--format json` (issue 16): each command's real output, validated against the JSON Schema
shipped in the package, on DuckDB and PostgreSQL where a database is involved. stdout holds
exactly one document; a mistake prints none (one line on stderr, exit 1); a failed check prints
its document and exits 1.

`cluster status --format json` is tested against moto in tests/aws/test_cluster_cli.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa

from sparkify_dw.schemas import NAMES, load_schema, schema_path
from tests.helpers import Run, sparkify


def document(run: Run, schema: str) -> dict[str, Any]:
    """stdout as one JSON document (nothing before or after it), valid against `schema`."""
    parsed: dict[str, Any] = json.loads(run.stdout)  # raises on anything but one document
    jsonschema.Draft202012Validator(load_schema(schema)).validate(parsed)
    return parsed


def _with_two_bad_lines(sample_dir: Path, logs: Path) -> Path:
    logs.mkdir()
    first = sorted((sample_dir / "log_data").rglob("*.json"))[0]
    (logs / first.name).write_bytes(first.read_bytes() + b"\nnot json\n{broken\n")
    return logs / first.name


def _counts(db_url: str) -> dict[str, int]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as c:
            tables = ("songplays", "users", "songs", "artists", "time", "load_errors")
            return {t: c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}
    finally:
        engine.dispose()


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(load_schema(name))
    assert schema_path(name).parent.name == "schemas"


def test_the_run_schema_holds_the_check_schemas_definitions() -> None:
    # Each schema file stands alone (no reference to another file a validator must be told of).
    assert load_schema("run")["$defs"] == load_schema("check")["$defs"]


def test_run_and_check_print_one_document_each_valid_against_its_schema(
    db_url: str, sample_dir: Path, tmp_path: Path
) -> None:
    bad_file = _with_two_bad_lines(sample_dir, tmp_path / "logs")
    args = ("run", "--db", db_url, "--format", "json", "--max-error", "5", "--song-data",
            str(sample_dir / "song_data"), "--log-data", str(tmp_path / "logs"))  # fmt: skip
    first = sparkify(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Loading into" in first.stderr  # messages stay on stderr
    report = document(first, "run")
    tables = {t["table"]: t for t in report["tables"]}
    held = _counts(db_url)
    for name, rows in held.items():
        assert tables[name]["after"] == rows, name
    assert tables["load_errors"] == {
        "table": "load_errors", "before": 0, "after": 2, "added": 2, "changed": 0,
    }  # fmt: skip
    songs, events = report["copies"]
    assert (songs["table"], songs["rejected"], songs["files_with_rejects"]) == (
        "staging_songs",
        0,
        [],
    )
    assert songs["files"] == len(list((sample_dir / "song_data").rglob("*.json")))
    assert events["rejected"] == 2
    assert [f["url"] for f in events["files_with_rejects"]] == [str(bad_file.resolve())]
    assert [r["err_code"] for r in events["rejects"]] == [1216, 1216]
    assert report["checks"]["ok"] is True
    assert report["checks"]["summary"] == {"checks": 15, "passed": 14, "failed": 0, "warnings": 1}

    again = document(sparkify(*args, cwd=tmp_path), "run")
    (errors,) = [t for t in again["tables"] if t["table"] == "load_errors"]
    assert (errors["before"], errors["after"], errors["added"]) == (2, 4, 2)
    assert _counts(db_url)["load_errors"] == 4

    checked = sparkify("check", "--db", db_url, "--format", "json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    checks = document(checked, "check")
    assert checks["ok"] is True
    results = {r["name"]: r for r in checks["results"]}
    assert results["load_errors_reviewed"]["status"] == "warning"
    assert results["load_errors_reviewed"]["offending"] == 4
    assert results["load_errors_reviewed"]["examples"][0]["err_code"] == 1216

    engine = sa.create_engine(db_url)
    with engine.begin() as c:  # a play by nobody: plays_have_users fails
        c.execute(sa.text(
            "INSERT INTO songplays (songplay_id, start_time, user_id, level, session_id) "
            "SELECT max(songplay_id) + 1, min(start_time), 999999, 'free', 1 FROM songplays"
        ))  # fmt: skip
    engine.dispose()
    failed = sparkify("check", "--db", db_url, "--format", "json", cwd=tmp_path)
    failed.error_line("1 data-quality check(s) failed: plays_have_users")  # exit 1, one line
    checks = document(failed, "check")  # and the document all the same
    assert checks["ok"] is False
    (play,) = [r for r in checks["results"] if r["status"] == "failed"]
    assert play["name"] == "plays_have_users"
    assert play["examples"][0]["user_id"] == 999999
    assert isinstance(play["examples"][0]["start_time"], str)

    after_load = sparkify(*args, cwd=tmp_path)
    after_load.error_line("failed after the load (the load itself is committed)")
    assert document(after_load, "run")["checks"]["ok"] is False


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--db", "not-a-url"],
        ["run", "--song-data", "/no/such/folder", "--log-data", "/no/such/logs"],
        ["check", "--db", "duckdb:///nowhere.duckdb"],
    ],
)
def test_a_mistake_prints_no_document_and_one_line(
    cli: Callable[..., Run], args: list[str]
) -> None:
    result = cli(*args, "--format", "json")
    result.error_line()  # exit 1, one `error:` line on stderr
    assert result.stdout == ""
