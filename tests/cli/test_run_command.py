"""`sparkify-dw run`, `generate`, `--version` and `--help` as a user runs them: real processes,
real files; the user mistakes through `main()` in this process (the `cli` fixture)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import Run, sparkify
from tests.oracle import actual_tables, expected_tables


def test_run_with_the_defaults_loads_the_sample_into_sparkify_duckdb(
    tmp_path: Path, sample_dir: Path
) -> None:
    result = sparkify("run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sparkify.duckdb").is_file()
    for table in ("songplays", "users", "songs", "artists", "time", "staging_events"):
        assert table in result.stdout
    assert "total" in result.stdout
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'sparkify.duckdb'}")
    with engine.connect() as connection:
        assert actual_tables(connection) == expected_tables(
            sample_dir / "song_data", sample_dir / "log_data"
        )
    engine.dispose()

    again = sparkify("run", cwd=tmp_path)  # a second run adds nothing
    assert again.returncode == 0, again.stderr
    songplays = next(line for line in again.stdout.splitlines() if "songplays" in line)
    assert songplays.split()[-4:] == ["+0", "│", "0", "│"]  # added, changed


@pytest.mark.reference
def test_run_on_the_reference_data_with_flags(tmp_path: Path, reference_dir: Path) -> None:
    result = sparkify(
        "run",
        "--db",
        f"duckdb:///{tmp_path / 'w.duckdb'}",
        "--song-data",
        str(reference_dir / "song_data"),
        "--log-data",
        str(reference_dir / "log_data"),
        "--log-jsonpath",
        str(reference_dir / "log_json_path.json"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "6,820" in result.stdout
    assert "8,056" in result.stdout


def test_a_config_file_sets_the_locations_and_flags_win(tmp_path: Path, sample_dir: Path) -> None:
    config = tmp_path / "dwh.cfg"
    config.write_text(
        f"[S3]\nLOG_DATA='{tmp_path / 'nowhere'}'\nSONG_DATA='{sample_dir / 'song_data'}'\n"
        f"LOG_JSONPATH='{sample_dir / 'log_json_path.json'}'\n"
    )
    failed = sparkify("run", "--config", str(config), cwd=tmp_path)
    failed.error_line("nowhere")
    result = sparkify(
        "run", "--config", str(config), "--log-data", str(sample_dir / "log_data"), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["run", "--song-data", "/no/such/folder"], ["No such file or folder: /no/such/folder"]),
        (["run", "--config", "missing.cfg"], ["Config file not found"]),
        (["run", "--db", "not-a-url"], ["Not a database URL"]),
        (["run", "--db", "mysql://u@h/db"], ["Unsupported database 'mysql'"]),
        (
            ["run", "--db", "duckdb:////no/such/dir/x.duckdb"],
            ["Folder for the DuckDB file does not exist"],
        ),
        (
            ["run", "--db", "postgresql+psycopg://postgres:hunter2@127.0.0.1:9/x"],
            ["Cannot connect to postgresql+psycopg://postgres:***@127.0.0.1:9/x"],
        ),
        (["run", "--max-error", "-1"], ["MAXERROR must be a whole number from 0 to 100,000"]),
        (["run", "--max-error", "100001"], ["MAXERROR must be a whole number from 0 to 100,000"]),
        (
            ["run", "--db", "redshift+redshift_connector://awsuser:hunter2@127.0.0.1:9/dev"],
            ["Cannot connect to redshift+redshift_connector://awsuser:***@127.0.0.1:9/dev"],
        ),
        (["generate", "--out", "gen", "--songs", "0"], []),
    ],
)
def test_user_mistakes_are_one_line_and_exit_1(
    cli: Callable[..., Run], args: list[str], fragments: list[str]
) -> None:
    result = cli(*args)
    result.error_line(*fragments)
    assert "hunter2" not in result.stdout + result.stderr


def test_bad_records_fail_the_run_and_a_max_error_lets_it_through(
    tmp_path: Path, sample_dir: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    source = sorted((sample_dir / "log_data").rglob("*.json"))[0]
    (logs / source.name).write_bytes(source.read_bytes() + b"{broken\n")
    db = f"duckdb:///{tmp_path / 'x.duckdb'}"
    failed = sparkify("run", "--db", db, "--log-data", str(logs), cwd=tmp_path)
    failed.error_line("1 bad record(s), more than MAXERROR 0", source.name)
    allowed = sparkify("run", "--db", db, "--log-data", str(logs), "--max-error", "1", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert "1 rejected" in allowed.stdout


def test_gzipped_files_listed_in_manifests_load_like_the_plain_files(
    tmp_path: Path, sample_dir: Path
) -> None:
    manifests = {}
    for source in ("song_data", "log_data"):
        entries = []
        for path in sorted((sample_dir / source).rglob("*.json")):
            packed = tmp_path / "gz" / path.relative_to(sample_dir).with_suffix(".json.gz")
            packed.parent.mkdir(parents=True, exist_ok=True)
            packed.write_bytes(gzip.compress(path.read_bytes()))
            entries.append({"url": str(packed), "mandatory": True})
        manifests[source] = tmp_path / f"{source}.manifest"
        manifests[source].write_text(json.dumps({"entries": entries}))
    db = tmp_path / "gz.duckdb"
    args = ["--song-data", str(manifests["song_data"]), "--log-data", str(manifests["log_data"])]
    result = sparkify(
        "run", "--db", f"duckdb:///{db}", *args, "--manifest", "--compression", "gzip", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    engine = sa.create_engine(f"duckdb:///{db}")
    with engine.connect() as connection:
        assert actual_tables(connection) == expected_tables(
            sample_dir / "song_data", sample_dir / "log_data"
        )
    engine.dispose()

    # Without --compression the gzip bytes are not JSON: rejected, nothing loaded.
    plain = sparkify(
        "run", "--db", f"duckdb:///{tmp_path / 'p.duckdb'}", *args, "--manifest", cwd=tmp_path
    )
    plain.error_line("bad record(s)")
    wrong = sparkify("run", *args, "--manifest", "--compression", "zip", cwd=tmp_path)
    assert wrong.returncode == 2  # the CLI framework's usage error
    assert "zip" in wrong.stderr


def test_the_environment_sets_the_database(tmp_path: Path) -> None:
    db = tmp_path / "env.duckdb"
    result = sparkify("run", cwd=tmp_path, env={"SPARKIFY_DB_URL": f"duckdb:///{db}"})
    assert result.returncode == 0, result.stderr
    assert db.is_file()
    assert not (tmp_path / "sparkify.duckdb").exists()


def test_generate_writes_the_source_layout(tmp_path: Path) -> None:
    result = sparkify(
        "generate",
        "--out",
        str(tmp_path / "gen"),
        "--songs",
        "30",
        "--events",
        "300",
        "--seed",
        "7",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "gen/song_data").rglob("*.json"))) == 30
    assert (tmp_path / "gen/log_json_path.json").is_file()
    assert "30 song files" in result.stdout


def test_version_and_help(tmp_path: Path) -> None:
    assert sparkify("--version", cwd=tmp_path).stdout.startswith("sparkify-dw ")
    assert "run" in sparkify("--help", cwd=tmp_path).stdout
