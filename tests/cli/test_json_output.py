"""`--format json` (issue 16): each command's real output, validated against the JSON Schema
shipped in the package, on DuckDB and PostgreSQL where a database is involved. stdout holds
exactly one document; a mistake prints none (one line on stderr, exit 1); a failed check prints
its document and exits 1.

`cluster status --format json` is tested against moto in tests/aws/test_cluster_cli.py.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa

from sparkify_dw.analytics import QUERIES, SAMPLE_EXPECTATIONS
from sparkify_dw.errors import DatabaseError
from sparkify_dw.schemas import NAMES, load_schema, schema_path
from tests.helpers import Run, load_dir, sparkify


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
    assert report["checks"]["scope"] == "warehouse"  # a first load: its batch is everything
    assert report["checks"]["summary"] == {"checks": 15, "passed": 14, "failed": 0, "warnings": 1}

    unchanged = document(sparkify(*args, cwd=tmp_path), "run")  # the ledger skips every file
    assert sum(s["skipped"] for s in unchanged["sources"]) == sum(
        s["listed"] for s in report["sources"]
    )
    assert [s["new"] for s in unchanged["sources"]] == [0, 0]
    assert unchanged["checks"]["scope"] == "load"
    (errors,) = [t for t in unchanged["tables"] if t["table"] == "load_errors"]
    assert (errors["before"], errors["after"], errors["added"]) == (2, 2, 0)
    again = document(sparkify(*args, "--all", cwd=tmp_path), "run")  # every file again
    assert [s["again"] for s in again["sources"]] == [s["listed"] for s in report["sources"]]
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

    # run's checks read the rows its batch names (none here: the ledger skips every file);
    # --check-all reads every row, as check does
    scoped = document(sparkify(*args, cwd=tmp_path), "run")
    assert (scoped["checks"]["scope"], scoped["checks"]["ok"]) == ("load", True)
    after_load = sparkify(*args, "--check-all", cwd=tmp_path)
    after_load.error_line("failed after the load (the load itself is committed)")
    whole = document(after_load, "run")
    assert (whole["checks"]["scope"], whole["checks"]["ok"]) == ("warehouse", False)


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


def test_verify_prints_each_expectation_and_a_failure_exits_1_after_its_document(
    engine: sa.Engine, db_url: str, sample_dir: Path, tmp_path: Path
) -> None:
    load_dir(engine, sample_dir)
    engine.dispose()  # DuckDB: one process at a time
    passed = sparkify("verify", "--db", db_url, "--format", "json", cwd=tmp_path)
    assert passed.returncode == 0, passed.stderr
    checked = document(passed, "verify")
    assert checked["ok"] is True
    assert checked["expected"] == str(SAMPLE_EXPECTATIONS)
    assert checked["summary"]["failed"] == 0
    expected = json.loads(SAMPLE_EXPECTATIONS.read_text())
    assert checked["summary"]["expectations"] == len(expected["expectations"])
    first = checked["expectations"][0]
    assert first["rows"] == expected["expectations"][0]["rows"]  # the rows, as the file has them
    assert first["columns"] == list(QUERIES[first["query"]].columns)

    with engine.begin() as c:  # the most played song loses its plays
        c.execute(sa.text("DELETE FROM songplays WHERE song_id = :s"), {"s": first["rows"][0][0]})
    engine.dispose()
    failed = sparkify("verify", "--db", db_url, "--format", "json", cwd=tmp_path)
    assert failed.returncode == 1, failed.stderr
    checked = document(failed, "verify")
    assert checked["ok"] is False
    assert checked["expectations"][0]["status"] == "failed"
    assert checked["expectations"][0]["differences"]


def test_verify_write_refuses_json(cli: Callable[..., Run], tmp_path: Path) -> None:
    refused = cli("verify", "--write", "--expected", "mine.json", "--format", "json")
    refused.error_line("--write prints no JSON document", alone=True)
    assert refused.stdout == ""
    assert not (tmp_path / "mine.json").exists()


def test_query_list_as_json_and_csv(cli: Callable[..., Run]) -> None:
    listed = cli("query", "--list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    queries = document(listed, "query-list")["queries"]
    assert [q["name"] for q in queries] == list(QUERIES)
    top = queries[0]
    assert (top["name"], top["default_limit"]) == ("top-songs", 10)
    assert top["filters"] == ["since", "until", "level", "limit"]
    as_csv = cli("query", "--list", "--format", "csv")
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0] == ["name", "answers", "filters"]
    assert [r[0] for r in rows[1:]] == list(QUERIES)


@pytest.mark.parametrize("dialect", ["redshift", "duckdb", "postgresql"])
def test_sql_lists_the_scripts_statements_in_order(cli: Callable[..., Run], dialect: str) -> None:
    listed = cli("sql", "--dialect", dialect, "--format", "json", "--full-refresh")
    assert listed.returncode == 0, listed.stderr
    statements = document(listed, "sql")["statements"]
    script = cli("sql", "--dialect", dialect, "--full-refresh").stdout
    # Each item is one whole statement or comment of the script, in its order; what is left of
    # the script once they are taken out is only its section headings.
    rest, at = [], 0
    for statement in statements:
        for text in (statement["comment"], statement["sql"]):
            if not text:
                continue
            if text is statement["comment"]:
                text = "\n".join(f"-- {line}" for line in text.splitlines())
            found = script.find(text, at)
            assert found >= 0, f"{text!r} not in the script after {at}"
            rest.append(script[at:found])
            at = found + len(text)
    rest.append(script[at:])
    left = [line for line in "".join(rest).splitlines() if line.strip()]
    assert all(line.startswith("-- ") for line in left), left
    assert len(left) == 4, left  # the title and the three sections' headings
    sections = [s["section"] for s in statements]
    assert sections == sorted(sections, key=["schema", "load", "analytics"].index)
    sqls = [s["sql"] for s in statements if s["sql"] is not None]
    assert all(s.endswith(";") for s in sqls)
    copies = [s for s in statements if "staging_events" in s["comment"] and "COPY" in s["comment"]]
    if dialect == "redshift":
        assert any(s.startswith("COPY staging_events") for s in sqls)
    else:  # the library's COPY: a note without a statement
        assert [s["sql"] for s in copies] == [None]
    assert sum(s["section"] == "analytics" for s in statements) == len(QUERIES)


def test_checks_that_cannot_run_after_a_load_leave_its_report_with_null_checks(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sparkify_dw.checks

    def unanswered(db_url: str, **_: Any) -> list[Any]:
        raise DatabaseError("Checks failed to run on duckdb:///w.duckdb: the server went away")

    monkeypatch.setattr(sparkify_dw.checks, "check_database", unanswered)
    run = cli("run", "--db", f"duckdb:///{tmp_path / 'w.duckdb'}", "--format", "json")
    run.error_line("Checks failed to run")
    report = document(run, "run")  # the load was committed: its report stands
    assert report["checks"] is None
    assert {t["table"]: t["added"] for t in report["tables"]}["songplays"] > 0
