"""What Redshift would hold after loading source files: its COPY's reject rules and its way of
comparing text, in plain Python, beside the data contract's oracle (tests/oracle.py).

The local engines emulate Redshift; this says, from the Amazon Redshift Database Developer Guide
and without the library's code, what Redshift itself would do with the same files:

- COPY (spec/copy-semantics.md; "COPY from JSON format", "Load error reference"): a stream of
  JSON objects, one a line or one over several lines; song files by `JSON 'auto'` (a key loads
  the column of its name), event logs through the JSONPaths file (by position). A record that
  does not parse is error 1216 and reading resumes at the next line; a text longer than its
  VARCHAR(n) in UTF-8 **bytes** is 1204 (a two-byte `ö` counts twice); a value that is not an
  integer for an integer column is 1207, not a number for a float column 1208; nothing for a
  NOT NULL column is 1213. A number loads into a VARCHAR as its text, an empty or blank string
  into a number as NULL. One reject per record, the line its record ends on.
- Comparisons ("Character types", section "Significance of trailing blanks",
  https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html): trailing spaces
  are insignificant when VARCHARs are compared; only the space is such a blank.
- The star tables then follow the data contract's rules (oracle.star_tables), which compare text
  the same way ("Text comparisons").

What is taken from the library: the staging tables' declared column types, sizes and NOT NULLs
(the schema, which is what Redshift's COPY checks against), nothing of how the library loads.
Not modelled: Redshift's truncation of a too-long VARCHAR whose excess is only spaces (the
"Significance of trailing blanks" section says so for storing; whether COPY does the same is not
documented, and the tests stay off that boundary); options beyond the defaults (MAXERROR is the
caller's to apply).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Float, Integer, SmallInteger, String, Table

from sparkify_dw.models import TABLES
from tests.oracle import Expected, compared, star_tables

ERR_LENGTH, ERR_DIGIT, ERR_FLOAT, ERR_NOT_NULL, ERR_JSON = 1204, 1207, 1208, 1213, 1216
_INTEGER = re.compile(r"[+-]?\d+")
_RANGES = {SmallInteger: 2**15, Integer: 2**31}  # BigInteger: 2**63 (checked last)


def redshift_equal(a: str, b: str) -> bool:
    """`a = b` between two VARCHARs on Redshift."""
    return bool(compared(a) == compared(b))


def redshift_empty(text: str | None) -> bool:
    """`text = ''` on Redshift: empty, or blanks only."""
    return text is not None and compared(text) == ""


@dataclass(frozen=True, order=True)
class Reject:
    """What STL_LOAD_ERRORS would say of one record (the fields the tests compare)."""

    filename: str  # the file's name, without its folder
    line_number: int  # where the record ends
    colname: str | None  # None: the record did not parse
    err_code: int


@dataclass
class Staged:
    """The records one COPY loads (as the source has them: its keys, the converted values) and
    the records it rejects."""

    records: list[dict[str, Any]]
    rejects: list[Reject]


class _RawFloat(str):
    """A JSON number with a fraction or an exponent, as written (its text loads into a VARCHAR)."""


def _records(path: Path) -> list[tuple[int, Any]]:
    """(line the record ends on, the record or None when it does not parse) for each JSON value
    of the file, read as COPY reads JSON: objects one after the other, over lines or not."""
    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder(parse_float=_RawFloat)
    out: list[tuple[int, Any]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            return out
        try:
            record, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            newline = text.find("\n", pos)
            end = len(text) if newline < 0 else newline
            out.append((text.count("\n", 0, end) + 1, None))
            pos = end
            continue
        out.append((text.count("\n", 0, end) + 1, record))
        pos = end


def _convert(value: Any, kind: Any, nullable: bool) -> tuple[Any, int | None]:
    """(the value Redshift stores, None) or (None, the error code)."""
    blank_number = isinstance(value, str) and not value.strip() and not isinstance(kind, String)
    if value is None or blank_number:
        return (None, None) if nullable else (None, ERR_NOT_NULL)
    if isinstance(kind, String):
        text = value if isinstance(value, str) else json.dumps(value)
        if kind.length is not None and len(text.encode("utf-8")) > kind.length:
            return None, ERR_LENGTH
        return text, None
    if isinstance(kind, Integer):
        text = str(value).strip() if not isinstance(value, bool) else ""
        if isinstance(value, _RawFloat) or not _INTEGER.fullmatch(text):
            return None, ERR_DIGIT
        limit = next((r for t, r in _RANGES.items() if type(kind) is t), 2**63)
        number = int(text)
        return (number, None) if -limit <= number < limit else (None, ERR_DIGIT)
    if isinstance(kind, Float):
        try:
            return float(value), None
        except ValueError:
            return None, ERR_FLOAT
    raise NotImplementedError(kind)


def copy(files: list[Path], table: Table, keys: list[str]) -> Staged:
    """COPY of `files` into `table`, `keys[i]` the source key of the table's i-th column."""
    staged = Staged([], [])
    columns = list(table.columns)
    for path in files:
        for line, record in _records(path):
            if not isinstance(record, dict):
                staged.rejects.append(Reject(path.name, line, None, ERR_JSON))
                continue
            row: dict[str, Any] = {}
            for key, column in zip(keys, columns, strict=True):
                value, error = _convert(record.get(key), column.type, column.nullable is not False)
                if error is not None:
                    staged.rejects.append(Reject(path.name, line, column.name, error))
                    break
                row[key] = value
            else:
                staged.records.append(row)
    return staged


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def jsonpaths_keys(jsonpaths: Path) -> list[str]:
    """`$['userId']` → `userId`, in the file's order."""
    paths = json.loads(jsonpaths.read_text(encoding="utf-8"))["jsonpaths"]
    keys = [re.fullmatch(r"\$\['([^']+)'\]", path) for path in paths]
    assert all(keys), f"only $['key'] paths are read here: {paths}"
    return [key.group(1) for key in keys if key]


@dataclass
class OnRedshift:
    """What Redshift would hold: the star tables (oracle.Expected) and each COPY's rejects."""

    tables: Expected
    events: Staged
    songs: Staged

    @property
    def rejects(self) -> set[Reject]:
        return {*self.events.rejects, *self.songs.rejects}


def expected_on_redshift(data: Path, log_data: Path | None = None) -> OnRedshift:
    """Load a folder laid out like the sources (song_data/, log_data/, log_json_path.json) as
    Redshift would: both COPYs with their reject rules, then the contract's star tables."""
    songs = copy(
        _files(data / "song_data"),
        TABLES.staging_songs,
        [c.name for c in TABLES.staging_songs.columns],  # JSON 'auto': the column's own name
    )
    events = copy(
        _files(log_data or data / "log_data"),
        TABLES.staging_events,
        jsonpaths_keys(data / "log_json_path.json"),
    )
    tables = star_tables(events.records, songs.records)
    tables.staging_events, tables.staging_songs = len(events.records), len(songs.records)
    return OnRedshift(tables, events, songs)
