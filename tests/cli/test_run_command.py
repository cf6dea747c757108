"""`sparkify-dw run`, `generate`, `--version` and `--help` as a user runs them: real processes,
real files; the user mistakes through `main()` in this process (the `cli` fixture)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from sparkify_dw.sample import LOG_DATA, SONG_DATA
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
        (
            ["run", "--song-data", "/no/such/folder", "--log-data", str(LOG_DATA)],
            ["No such file or folder: /no/such/folder"],
        ),
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
            # refused before connecting: the bundled sample is no S3 location
            ["run", "--db", "redshift+redshift_connector://awsuser:hunter2@127.0.0.1:9/dev"],
            ["Redshift's COPY reads from S3, not from"],
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
    songs = ["--song-data", str(sample_dir / "song_data")]  # the sample's, given: not mixed
    failed = sparkify("run", "--db", db, *songs, "--log-data", str(logs), cwd=tmp_path)
    failed.error_line("1 bad record(s), more than MAXERROR 0", source.name)
    allowed = sparkify(
        "run", "--db", db, *songs, "--log-data", str(logs), "--max-error", "1", cwd=tmp_path
    )
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


# --- Sources checked before the database is touched (issue 15) ---------------------------------


@pytest.mark.parametrize(
    ("where", "fragment"),
    [
        ("songs", "No files found at /nope"),
        ("logs", "No files found at /nope"),
        ("empty songs", "No files found at {empty}"),
        ("empty logs", "No files found at {empty}"),
        ("jsonpaths", "No such file: /nope/paths.json"),
    ],
)
def test_a_bad_location_is_one_line_and_no_database_file_is_made(
    cli: Callable[..., Run], tmp_path: Path, where: str, fragment: str
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".DS_Store").write_text("hidden: not a file to load")
    locations = {"songs": str(SONG_DATA), "logs": str(LOG_DATA), "jsonpaths": None}
    bad = str(empty) if "empty" in where else "/nope"
    bad = "/nope/paths.json" if where == "jsonpaths" else bad
    locations[where.removeprefix("empty ")] = bad
    db = tmp_path / "w.duckdb"
    args = ["run", "--db", f"duckdb:///{db}"]
    args += ["--song-data", str(locations["songs"]), "--log-data", str(locations["logs"])]
    if locations["jsonpaths"]:
        args += ["--log-jsonpath", str(locations["jsonpaths"])]
    cli(*args).error_line(fragment.format(empty=empty))
    assert not db.exists()


@pytest.mark.parametrize(
    ("flags", "config", "fragment"),
    [
        (["--song-data", "{songs}"], "", "--song-data (or [S3] SONG_DATA) was given without"),
        (["--log-data", "{logs}"], "", "--log-data (or [S3] LOG_DATA) was given without"),
        ([], "SONG_DATA={songs}", "give --log-data too, or neither"),
        ([], "LOG_DATA={logs}\nLOG_JSONPATH={paths}", "give --song-data too, or neither"),
        (["--log-jsonpath", "{paths}"], "SONG_DATA={songs}", "give --log-data too"),
    ],
)
def test_only_one_of_song_and_log_data_is_refused_before_anything_runs(
    cli: Callable[..., Run],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flags: list[str],
    config: str,
    fragment: str,
) -> None:
    mine = {"songs": SONG_DATA, "logs": LOG_DATA, "paths": LOG_DATA.parent / "log_json_path.json"}
    db = tmp_path / "w.duckdb"
    monkeypatch.setenv("SPARKIFY_DB_URL", f"duckdb:///{db}")  # the environment names the database
    args = ["run", *(flag.format(**mine) for flag in flags)]
    if config:
        (tmp_path / "dwh.cfg").write_text(f"[S3]\n{config.format(**mine)}\n")
        args += ["--config", str(tmp_path / "dwh.cfg")]
    run = cli(*args)
    line = run.error_line(fragment, "neither to load the bundled sample")
    assert "Loading into" not in run.stderr  # refused before anything else
    assert not db.exists()
    assert line.count("\n") == 0


@pytest.mark.parametrize(
    ("flags", "config"),
    [
        (["--song-data", "{songs}", "--log-data", "{logs}"], ""),  # both flags, sample JSONPaths
        (["--log-data", "{logs}"], "SONG_DATA={songs}"),  # one from each
        (["--song-data", "{songs}"], "LOG_DATA={logs}"),
        ([], "SONG_DATA={songs}\nLOG_DATA={logs}"),
    ],
)
def test_song_and_log_data_given_together_from_flags_or_config_load(
    cli: Callable[..., Run], tmp_path: Path, flags: list[str], config: str
) -> None:
    mine = {"songs": SONG_DATA, "logs": LOG_DATA}
    args = ["run", "--db", f"duckdb:///{tmp_path / 'w.duckdb'}"]
    args += [flag.format(**mine) for flag in flags]
    if config:
        (tmp_path / "dwh.cfg").write_text(f"[S3]\n{config.format(**mine)}\n")
        args += ["--config", str(tmp_path / "dwh.cfg")]
    run = cli(*args)
    assert run.returncode == 0, run.stderr
    assert "staging_events" in run.stdout


def test_sql_refuses_song_data_without_log_data_too(cli: Callable[..., Run]) -> None:
    """`sql` prints what a run sends: a run that would be refused prints nothing."""
    refused = cli("sql", "--song-data", "s3://mine/song_data")
    refused.error_line("give --log-data too, or neither to load the bundled sample", alone=True)
    assert refused.stdout == ""
    both = cli("sql", "--song-data", "s3://mine/song_data", "--log-data", "s3://mine/log_data")
    assert both.returncode == 0, both.stderr
    assert "s3://mine/log_data" in both.stdout
