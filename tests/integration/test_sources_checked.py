"""Sources are checked before the database is touched (issue 15): a location that names no
object, a missing or malformed JSONPaths file, a manifest with a missing mandatory entry is one
line, and no DuckDB file is made, no PostgreSQL table created (`load`, not only the command)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sparkify_dw import load
from sparkify_dw.db import make_engine
from sparkify_dw.errors import LoadError, SourceError
from sparkify_dw.sample import LOG_DATA, LOG_JSONPATH, SONG_DATA


def _bad_sources(tmp_path: Path) -> dict[str, tuple[dict[str, Any], type[Exception], str]]:
    empty = tmp_path / "empty"
    empty.mkdir()
    short = tmp_path / "short_paths.json"
    short.write_text('{"jsonpaths": ["$.artist"]}')
    manifest = tmp_path / "songs.manifest"
    gone = tmp_path / "gone.json"
    manifest.write_text(json.dumps({"entries": [{"url": str(gone), "mandatory": True}]}))
    return {
        "missing song folder": ({"song_data": "/nope"}, SourceError, "No files found at /nope"),
        "missing log folder": (
            {"log_data": str(tmp_path / "no" / "logs")},
            SourceError,
            "No such file or folder",
        ),
        "empty log folder": ({"log_data": str(empty)}, SourceError, f"No files found at {empty}"),
        "missing JSONPaths": (
            {"log_jsonpath": str(tmp_path / "paths.json")},
            SourceError,
            "No such file",
        ),
        "JSONPaths too short": ({"log_jsonpath": str(short)}, LoadError, "has 1 expressions"),
        "manifest entry missing": (
            {"song_data": str(manifest), "log_data": str(manifest), "manifest": True},
            SourceError,
            f"mandatory file {gone} does not exist",
        ),
    }


NAMES = [
    "missing song folder",
    "missing log folder",
    "empty log folder",
    "missing JSONPaths",
    "JSONPaths too short",
    "manifest entry missing",
]


@pytest.mark.parametrize("case", NAMES)
def test_a_bad_source_touches_no_database(db_url: str, tmp_path: Path, case: str) -> None:
    given, error, fragment = _bad_sources(tmp_path)[case]
    locations = {
        "song_data": str(SONG_DATA),
        "log_data": str(LOG_DATA),
        "log_jsonpath": str(LOG_JSONPATH),
    }
    engine = make_engine(db_url)
    try:
        with pytest.raises(error) as caught:
            load(engine, **{**locations, **given})
        assert fragment in str(caught.value)
        assert "\n" not in str(caught.value)
        if engine.url.get_backend_name() == "duckdb":
            assert not Path(str(engine.url.database)).exists()  # not even an empty file
        else:
            with engine.connect() as connection:  # not migrated: no table at all
                assert sa.inspect(connection).get_table_names() == []
    finally:
        engine.dispose()
