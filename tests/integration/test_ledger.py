"""The file ledger (`loaded_files`) on DuckDB and PostgreSQL: a run stages only what it has not
loaded in the same version; a second run over unchanged sources reads no object.

"Reads no object" is shown from outside: after the first load every file is overwritten with
other bytes of the same size and given back its modification time. A run that read a file would
stage those bytes (rejects, or other rows); a run that trusts the ledger changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.helpers import load_dir
from tests.oracle import actual_tables, expected_tables, star_of

STAR = ("songplays", "users", "songs", "artists", "time")


@pytest.fixture
def data(tmp_path: Path, sample_dir: Path) -> Path:
    """A copy of the sample (its files can be changed)."""
    folder = tmp_path / "data"
    shutil.copytree(sample_dir, folder)
    return folder


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.json") if p.is_file())


def _sources(folder: Path) -> list[Path]:
    return _files(folder / "song_data") + _files(folder / "log_data")


def _scramble_keeping_size_and_time(path: Path) -> None:
    info = path.stat()
    path.write_bytes(b"x" * info.st_size)  # not JSON at all: staging it would reject it
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def _star(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            t: sorted(map(tuple, connection.execute(sa.text(f"SELECT * FROM {t}"))), key=repr)
            for t in (*STAR[1:], "song_catalogue", "play_keys")
        } | {
            "songplays": sorted(
                map(
                    tuple,
                    connection.execute(
                        sa.text(
                            "SELECT user_id, session_id, start_time, song_id, artist_id "
                            "FROM songplays"
                        )
                    ),
                ),
                key=repr,
            )
        }


def _ledger(engine: Engine) -> dict[str, tuple[object, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT location, size, version, load_id, row_count FROM loaded_files")
        ).all()
    return {row.location: tuple(row)[1:] for row in rows}


def test_a_second_run_over_unchanged_sources_reads_no_object(engine: Engine, data: Path) -> None:
    first = load_dir(engine, data)
    files = _sources(data)
    assert sum(s.new for s in first.sources) == len(files)
    assert first.files_skipped == 0
    ledger = _ledger(engine)
    assert set(ledger) == {str(f.resolve()) for f in files}
    # every event file's rows as staged (songs: one object a file)
    staged = {c.table: c.rows for c in first.copies}
    events = sum(row[3] for loc, row in ledger.items() if "/log_data/" in loc)
    assert events == staged["staging_events"]
    before = _star(engine)

    for path in files:
        _scramble_keeping_size_and_time(path)
    second = load_dir(engine, data)
    assert second.files_skipped == len(files)
    assert [(s.new, s.changed) for s in second.sources] == [(0, ()), (0, ())]
    assert [c.rows for c in second.copies] == [0, 0]
    assert not second.rejects
    assert {t.table: (t.added, t.changed) for t in second.tables if t.table in STAR} == {
        t: (0, 0) for t in STAR
    }
    assert _star(engine) == before
    assert _ledger(engine) == ledger  # nothing recorded again


def test_a_changed_song_is_staged_again_and_the_later_delivery_wins(
    engine: Engine, data: Path
) -> None:
    notes: list[str] = []
    load_dir(engine, data)
    song_file = _files(data / "song_data")[0]
    song = json.loads(song_file.read_text())
    song["year"] = 1999 if song["year"] != 1999 else 2000
    song_file.write_text(json.dumps(song))  # new content, new modification time

    again = load_dir(engine, data, notify=notes.append)
    songs, events = again.sources
    assert songs.changed == (str(song_file.resolve()),)
    assert (songs.new, events.new, events.changed) == (0, 0, ())
    assert songs.skipped == len(_files(data / "song_data")) - 1
    assert [c.rows for c in again.copies] == [1, 0]
    assert any("changed since they were loaded" in note for note in notes), notes
    assert {t.table: t.changed for t in again.tables}["songs"] == 1
    with engine.connect() as connection:
        year = connection.execute(
            sa.text("SELECT year FROM songs WHERE song_id = :s"), {"s": song["song_id"]}
        ).scalar_one()
    assert year == song["year"]
    expected = expected_tables(data / "song_data", data / "log_data")
    with engine.connect() as connection:
        assert star_of(actual_tables(connection)) == star_of(expected)


def test_a_touched_file_is_not_changed_and_reload_stages_everything(
    engine: Engine, data: Path
) -> None:
    load_dir(engine, data)
    log_file = _files(data / "log_data")[0]
    info = log_file.stat()
    os.utime(log_file, ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))
    touched = load_dir(engine, data)
    assert touched.files_skipped == len(_sources(data))  # read (hashed), not staged
    assert [c.rows for c in touched.copies] == [0, 0]
    ledger = _ledger(engine)
    # the next run trusts the new time: the file is not read again
    _scramble_keeping_size_and_time(log_file)
    assert load_dir(engine, data).files_skipped == len(_sources(data))
    assert _ledger(engine) == ledger

    log_file.write_bytes(b"")  # scrambled content back to something loadable: empty file
    everything = load_dir(engine, data, reload=True)
    assert everything.files_skipped == 0
    assert everything.sources[0].new == 0  # every object known: staged again, none new
    assert {t.table: (t.added, t.changed) for t in everything.tables if t.table in STAR} == {
        t: (0, 0) for t in STAR
    }
    assert len(_ledger(engine)) == len(ledger)  # still one row per object


def test_a_path_too_long_to_record_is_refused_before_anything_is_loaded(
    engine: Engine, data: Path, tmp_path: Path
) -> None:
    from sparkify_dw.errors import SourceError
    from sparkify_dw.ledger import MAX_LOCATION_BYTES

    load_dir(engine, data)
    before = _star(engine)
    deep = tmp_path / "logs"
    for _ in range(9):  # 9 folders of 240 bytes: over 2,048 bytes, under Linux's PATH_MAX
        deep = deep / ("d" * 240)
    deep.mkdir(parents=True)
    day = _files(data / "log_data")[0]
    (deep / day.name).write_bytes(day.read_bytes().replace(b'"ts":', b'"ts":1', 1))
    assert len(str(deep / day.name).encode()) > MAX_LOCATION_BYTES
    with pytest.raises(SourceError, match=r"path longer than 2,048 bytes.*nothing was loaded"):
        load_dir(engine, data, log_data=tmp_path / "logs")
    assert _star(engine) == before
