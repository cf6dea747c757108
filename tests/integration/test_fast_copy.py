"""DuckDB's fast COPY path stages exactly what the record-by-record emulation stages.

The same files are loaded twice, with the fast path and without it; the
staged rows, the per-file counts and every reject (file, line, column, code, reason) must be
equal. The lines are the hostile and edge cases of Redshift's conversions: whatever the fast
path cannot convert exactly must reach the emulation, never a different value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sparkify_dw import CopyOptions, StagingEvent, StagingSong, copy_into, make_engine, upgrade
from sparkify_dw.backends import backend_for
from tests.helpers import event as _event

EVENTS = StagingEvent.__table__
SONGS = StagingSong.__table__


def _line(**fields: Any) -> str:
    return json.dumps(_event(**fields))


# Each entry: one line of an event log (text as written), or a case that needs raw text.
EDGE_LINES = [
    _line(userId=8),  # a number into VARCHAR: its text
    _line(artist=1.50),
    _line(gender=True),
    _line(location={"city": "Phoenix"}),
    _line(sessionId="12"),  # text into an integer
    _line(sessionId=""),
    _line(sessionId=" 7 "),
    _line(status=200.0),  # a fraction into an integer: 1207
    _line(itemInSession=1e2),
    _line(sessionId=3_000_000_000),  # overflow
    _line(ts=99999999999999999999),
    _line(ts=None),  # NOT NULL: 1213
    _line(ts="1541106106796"),
    _line(ts="abc"),
    _line(length="1.5"),
    _line(length=-0.0),
    _line(length=123456789012345678901234567890),
    '{"artist": "x", "length": 1e400, "ts": 1541106106796}',
    '{"artist": "x", "length": 0.1000000000000000055511151231257827, "ts": 1}',
    '{"artist": "caf\\u00e9", "ts": 1}',
    '{"artist": "smile \\ud83d\\ude00", "ts": 1}',
    '{"artist": "lone \\ud800", "ts": 1}',
    '{"artist": "nul \\u0000 here", "ts": 1}',
    json.dumps(_event(artist="é" * 300), ensure_ascii=False),  # 600 bytes > 512
    json.dumps(_event(artist="é" * 256), ensure_ascii=False),  # 512 bytes: fits
    _line(artist="a" * 513),
    '{"artist": "first", "artist": "second", "ts": 1}',  # a duplicated key
    '{"artist": "colon at the end", "ts": 1, "song":',
    _line(song="after a broken line"),
    "[1, 2]",
    "3",
    "",
    "   ",
    _line(extra={"nested": [1, 2]}, another=None),
    '{"artist": "x", "length": NaN, "ts": 1}',
    '{"artist": "x", "length": Infinity, "ts": 1}',
    '{"artist": "x", "length": ' + "9" * 5000 + ', "ts": 1}',
    '{"artist": "x", "length": ' + "9" * 400 + ', "ts": 1}',
    '{"artist": "x", "length": ' + "9" * 300 + ', "ts": 1}',
    '{"artist": "x", "deep": ' + "[" * 5000 + "]" * 5000 + ', "ts": 1}',
    "123abc",
    # DuckDB's parser takes these, Redshift's and the emulation's do not
    '{"artist": "x", "other": nan, "ts": 1}',
    '{"artist": "x", "other": -inf, "ts": 1}',
    '{"artist": "x", "other": [1, INF], "ts": 1}',
    '{"artist": "x", "other": NAN, "ts": 1}',
    '{"artist": "x", "ts": 1,}',
    '{"artist": "x", "other": [1 , ], "ts": 1}',
    '{"artist": "x", "other": null, "ts": 1, "n": null}',  # JSON null: fine
    '{"artist": "x" ,"ts": 1, "song": "info: nan , inf"}',  # looks like NaN, in a string
    '{"artist": "x", "ts": 1, "song": "New York, NY [Instrumental] Nancy: Infinite"}',
    '{"artist": "x", "ts": 1, "other": [1, NaN]}',
    '{"artist": "x", "ts": 1, "other": {"p": +Infinity }}',
    '{"artist": "x", "ts": 1, "other": [ inf ,2]}',
    '{"artist": "x", "ts": 1} {"artist": "y", "ts": 2}',
    '{"artist": "x", "ts": 1}\r{"artist": "y", "ts": 2}',
    '\ufeff{"artist": "a byte order mark", "ts": 1}',
    '{"artist": "x", "userId": "007", "ts": "+5"}',
    '{"artist": "x", "userId": "1e3", "ts": "1_000"}',
    '{"artist": "x", "sessionId": "0x10", "ts": 1}',
    '{"artist": "x", "length": "1.5e3", "ts": 1}',
    '{"artist": "x", "length": " 1.5", "ts": 1}',
    '{"artist": -0, "length": -0, "ts": -0}',
    '{"artist": 12345678901234567890123, "length": 12345678901234567890123, "ts": 1}',
    '{"artist": "colon at the end of the line", "ts":',
]


def _files(folder: Path) -> None:
    logs = folder / "logs"
    logs.mkdir()
    # Real data's commas and brackets inside strings must not send a clean file the slow way.
    clean = [
        _line(ts=1541106106796 + n, itemInSession=n, location="New York-Newark, NY-NJ-PA",
              song="Intro [Instrumental]", artist=f"Nancy {n}: Infinite, Inc.")
        for n in range(50)
    ]  # fmt: skip
    (logs / "a-clean.json").write_text("\n".join(clean) + "\n", encoding="utf-8")
    for number, line in enumerate(EDGE_LINES):
        body = f"{clean[0]}\n{line}\n{clean[1]}\n"
        (logs / f"b-edge-{number:02}.json").write_bytes(body.encode("utf-8", "surrogatepass"))
    (logs / "c-crlf.json").write_bytes(("\r\n".join(clean[:5]) + "\r\n").encode())
    pretty = json.dumps(_event(), indent=4)
    (logs / "d-pretty.json").write_text(f"{clean[2]}\n{pretty}\n{clean[3]}\n", encoding="utf-8")
    (logs / "e-bad-utf8.json").write_bytes(clean[4].encode()[:-5] + b'\xff"}\n')
    (logs / "f-no-final-newline.json").write_text(clean[5], encoding="utf-8")
    (logs / "g-empty.json").write_text("", encoding="utf-8")
    songs = folder / "songs"
    songs.mkdir()
    song = {
        "num_songs": 1, "artist_id": "ARJIE2Y1187B994AB7", "artist_latitude": None,
        "artist_longitude": None, "artist_location": "", "artist_name": "Line Renaud",
        "song_id": "SOUPIRU12A6D4FA1E1", "title": "Der Kleine Dompfaff", "duration": 152.92036,
        "year": 0,
    }  # fmt: skip
    variants = [
        {}, {"artist_location": 27}, {"year": "1999"}, {"year": 99999999999}, {"duration": "x"},
        {"artist_latitude": 35.14968}, {"title": "t" * 600}, {"num_songs": None},
    ]  # fmt: skip
    for number, change in enumerate(variants):
        (songs / f"TR{number:03}.json").write_text(json.dumps({**song, **change}), "utf-8")
    (songs / "TR900.json").write_text(json.dumps(song, indent=4), encoding="utf-8")


def _copy(db_url: str, folder: Path, compression: Any = None) -> tuple[Any, Any, Any]:
    """Both COPYs in a transaction that is rolled back, so the same database serves again."""
    engine = make_engine(db_url)
    jsonpaths = Path(__file__).resolve().parents[2] / "sparkify_dw/sample_data/log_json_path.json"
    try:
        with engine.connect() as connection:
            with connection.begin():
                upgrade(connection)
            transaction = connection.begin()
            results = (
                copy_into(connection, EVENTS, str(folder / "logs"),
                          CopyOptions(jsonpaths=str(jsonpaths), max_error=1000,
                                      compression=compression)),
                copy_into(connection, SONGS, str(folder / "songs"),
                          CopyOptions(max_error=1000, compression=compression)),
            )  # fmt: skip
            rows = {
                table: sorted(
                    (tuple(r) for r in connection.execute(sa.text(f"SELECT * FROM {table}"))),
                    key=repr,
                )
                for table in ("staging_events", "staging_songs")
            }
            transaction.rollback()
    finally:
        engine.dispose()
    return results, rows, [(r.table, r.rows, r.files, r.rejects) for r in results]


def _fast_class(db_url: str) -> Any:
    factory = backend_for(sa.make_url(db_url)).fast_copy()
    assert factory is not None, "every local engine has a fast path"
    return factory.__self__  # type: ignore[attr-defined]


# Every local engine's fast path (DuckDB's; PostgreSQL's, where DuckDB converts and
# PostgreSQL's COPY appends). Spooled: every file is copied by Python into shared spool files
# (as objects from S3 are), so a spool of several files with bad lines among them must be split
# until the bad ones are found.
@pytest.fixture(
    params=[
        "duckdb-direct",
        "duckdb-spooled",
        pytest.param("postgresql-direct", marks=pytest.mark.postgres),
        pytest.param("postgresql-spooled", marks=pytest.mark.postgres),
    ]
)
def db_url(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    import sparkify_dw.backends.duckdb
    import sparkify_dw.backends.postgresql

    engine, how = request.param.split("-")
    url = str(request.getfixturevalue("duckdb_url" if engine == "duckdb" else "postgres_url"))
    monkeypatch.setattr(sparkify_dw.backends.duckdb, "FAST_COPY", True)
    monkeypatch.setattr(sparkify_dw.backends.postgresql, "FAST_COPY", True)
    if how == "spooled":
        monkeypatch.setattr(_fast_class(url), "direct", lambda self, obj: False)
    return url


def test_the_fast_path_stages_what_the_emulation_stages(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _files(tmp_path)
    fast_results, fast_rows, fast = _copy(db_url, tmp_path)
    backend = type(backend_for(sa.make_url(db_url)))
    monkeypatch.setattr(backend, "fast_copy", lambda self: None)
    _, slow_rows, slow = _copy(db_url, tmp_path)
    assert fast_rows == slow_rows
    assert fast == slow
    assert fast_results[0].rejects  # the edge cases do reach the faithful path's rejects
    assert len(fast_rows["staging_events"]) > 50


def test_clean_files_take_the_fast_path(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _files(tmp_path)
    fast_class = _fast_class(db_url)
    handed_back: list[str] = []
    real = fast_class.flush

    def spy(self: Any) -> Any:
        staged, others = real(self)
        handed_back.extend(Path(obj.url).name for obj, _ in others)
        return staged, others

    monkeypatch.setattr(fast_class, "flush", spy)
    _copy(db_url, tmp_path)
    for clean in ("a-clean.json", "c-crlf.json", "f-no-final-newline.json", "TR000.json"):
        assert clean not in handed_back
    for edge in ("b-edge-01.json", "d-pretty.json", "TR004.json", "TR900.json"):
        assert edge in handed_back


def test_compressed_files_stage_what_the_emulation_stages(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gzip: Python decompresses each file into a spool that DuckDB reads."""
    import gzip

    _files(tmp_path)
    for path in [p for p in tmp_path.rglob("*.json")]:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
    _, fast_rows, fast = _copy(db_url, tmp_path, "gzip")
    backend = type(backend_for(sa.make_url(db_url)))
    monkeypatch.setattr(backend, "fast_copy", lambda self: None)
    _, slow_rows, slow = _copy(db_url, tmp_path, "gzip")
    assert fast_rows == slow_rows
    assert fast == slow
    assert len(fast_rows["staging_events"]) > 50
