"""The data contract (spec/data-contract.md) computed in plain Python, straight from the files.

An independent second implementation: the tests compare what the warehouse holds with this.
It shares no code with the library. Text is compared as the contract says ("Text comparisons",
Redshift's rule): trailing blanks do not count, stored values keep them (`compared`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

EPOCH = dt.datetime(1970, 1, 1)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def read_events(log_data: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in _files(log_data)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def read_songs(song_data: Path) -> list[dict[str, Any]]:
    songs = []
    for path in _files(song_data):
        decoder, text, pos = json.JSONDecoder(), path.read_text(encoding="utf-8"), 0
        while pos < len(text.strip()):
            while text[pos].isspace():
                pos += 1
            record, pos = decoder.raw_decode(text, pos)
            songs.append(record)
    return songs


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def compared(value: Any) -> Any:
    """A value as the contract compares it: text without its trailing blanks (spaces, U+0020
    only: a tab or a no-break space still counts), anything else as it is."""
    return value.rstrip(" ") if isinstance(value, str) else value


Compare = Callable[[Any], Any]


@dataclass
class Expected:
    songplays: set[tuple[Any, ...]]  # without songplay_id
    users: set[tuple[Any, ...]]
    songs: set[tuple[Any, ...]]
    artists: set[tuple[Any, ...]]
    time: set[tuple[Any, ...]]
    staging_events: int
    staging_songs: int


def star_of(tables: Expected) -> Expected:
    """`tables` without the staging counts: after several loads staging holds only the objects
    the last one staged (the file ledger skips those loaded before)."""
    return replace(tables, staging_events=0, staging_songs=0)


def expected_tables(song_data: Path, log_data: Path, compare: Compare = compared) -> Expected:
    return star_tables(read_events(log_data), read_songs(song_data), compare)


def star_tables(
    events: list[dict[str, Any]], songs: list[dict[str, Any]], compare: Compare = compared
) -> Expected:
    """The star tables of these event and song records (as the source files hold them), text
    compared through `compare` (the contract's rule unless a test asks for another)."""
    catalogue: dict[tuple[Any, ...], dict[str, Any]] = {}
    for song in sorted(songs, key=lambda s: s["song_id"]):
        key = (compare(song["title"]), compare(_text(song["artist_name"])), float(song["duration"]))
        catalogue.setdefault(key, song)

    plays: dict[tuple[int, int, dt.datetime], tuple[Any, ...]] = {}
    for event in sorted(events, key=_item_order):
        if compare(event["page"]) != "NextSong":
            continue
        start = EPOCH + dt.timedelta(milliseconds=event["ts"])
        user_id = int(event["userId"])
        match = catalogue.get((compare(event["song"]), compare(event["artist"]), event["length"]))
        plays.setdefault(
            (user_id, event["sessionId"], start),
            (
                start,
                user_id,
                event["level"],
                match and match["song_id"],
                match and match["artist_id"],
                event["sessionId"],
                event["location"],
                event["userAgent"],
            ),
        )

    latest: dict[int, dict[str, Any]] = {}
    for event in events:
        if not event["userId"]:
            continue
        user_id = int(event["userId"])
        current = latest.get(user_id)
        if current is None or user_order(event, compare) > user_order(current, compare):
            latest[user_id] = event
    users = {
        (uid, e["firstName"], e["lastName"], e["gender"], e["level"]) for uid, e in latest.items()
    }

    by_song: dict[str, dict[str, Any]] = {}
    for song in sorted(songs, key=lambda s: (s["title"], s["artist_id"], s["duration"])):
        by_song.setdefault(compare(song["song_id"]), song)
    first_song_of_artist: dict[str, dict[str, Any]] = {}
    for song in sorted(songs, key=lambda s: s["song_id"]):
        first_song_of_artist.setdefault(compare(song["artist_id"]), song)

    starts = {p[0] for p in plays.values()}
    return Expected(
        songplays=set(plays.values()),
        users=users,
        songs={
            (s["song_id"], s["title"], s["artist_id"], s["year"] or None, float(s["duration"]))
            for s in by_song.values()
        },
        artists={
            (
                s["artist_id"],
                _text(s["artist_name"]),
                _location(s["artist_location"], compare),
                s["artist_latitude"],
                s["artist_longitude"],
            )
            for s in first_song_of_artist.values()
        },
        time={
            (t, t.hour, t.day, t.isocalendar().week, t.month, t.year, t.isoweekday() % 7)
            for t in starts
        },
        staging_events=len(events),
        staging_songs=len(songs),
    )


def _item_order(event: dict[str, Any]) -> tuple[bool, int]:
    """itemInSession ascending, a missing one last (as ORDER BY sorts NULL by default)."""
    item = event["itemInSession"]
    return (item is None, item or 0)


USER_ORDER = ("ts", "sessionId", "itemInSession", "level", "firstName", "lastName", "gender")


def user_order(event: dict[str, Any], compare: Compare = compared) -> tuple[Any, ...]:
    """An event's place in the contract's total order of a user's events (the last one gives
    the user's attributes): ts, sessionId, itemInSession, then level, firstName, lastName,
    gender as text (compared: trailing blanks do not count); a missing value (null) before any
    value."""
    return tuple(
        (0,) if event.get(key) is None else (1, compare(_text(event[key])) if i > 2 else event[key])
        for i, key in enumerate(USER_ORDER)
    )


def _location(value: Any, compare: Compare) -> str | None:
    """A number (27) loads as text; an empty location (as text compares) is NULL."""
    text = _text(value)
    return None if text is None or compare(text) == "" else text


def actual_tables(connection: Any) -> Expected:
    """The same shape, read from a loaded database."""
    import sqlalchemy as sa

    def rows(query: str) -> set[tuple[Any, ...]]:
        return {tuple(r) for r in connection.execute(sa.text(query))}

    def count(table: str) -> int:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())

    return Expected(
        songplays=rows(
            "SELECT start_time, user_id, level, song_id, artist_id, session_id, location, "
            "user_agent FROM songplays"
        ),
        users=rows("SELECT user_id, first_name, last_name, gender, level FROM users"),
        songs=rows("SELECT song_id, title, artist_id, year, duration FROM songs"),
        artists=rows("SELECT artist_id, name, location, latitude, longitude FROM artists"),
        time=rows("SELECT start_time, hour, day, week, month, year, weekday FROM time"),
        staging_events=count("staging_events"),
        staging_songs=count("staging_songs"),
    )
