"""What each merge step says it did (the `merge …` log lines, `transform`'s counts) is what the
tables gained, on DuckDB and PostgreSQL (psycopg reported -1 for INSERT … SELECT until the
statements asked SQLAlchemy to keep the rowcount)."""

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
        assert merged[table].inserted == after[table] - before[table] > 0, table
    with engine.begin() as c:  # the same staging again: nothing to insert
        again = transform(c)
    assert {m.inserted for m in again.values()} == {0}
