"""What each merge step says it did (the `merge …` log lines, `transform`'s counts) is what the
tables gained, on DuckDB and PostgreSQL (psycopg reported -1 for INSERT … SELECT until the
statements asked SQLAlchemy to keep the rowcount; DuckDB 1.2 with duckdb-engine 0.15, the
minimum versions, still does, and the report then counts the tables instead). Also run at the
minimum versions (tests/install/test_minimum_versions.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from sparkify_dw.copy.options import StageOptions
from sparkify_dw.loader import count_rows, stage, transform
from sparkify_dw.migrate import upgrade


def test_the_merges_count_the_rows_they_insert(engine: Engine, sample_dir: Path) -> None:
    with engine.begin() as c:
        upgrade(c)
        stage(c, StageOptions(
            str(sample_dir / "song_data"), str(sample_dir / "log_data"),
            str(sample_dir / "log_json_path.json"),
        ))  # fmt: skip
        before = count_rows(c)
        merged = transform(c)
        after = count_rows(c)
    for table in ("songplays", "users", "songs", "artists", "time", "play_keys"):
        # exact where the driver tells (DuckDB before 1.3 says -1: then marked not exact)
        assert after[table] - before[table] > 0, table
        assert not merged[table].exact or merged[table].inserted == after[table] - before[table]
    with engine.begin() as c:  # the same staging again: nothing to insert
        again = transform(c)
    assert {m.inserted for m in again.values() if m.exact} <= {0}


def test_the_report_counts_what_the_tables_hold_after_each_kind_of_load(
    engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    """The report's rows after a load are what the tables hold: counted, or (the tables only
    inserts grow: transforms.APPEND_ONLY) the rows before plus those inserted."""
    from sqlalchemy import func, select

    from sparkify_dw.models import TABLES
    from tests.helpers import copy_batch, load_dir

    logs = sorted((sample_dir / "log_data").rglob("*.json"))
    songs = sorted((sample_dir / "song_data").rglob("*.json"))
    batches = [  # logs before their songs (a re-match), a day again, everything, a rebuild
        {"log_data": copy_batch(logs[:10], tmp_path / "l1"),
         "song_data": copy_batch(songs[:5], tmp_path / "s1")},
        {"log_data": copy_batch(logs[10:], tmp_path / "l2"),
         "song_data": copy_batch(songs[5:], tmp_path / "s2")},
        {"log_data": copy_batch(logs[:3], tmp_path / "l3"), "song_data": tmp_path / "s1"},
        {},
        {"full_refresh": True},
    ]  # fmt: skip
    for options in batches:
        report = load_dir(engine, sample_dir, **options)
        with engine.connect() as c:
            held = {
                t.name: c.execute(select(func.count()).select_from(t)).scalar_one()
                for t in TABLES.all
                if t.name != "loads"  # this load's own row is written after the report
            }
        assert {t.table: t.after for t in report.tables if t.table in held} == held, options
