"""DuckDB's fast COPY path: whole files parsed and converted by DuckDB, in bulk.

Python splits each file into lines and hands a batch of them to DuckDB as one Arrow table; one
SQL statement parses every line as JSON, extracts the columns (the JSONPaths, or the column
names for JSON 'auto'), converts them as Redshift would, and marks each line `ok` when every
value converts exactly as the record-by-record emulation would convert it. The rows of files
whose lines are all `ok` go into the staging table in one INSERT … SELECT. A file with any line
that is not — a broken or multi-line record, a number loaded into text, a value out of range, a
missing NOT NULL value, invalid UTF-8 — is handed back whole to the faithful emulation
(copy/emulation.py), which reports its rejects with their exact file, line, column and code. So
the cost of the faithful path is paid only by the files that need it.

The checks are conservative on purpose: a line is `ok` only where the SQL conversion is known
to equal the emulation's (tests/integration compares the two on the same files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Double, Float, Integer, SmallInteger, String, Table
from sqlalchemy.engine import Connection

from sparkify_dw.copy.jsonpaths import Path as JsonPath
from sparkify_dw.copy.jsonpaths import plain_keys
from sparkify_dw.copy.jsonread import MAX_RECORD_BYTES
from sparkify_dw.copy.options import CopyOptions
from sparkify_dw.sources import SourceObject

# One batch of lines handed to DuckDB at a time: bounds the memory of a load whatever its size.
BATCH_BYTES = 8 * 1024 * 1024
# Larger files (and compressed ones) take the streaming emulation: a file is held whole here.
MAX_FILE_BYTES = 64 * 1024 * 1024

# A line with this many brackets may nest deeper than the emulation's decoder goes.
_DEEP = 500

_RAW = "sparkify_copy_raw"
_PARSED = "sparkify_copy_parsed"

_INT_BOUNDS = {SmallInteger: (-(2**15), 2**15 - 1), BigInteger: (-(2**63), 2**63 - 1)}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _path(key: str) -> str:
    """A top-level key as a DuckDB JSON path: `$."key"`."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _column_sql(column: Any, number: int) -> tuple[str, str] | None:
    """(value, ok) SQL for one column from its JSON type `t[n]` and text `s[n]`; None when the
    fast path has no exact conversion for the column's type."""
    kind, text = f"t[{number}]", f"s[{number}]"
    absent = f"({kind} IS NULL OR {kind} = 'NULL')"  # no such key, or JSON null
    if isinstance(column.type, String):
        value = f"CASE WHEN {kind} = 'VARCHAR' THEN {text} END"
        length = column.type.length
        limit = f" AND strlen({text}) <= {length}" if length is not None else ""  # bytes
        ok = f"({absent} OR ({kind} = 'VARCHAR'{limit} AND NOT contains({text}, chr(0))))"
    elif isinstance(column.type, Integer):  # SmallInteger, Integer, BigInteger
        low, high = next(
            (b for t, b in _INT_BOUNDS.items() if isinstance(column.type, t)),
            (-(2**31), 2**31 - 1),
        )
        exact = f"CASE WHEN {kind} IN ('BIGINT', 'UBIGINT') THEN TRY_CAST({text} AS HUGEINT) END"
        value = f"CAST({exact} AS BIGINT)"
        ok = f"({absent} OR {exact} BETWEEN {low} AND {high})"
    elif isinstance(column.type, Double | Float):
        # A JSON number's text is the shortest form that reads back as the parsed double.
        value = (
            f"CASE WHEN {kind} IN ('DOUBLE', 'BIGINT', 'UBIGINT') "
            f"THEN TRY_CAST({text} AS DOUBLE) END"
        )
        ok = f"({absent} OR ({value} IS NOT NULL AND NOT isinf({value})))"
    else:
        return None
    if column.nullable is False:
        ok = f"({ok} AND NOT {absent})"
    return value, ok


@dataclass
class DuckDBFastCopy:
    """Batches files' lines, stages the files DuckDB converts cleanly, and hands back the rest."""

    connection: Connection
    table: Table
    keys: list[str]  # the JSON key of each column, in column order
    columns: list[tuple[str, str]]  # (value SQL, ok SQL) per column
    lines: list[str] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)
    file_numbers: list[int] = field(default_factory=list)
    pending: list[tuple[SourceObject, bytes]] = field(default_factory=list)
    pending_bytes: int = 0

    @classmethod
    def for_copy(
        cls,
        connection: Connection,
        table: Table,
        paths: list[JsonPath] | None,
        options: CopyOptions,
    ) -> DuckDBFastCopy | None:
        """The fast path for this COPY, or None where only the emulation is exact: options
        that change conversions, non-key JSONPaths, column types without a fast conversion."""
        if (
            options.ignore_case
            or options.truncate_columns
            or options.blanks_as_null
            or options.empty_as_null
            or options.timeformat
            or options.compression
        ):
            return None
        keys = [c.name for c in table.columns] if paths is None else plain_keys(paths)
        if keys is None:
            return None
        columns = []
        for number, column in enumerate(table.columns, start=1):
            sql = _column_sql(column, number)
            if sql is None:
                return None
            columns.append(sql)
        return cls(connection, table, keys, columns)

    def takes(self, obj: SourceObject) -> bool:
        """Whether the file is small enough to be held whole (the rest are streamed)."""
        return obj.size <= MAX_FILE_BYTES

    def add(self, obj: SourceObject, data: bytes) -> bool:
        """Queue a file's lines; False when it must take the emulation (not UTF-8, too big)."""
        if len(data) > MAX_FILE_BYTES:
            return False
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return False  # invalid bytes are rejected per value (1220) by the emulation
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()  # the end of the last line, not a line
        if lines and max(map(len, lines)) > MAX_RECORD_BYTES:
            return False  # over Redshift's record limit: the emulation rejects it
        number = len(self.pending)
        self.pending.append((obj, data))
        self.lines.extend(lines)
        self.line_numbers.extend(range(1, len(lines) + 1))
        self.file_numbers.extend([number] * len(lines))
        self.pending_bytes += len(data)
        return True

    @property
    def full(self) -> bool:
        return self.pending_bytes >= BATCH_BYTES

    def flush(self) -> tuple[list[tuple[SourceObject, int]], list[tuple[SourceObject, bytes]]]:
        """Stage the queued files: (file, rows) of those staged, (file, bytes) of the others."""
        if not self.pending:
            return [], []
        import pyarrow as pa

        raw = self.connection.connection.driver_connection
        assert raw is not None
        raw.execute(
            f"CREATE OR REPLACE TEMPORARY TABLE {_RAW} (file INTEGER, line INTEGER, text VARCHAR)"
        )
        batch = pa.table(
            {
                "file": pa.array(self.file_numbers, pa.int32()),
                "line": pa.array(self.line_numbers, pa.int32()),
                "text": pa.array(self.lines, pa.string()),
            }
        )
        raw.from_arrow(batch).insert_into(_RAW)
        del batch
        pending = self.pending
        self._reset()
        try:
            return self._stage(raw, pending)
        finally:  # nothing left behind, and the batch's memory goes with the tables
            raw.execute(f"DROP TABLE IF EXISTS {_PARSED}")
            raw.execute(f"DROP TABLE IF EXISTS {_RAW}")

    def _reset(self) -> None:
        self.lines, self.line_numbers, self.file_numbers = [], [], []
        self.pending, self.pending_bytes = [], 0

    def _stage(
        self, raw: Any, pending: list[tuple[SourceObject, bytes]]
    ) -> tuple[list[tuple[SourceObject, int]], list[tuple[SourceObject, bytes]]]:
        paths = "[" + ", ".join(_quote(_path(k)) for k in self.keys) + "]"
        # Parsed once into a table: the type and the text of every column of every line (a
        # value referenced twice in one query would be parsed twice). Each step is guarded by
        # the one before: a projection's AND does not short-circuit, and json_type of invalid
        # JSON is an error. What DuckDB accepts and the emulation may not makes the line not
        # `whole`, and its file goes to the emulation: a \uD800-\uDFFF escape (a surrogate,
        # rejected as bad UTF-8), NaN or Infinity (not JSON, but DuckDB's parser takes them),
        # a duplicated key (whose value two parsers may pick differently), deep nesting
        # (Python's decoder stops near 1,000 levels; brackets are counted on long lines only).
        raw.execute(
            f"""
            CREATE OR REPLACE TEMPORARY TABLE {_PARSED} AS
            WITH lines AS (
                SELECT file, line, text,
                       CASE WHEN json_valid(text) THEN json_type(text) = 'OBJECT' END AS object
                FROM {_RAW}
                WHERE text <> ''  -- a blank line with spaces is not JSON: the emulation skips it
            )
            SELECT file, line,
                   CASE WHEN object THEN
                       NOT regexp_matches(text, '\\\\u[dD][89a-fA-F]|NaN|Infinity')
                       AND len(json_keys(text)) = len(list_distinct(json_keys(text)))
                       AND (strlen(text) < {_DEEP} OR strlen(text)
                            - strlen(replace(replace(text, '[', ''), '{{', '')) < {_DEEP})
                   END AS whole,
                   CASE WHEN object THEN json_type(text, {paths}) END AS t,
                   CASE WHEN object THEN json_extract_string(text, {paths}) END AS s
            FROM lines
            """
        )
        ok = " AND ".join(f"coalesce({ok}, false)" for _, ok in self.columns)
        query = f"SELECT DISTINCT file FROM {_PARSED} WHERE NOT (coalesce(whole, false) AND {ok})"
        bad = {row[0] for row in raw.execute(query).fetchall()}
        counts = dict(raw.execute(f"SELECT file, count(*) FROM {_PARSED} GROUP BY file").fetchall())
        names = ", ".join(f'"{c.name}"' for c in self.table.columns)
        values = ", ".join(value for value, _ in self.columns)
        skip = f"WHERE file NOT IN ({', '.join(map(str, sorted(bad)))})" if bad else ""
        raw.execute(
            f'INSERT INTO "{self.table.name}" ({names}) SELECT {values} FROM {_PARSED} {skip}'
        )
        staged = [(obj, int(counts.get(n, 0))) for n, (obj, _) in enumerate(pending)
                  if n not in bad]  # fmt: skip
        others = [(obj, data) for n, (obj, data) in enumerate(pending) if n in bad]
        return staged, others
