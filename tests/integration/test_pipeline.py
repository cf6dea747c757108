"""The whole pipeline, on DuckDB and PostgreSQL, against the data contract (tests/oracle.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from sparkify_dw import LoadReport, load, upgrade
from sparkify_dw.errors import DatabaseError, LoadError
from sparkify_dw.models import Tables
from sparkify_dw.transforms import Merge, Statements
from tests.helpers import copy_batch, load_dir
from tests.oracle import actual_tables, expected_tables, star_of


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            table: sorted(
                (tuple(r) for r in connection.execute(sa.text(f"SELECT * FROM {table}"))),
                key=repr,
            )
            for table in ("songplays", "users", "songs", "artists", "time")
        }


def test_sample_follows_the_contract_and_a_rerun_changes_nothing(
    engine: Engine, sample_dir: Path
) -> None:
    load_dir(engine, sample_dir)
    expected = expected_tables(sample_dir / "song_data", sample_dir / "log_data")
    with engine.connect() as connection:
        actual = actual_tables(connection)
    assert actual == expected
    assert expected.songplays
    assert expected.time
    assert any(p[3] is not None for p in expected.songplays), "no play matches the catalogue"
    assert any(p[3] is None for p in expected.songplays), "every play matches the catalogue"

    before = _snapshot(engine)
    load_dir(engine, sample_dir)
    assert _snapshot(engine) == before  # songplay_id included: nothing re-inserted


@pytest.mark.reference
def test_reference_data_follows_the_contract(engine: Engine, reference_dir: Path) -> None:
    load_dir(engine, reference_dir)
    expected = expected_tables(reference_dir / "song_data", reference_dir / "log_data")
    with engine.connect() as connection:
        actual = actual_tables(connection)
    # Figures that follow from the contract's rules on the real data (PROVENANCE.md counts).
    assert (actual.staging_events, actual.staging_songs) == (8056, 1943)
    assert len(actual.songplays) == 6820
    assert sum(1 for p in actual.songplays if p[3] is not None) == 39
    assert len(actual.users) == 97
    assert len(actual.time) == 6813
    assert (len(actual.songs), len(actual.artists)) == (1943, 1809)
    assert actual == expected

    before = _snapshot(engine)
    load_dir(engine, reference_dir)
    assert _snapshot(engine) == before


def test_a_failure_part_way_leaves_the_star_tables_as_they_were(
    engine: Engine, sample_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # First load half the logs, so the star tables hold something to protect.
    logs = sorted((sample_dir / "log_data").rglob("*.json"))
    half = copy_batch(logs[: len(logs) // 2], tmp_path / "half")
    load_dir(engine, sample_dir, log_data=half)
    before = _snapshot(engine)

    import sparkify_dw.loader as loader

    real_merges = loader.star_merges

    def failing_merges(tables: Tables) -> list[Merge | Statements]:
        merges = real_merges(tables)
        names = [m.name for m in merges]
        at = names.index("songplays")
        assert {"users", "songs", "artists", "song_catalogue"} <= set(names[:at])
        songplays = merges[at]
        assert isinstance(songplays, Merge)
        bad = sa.cast(sa.literal("not a number"), sa.Integer)
        broken = replace(
            songplays, source=sa.select(*(bad.label(c.name) for c in songplays.stage.columns))
        )
        # fails after users, songs, artists and the catalogue were written
        return [*merges[:at], broken, *merges[at + 1 :]]

    monkeypatch.setattr(loader, "star_merges", failing_merges)
    with pytest.raises(DatabaseError, match=r"Load failed on \S+: \S"):
        load_dir(engine, sample_dir)  # the driver's error, as the library's one-line error
    assert _snapshot(engine) == before
    with engine.connect() as connection:  # the failed load is in the history, not the ledger
        ledger = connection.execute(sa.text("SELECT DISTINCT load_id FROM loaded_files")).all()
        loads = connection.execute(
            sa.text("SELECT load_id, status, error FROM loads ORDER BY started_at")
        ).all()
    assert [status for _, status, _ in loads] == ["succeeded", "failed"]
    assert "Load failed on" in loads[1].error
    assert [row.load_id for row in ledger] == [loads[0].load_id]

    monkeypatch.undo()
    load_dir(engine, sample_dir)
    expected = expected_tables(sample_dir / "song_data", sample_dir / "log_data")
    with engine.connect() as connection:
        assert star_of(actual_tables(connection)) == star_of(expected)


def test_a_rejected_record_fails_the_load_and_changes_nothing(
    engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    load_dir(engine, sample_dir)
    before = _snapshot(engine)
    logs = tmp_path / "logs"
    logs.mkdir()
    first = sorted((sample_dir / "log_data").rglob("*.json"))[0]
    (logs / first.name).write_bytes(first.read_bytes() + b'{"ts": "yesterday", "sessionId": 1}\n')
    with pytest.raises(LoadError, match=r"1 bad record.*ts"):
        load_dir(engine, sample_dir, log_data=logs)
    assert _snapshot(engine) == before
    with engine.connect() as connection:
        staged = connection.execute(sa.text("SELECT count(*) FROM staging_events")).scalar()
    assert staged == sum(
        1
        for f in (sample_dir / "log_data").rglob("*.json")
        for line in f.read_text().splitlines()
        if line.strip()
    )


def test_rejects_are_kept_in_load_errors_even_when_the_load_fails(
    engine: Engine, data_dir: Path, tmp_path: Path
) -> None:
    sample_dir = data_dir
    logs = tmp_path / "logs"
    logs.mkdir()
    first = sorted((sample_dir / "log_data").rglob("*.json"))[0]
    good_lines = first.read_bytes().count(b"\n") + 1
    (logs / first.name).write_bytes(
        first.read_bytes()
        + b'\n{"ts": "yesterday", "sessionId": 1}\nnot json\n{"ts": 1, "sessionId": "x"}\n'
    )

    with pytest.raises(LoadError, match="load_errors WHERE load_id") as info:
        load_dir(engine, sample_dir, log_data=logs)
    assert len(info.value.rejects) == 1  # MAXERROR 0: the first reject stops the COPY

    report = load(
        engine,
        song_data=str(sample_dir / "song_data"),
        log_data=str(logs),
        log_jsonpath=str(sample_dir / "log_json_path.json"),
        max_error=3,
    )
    assert report.rows("staging_events") == good_lines  # every good record still loads
    assert [(r.line_number, r.err_code) for r in report.rejects] == [
        (good_lines + 1, 1207),
        (good_lines + 2, 1216),
        (good_lines + 3, 1207),
    ]
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT load_id, table_name, filename, line_number, colname, err_code "
                "FROM load_errors ORDER BY id"
            )
        ).all()
    failed_load, this_load = rows[0][0], report.load_id
    assert failed_load != this_load
    assert [tuple(r)[1:] for r in rows] == [
        ("staging_events", str((logs / first.name).resolve()), good_lines + 1, "ts", 1207),
        ("staging_events", str((logs / first.name).resolve()), good_lines + 1, "ts", 1207),
        ("staging_events", str((logs / first.name).resolve()), good_lines + 2, None, 1216),
        ("staging_events", str((logs / first.name).resolve()), good_lines + 3, "session_id", 1207),
    ]
    assert [r[0] for r in rows[1:]] == [this_load] * 3


def test_a_play_without_a_user_is_reported_not_stored_and_fails_nothing(
    engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    import json

    logs = tmp_path / "logs"
    logs.mkdir()
    first = sorted((sample_dir / "log_data").rglob("*.json"))[0]
    play = next(json.loads(line) for line in first.read_text().splitlines() if '"NextSong"' in line)
    logged_out = {**play, "userId": "", "ts": play["ts"] + 1}
    (logs / first.name).write_text(first.read_text() + json.dumps(logged_out) + "\n")
    report = load(
        engine,
        song_data=str(sample_dir / "song_data"),
        log_data=str(logs),
        log_jsonpath=str(sample_dir / "log_json_path.json"),
    )
    assert report.warnings == (
        "1 NextSong event(s) have no userId and were not stored as plays "
        "(songplays.user_id is NOT NULL); they are in staging_events",
    )
    original = tmp_path / "original"
    original.mkdir()
    (original / first.name).write_bytes(first.read_bytes())
    expected = expected_tables(sample_dir / "song_data", original)
    with engine.connect() as connection:
        actual = actual_tables(connection)
    assert actual.songplays == expected.songplays
    assert actual.time == expected.time  # no time row for a play that is not stored


def _two_bad_lines(sample_dir: Path, logs: Path) -> None:
    logs.mkdir()
    first = sorted((sample_dir / "log_data").rglob("*.json"))[0]
    (logs / first.name).write_bytes(first.read_bytes() + b"\nnot json\n{broken\n")


def _load_errors_count(report: LoadReport, engine: Engine) -> tuple[tuple[int, int, int], int]:
    """The report's load_errors (before, after, added), and the rows the table holds."""
    (count,) = [t for t in report.tables if t.table == "load_errors"]
    with engine.connect() as connection:
        held = connection.execute(sa.text("SELECT count(*) FROM load_errors")).scalar_one()
    return (count.before, count.after, count.added), held


def test_the_report_counts_the_rejects_written_beside_the_load(
    engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    """Issue 16: with --max-error 5 and 2 rejects the report said `load_errors 1 +0` while the
    table held 3 rows: the rejects are committed on a connection of their own, which the load's
    transaction did not see (DuckDB's snapshot)."""
    logs = tmp_path / "logs"
    _two_bad_lines(sample_dir, logs)
    first = load_dir(engine, sample_dir, log_data=logs, max_error=5)
    assert _load_errors_count(first, engine) == ((0, 2, 2), 2)
    plain = first.to_dict()  # what `run --format json` prints: the same counts, as plain data
    assert json.loads(json.dumps(plain)) == plain
    errors = {t["table"]: t for t in plain["tables"]}["load_errors"]
    assert (errors["before"], errors["after"], errors["added"]) == (0, 2, 2)
    assert [len(copy["rejects"]) for copy in plain["copies"]] == [0, 2]
    # the same files again, every one staged (the file ledger would skip them): 2 more rejects
    second = load_dir(engine, sample_dir, log_data=logs, max_error=5, reload=True)
    assert _load_errors_count(second, engine) == ((2, 4, 2), 4)


@pytest.mark.postgres
def test_the_rejects_count_in_a_snapshot_transaction_of_the_callers(
    postgres_url: str, sample_dir: Path, tmp_path: Path
) -> None:
    """The same on PostgreSQL, whose READ COMMITTED would see the committed rejects: a caller's
    REPEATABLE READ connection (Redshift is always serializable) sees only its snapshot."""
    from sparkify_dw.db import make_engine

    logs = tmp_path / "logs"
    _two_bad_lines(sample_dir, logs)
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as connection:  # the schema committed: the rejects need the table
            upgrade(connection)
        with engine.connect() as connection:
            connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                report = load_dir(connection, sample_dir, log_data=logs, max_error=5)
        assert _load_errors_count(report, engine) == ((0, 2, 2), 2)
    finally:
        engine.dispose()
