"""COPY on the local engines: the same rows, the same rejects, the same errors as Redshift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sparkify_dw import CopyOptions, LoadError, StagingEvent, StagingSong, copy_into
from tests.helpers import event

EVENTS = StagingEvent.__table__
SONGS = StagingSong.__table__


def _event(**fields: object) -> str:
    return json.dumps(event(**fields))


@pytest.fixture
def jsonpaths(sample_dir: Path) -> str:
    return str(sample_dir / "log_json_path.json")


def _write(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _rows(connection: Connection, query: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in connection.execute(sa.text(query))]


BAD_LINES = [
    ('{"artist": "truncated', "invalid JSON", 1216, ""),
    ("[1, 2, 3]", "not an object", 1216, ""),
    (_event(ts="yesterday"), "Invalid digit", 1207, "ts"),
    (_event(sessionId="one"), "Invalid digit", 1207, "session_id"),
    (_event(gender="x" * 17), "exceeds DDL length", 1204, "gender"),
    (_event(level="é" * 9), "exceeds DDL length", 1204, "level"),  # 9 characters, 18 bytes
    (_event(ts=None), "not-null", 1213, "ts"),
]


def test_bad_records_are_rejected_one_for_one_and_good_ones_load(
    connection: Connection, tmp_path: Path, jsonpaths: str
) -> None:
    good = [_event(ts=1541106106796 + i, itemInSession=i) for i in range(5)]
    lines = [good[0], *(b[0] for b in BAD_LINES), *good[1:]]
    path = _write(tmp_path / "logs", "2018-11-01-events.json", lines)
    with connection.begin():
        result = copy_into(
            connection,
            EVENTS,
            str(tmp_path / "logs"),
            CopyOptions(jsonpaths=jsonpaths, max_error=len(BAD_LINES)),
        )
    assert result.rows == len(good)
    assert _rows(connection, "SELECT count(*) FROM staging_events") == [(len(good),)]
    assert [(r.line_number, r.err_code, r.colname) for r in result.rejects] == [
        (line, code, column) for line, (_, _, code, column) in enumerate(BAD_LINES, start=2)
    ]
    for reject, (raw, reason, _, _) in zip(result.rejects, BAD_LINES, strict=True):
        assert reject.filename == str(path.resolve())
        assert reason in reject.err_reason
        # As STL_LOAD_ERRORS keeps it: each multibyte character (é) as a period.
        assert reject.raw_line == "".join(c if c.isascii() else "." for c in raw)
    assert result.files[0].rejected == len(BAD_LINES)


def test_one_reject_too_many_fails_the_copy_and_loads_nothing(
    connection: Connection, tmp_path: Path, jsonpaths: str
) -> None:
    _write(tmp_path / "logs", "a.json", [_event(), _event(ts="soon"), _event(sessionId="x")])
    with pytest.raises(LoadError) as info, connection.begin():
        copy_into(
            connection,
            EVENTS,
            str(tmp_path / "logs"),
            CopyOptions(jsonpaths=jsonpaths, max_error=1),
        )
    message = str(info.value)
    assert "2 bad record(s), more than MAXERROR 1" in message
    assert "a.json:2, column ts" in message
    assert "a.json:3, column session_id" in message
    assert _rows(connection, "SELECT count(*) FROM staging_events") == [(0,)]


def test_json_auto_maps_keys_by_name_numbers_become_text_and_extra_keys_are_ignored(
    connection: Connection, tmp_path: Path
) -> None:
    song = {
        "num_songs": 1,
        "artist_id": "AR1",
        "artist_latitude": None,
        "artist_longitude": "",
        "artist_location": "",
        "artist_name": 112,
        "song_id": "SO1",
        "title": "Cupid",
        "duration": 226.29832,
        "year": 0,
        "extra": 1,
    }
    pretty = json.dumps({**song, "song_id": "SO2", "artist_name": "Beyoncé"}, indent=4)
    _write(tmp_path / "songs/A/A/A", "TR1.json", [json.dumps(song)])
    _write(tmp_path / "songs/A/A/B", "TR2.json", [pretty])
    _write(tmp_path / "songs/A/A/C", "TR3.json", [json.dumps({"song_id": "SO3"})])
    with connection.begin():
        result = copy_into(connection, SONGS, str(tmp_path / "songs"))
    assert (result.rows, result.rejects) == (3, ())
    assert _rows(
        connection,
        "SELECT song_id, artist_name, artist_location, artist_longitude, duration, year "
        "FROM staging_songs ORDER BY song_id",
    ) == [
        ("SO1", "112", "", None, 226.29832, 0),
        ("SO2", "Beyoncé", "", None, 226.29832, 0),
        ("SO3", None, None, None, None, None),
    ]


def test_ignorecase_matches_keys_whatever_their_case(
    connection: Connection, tmp_path: Path
) -> None:
    _write(tmp_path / "songs", "s.json", [json.dumps({"Song_ID": "SO1", "TITLE": "x"})])
    with connection.begin():
        copy_into(connection, SONGS, str(tmp_path / "songs"), CopyOptions(ignore_case=True))
    assert _rows(connection, "SELECT song_id, title FROM staging_songs") == [("SO1", "x")]


def test_a_jsonpaths_file_with_the_wrong_number_of_paths_fails_before_loading(
    connection: Connection, tmp_path: Path, jsonpaths: str
) -> None:
    paths = tmp_path / "paths.json"
    expressions = json.loads(Path(jsonpaths).read_text())["jsonpaths"]
    paths.write_text(json.dumps({"jsonpaths": expressions[:-1]}))
    _write(tmp_path / "logs", "a.json", [_event()])
    with pytest.raises(LoadError, match="17 expressions but staging_events has 18 columns"):
        copy_into(connection, EVENTS, str(tmp_path / "logs"), CopyOptions(jsonpaths=str(paths)))


def test_empty_files_load_nothing_without_error(
    connection: Connection, tmp_path: Path, jsonpaths: str
) -> None:
    _write(tmp_path / "logs", "empty.json", [])
    with connection.begin():
        result = copy_into(
            connection, EVENTS, str(tmp_path / "logs"), CopyOptions(jsonpaths=jsonpaths)
        )
    assert (result.rows, len(result.files)) == (0, 1)


def test_truncatecolumns_cuts_to_the_byte_length(
    connection: Connection, tmp_path: Path, jsonpaths: str
) -> None:
    _write(tmp_path / "logs", "a.json", [_event(level="é" * 9)])
    with connection.begin():
        copy_into(
            connection,
            EVENTS,
            str(tmp_path / "logs"),
            CopyOptions(jsonpaths=jsonpaths, truncate_columns=True),
        )
    assert _rows(connection, "SELECT level FROM staging_events") == [("é" * 8,)]


def test_batches_smaller_than_the_input_give_the_same_rows(
    connection: Connection, tmp_path: Path, jsonpaths: str
) -> None:
    events = [_event(ts=1541106106796 + i, itemInSession=i) for i in range(25)]
    _write(tmp_path / "logs", "a.json", events)
    with connection.begin():
        result = copy_into(
            connection,
            EVENTS,
            str(tmp_path / "logs"),
            CopyOptions(jsonpaths=jsonpaths),
            batch_rows=4,
        )
    assert result.rows == 25
    assert _rows(
        connection,
        "SELECT min(item_in_session), max(item_in_session), count(*) FROM staging_events",
    ) == [(0, 24, 25)]


def test_a_jsonpaths_file_under_the_data_prefix_is_loaded_as_data_with_a_warning(
    connection: Connection, tmp_path: Path, jsonpaths: str
) -> None:
    logs = tmp_path / "logs"
    _write(logs, "a.json", [_event()])
    inside = logs / "log_json_path.json"
    inside.write_text(Path(jsonpaths).read_text())
    with connection.begin():
        result = copy_into(
            connection, EVENTS, str(logs), CopyOptions(jsonpaths=str(inside), max_error=1)
        )
    assert result.rows == 1
    assert [(r.filename, r.err_code, r.colname) for r in result.rejects] == [
        (str(inside.resolve()), 1213, "session_id")  # its keys match no path: all NULL
    ]
    assert "loaded as data too" in result.warnings[0]


def test_bytes_that_are_not_utf8_are_rejected_and_their_rejects_can_be_stored(
    connection: Connection, tmp_path: Path, jsonpaths: str
) -> None:
    from sparkify_dw.rejects import RejectLog

    logs = tmp_path / "logs"
    logs.mkdir()
    lone_surrogate = _event(artist="\ud800x")  # json.dumps writes it as the escape \ud800
    (logs / "a.json").write_bytes(
        b'{"artist": "\xff\xfe"}\n' + lone_surrogate.encode() + b"\n" + _event().encode() + b"\n"
    )
    with connection.begin():
        result = copy_into(
            connection, EVENTS, str(logs), CopyOptions(jsonpaths=jsonpaths, max_error=2)
        )
    assert result.rows == 1
    assert [(r.line_number, r.err_code, r.colname) for r in result.rejects] == [
        (1, 1220, "artist"),
        (2, 1220, "artist"),
    ]
    log = RejectLog(connection.engine)
    log.record("staging_events", result.rejects)  # the database takes them as text
    with connection.begin():
        stored = _rows(connection, "SELECT line_number, raw_field_value FROM load_errors")
    assert sorted(stored) == [(1, ".."), (2, ".x")]  # as STL_LOAD_ERRORS: multibyte as "."
