"""What the star layer would fail to cast is rejected at staging, with its file and line.

The staging columns the star casts are typed as the star needs them (migration 0003): a userId
that is not an integer, an event without sessionId, a song year beyond SMALLINT is a COPY reject
(the same code on DuckDB and PostgreSQL, and by Redshift's own COPY into those column types),
never a merge that fails; an empty userId (a logged-out event) loads as NULL and is no user.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sparkify_dw import load
from tests.helpers import event as _event


def _without(key: str) -> dict[str, Any]:
    event = _event(ts=1541106106900)
    del event[key]
    return event


def test_values_the_star_cannot_cast_are_load_errors_with_file_and_line(
    engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    logs, songs = tmp_path / "logs", tmp_path / "songs"
    logs.mkdir()
    songs.mkdir()
    events = [
        _event(),  # 1: good
        _event(userId="abc", ts=1541106106801),  # 2
        _event(userId="1e3", ts=1541106106802),  # 3: DuckDB would cast it to 1000
        _event(userId="3000000000", ts=1541106106803),  # 4: beyond INTEGER
        _without("sessionId"),  # 5: a play without its session
        _event(userId="", page="Home", auth="Logged Out", ts=1541106106805),  # 6: loads
        _event(userId=9, ts=1541106106806, sessionId="140"),  # 7: loads (number, text)
    ]
    log = logs / "2018-11-01-events.json"
    log.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    song = {
        "num_songs": 1, "artist_id": "ARJIE2Y1187B994AB7", "artist_latitude": None,
        "artist_longitude": None, "artist_location": "", "artist_name": "Des'ree",
        "song_id": "SOUPIRU12A6D4FA1E1", "title": "You Gotta Be", "duration": 246.30812,
        "year": 1994,
    }  # fmt: skip
    (songs / "TRA.json").write_text(json.dumps(song), encoding="utf-8")
    (songs / "TRB.json").write_text(json.dumps({**song, "song_id": "SOB", "year": 99999}))

    report = load(
        engine,
        song_data=songs,
        log_data=logs,
        log_jsonpath=sample_dir / "log_json_path.json",
        max_error=10,
    )

    found = [(Path(r.filename).name, r.line_number, r.colname, r.err_code) for r in report.rejects]
    assert found == [
        ("TRB.json", 1, "year", 1207),
        (log.name, 2, "user_id", 1207),
        (log.name, 3, "user_id", 1207),
        (log.name, 4, "user_id", 1207),
        (log.name, 5, "session_id", 1213),
    ]
    with engine.connect() as connection:
        users = connection.execute(sa.text("SELECT user_id FROM users ORDER BY 1")).all()
        plays = connection.execute(
            sa.text("SELECT user_id, session_id, song_id FROM songplays ORDER BY 1")
        ).all()
        staged = connection.execute(
            sa.text("SELECT user_id FROM staging_events WHERE page = 'Home'")
        ).all()
    assert [tuple(r) for r in users] == [(8,), (9,)]
    assert [tuple(r) for r in plays] == [
        (8, 139, "SOUPIRU12A6D4FA1E1"),
        (9, 140, "SOUPIRU12A6D4FA1E1"),
    ]
    assert [tuple(r) for r in staged] == [(None,)]  # "" into a number: NULL
