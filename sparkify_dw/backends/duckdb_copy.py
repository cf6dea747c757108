"""DuckDB's fast COPY path: DuckDB reads, parses and converts the files itself, in bulk.

Local uncompressed files are read by DuckDB straight from their paths; objects from S3,
compressed ones and small files are spooled by Python (decompressed) into temporary files,
many small objects to one file, since DuckDB opens 20,000 tiny files slowly. One statement per
batch parses every line once (`read_json_objects` then one `json_extract` of all the columns'
keys), converts the values as Redshift would, and says of each file whether every line is
`ok`, that is, converts exactly as the record-by-record emulation (copy/emulation.py) converts
it; a second statement inserts the rows of the files that are. A file with any line that is
not (a broken, pretty-printed or too long record, a number loaded into text, a value out of
range, a missing NOT NULL value, invalid UTF-8, NaN, a trailing comma...) is handed back to
the emulation, which reports its rejects with their exact file, line, column and code. A
spool of several objects that is not all `ok` is split in halves until the objects to hand
back are found, so the cost of the faithful path is paid by the files that need it.

The checks are conservative on purpose: a line is `ok` only where the SQL conversion is known
to equal the emulation's (tests/integration/test_fast_copy.py loads hostile lines both ways).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from sparkify_dw.backends.duckdb_sql import LINE_OK, column_sql, json_path, quote
from sparkify_dw.copy.compression import READ_ERRORS, decompressed, read_error
from sparkify_dw.copy.jsonpaths import Path as JsonPath
from sparkify_dw.copy.jsonpaths import plain_keys
from sparkify_dw.copy.jsonread import MAX_RECORD_BYTES
from sparkify_dw.copy.options import CopyOptions
from sparkify_dw.errors import LoadError, SourceError
from sparkify_dw.sources import SourceObject, is_s3

# Files (or spools) read by one pair of statements: bounds the statements' memory.
BATCH_BYTES = 512 * 1024 * 1024
# DuckDB's reader holds a line up to this size (a longer one is an error of the check, and its
# file takes the emulation, which holds at most MAX_RECORD_BYTES of it).
MAX_OBJECT_BYTES = 2 * MAX_RECORD_BYTES
CHECK_MEMORY_LIMIT = "256MB"
# Refused small objects held in memory for the emulation, at most, before the queue is drained.
MAX_HELD_BYTES = 32 * 1024 * 1024
# Files read by one statement, at most (each costs DuckDB's multi-file reader memory).
MAX_BATCH_FILES = 64
# An object larger than this (after decompression) takes the streaming emulation.
MAX_FILE_BYTES = 256 * 1024 * 1024
# Objects up to this size share a spool file with others; larger ones get one of their own.
SMALL_OBJECT_BYTES = 1024 * 1024
# DuckDB reads a path as a glob pattern: a path with these characters is spooled instead.
_GLOB = set("*?[]{}\\")

# A line that does not both start with `{` and end with `}`: part of a pretty-printed record
# (or not a record at all), which only the emulation reads right.
_MULTILINE = re.compile(rb"(?m)^[ \t\r]*[^{ \t\r\n]|[^} \t\r\n][ \t\r]*$")


@dataclass
class _Member:
    order: int  # the object's place among the COPY's objects
    obj: SourceObject
    records: int  # its non-blank lines (what it holds if every line is a record)
    offset: int = 0  # where its bytes start in a spool
    size: int = 0
    data: bytes | None = None  # held for the emulation: a small object the fast path refused


@dataclass
class Unit:
    """One file DuckDB reads: a source file itself, or a spool of one or more objects."""

    path: str
    members: list[_Member]
    spooled: bool


@dataclass
class DuckDBFastCopy:
    """Queues files, stages those DuckDB converts exactly, hands back the rest in order."""

    connection: Connection
    table: Table
    keys: list[str]  # the JSON key of each column, in column order
    columns: list[tuple[str, str]]  # (value SQL, ok SQL) per column
    compression: str | None
    units: list[Unit] = field(default_factory=list)
    queued_bytes: int = 0
    spool: BinaryIO | None = None
    spool_unit: Unit | None = None
    folder: str | None = None
    count: int = 0  # objects seen: their order
    spools: int = 0  # spool files made: their names
    spool_size: int = 0  # bytes written to the current spool
    refused: list[_Member] = field(default_factory=list)  # queued for the emulation, in order
    held_bytes: int = 0  # the refused objects' bytes, held in memory
    checker: Any = None  # the DuckDB connection that checks files (duckdb.DuckDBPyConnection)

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
        ):
            return None
        keys = [c.name for c in table.columns] if paths is None else plain_keys(paths)
        if keys is None:
            return None
        columns = []
        for number, column in enumerate(table.columns, start=1):
            sql = column_sql(column, f"x{number}")
            if sql is None:
                return None
            columns.append(sql)
        return cls(connection, table, keys, columns, options.compression)

    # Queueing ----------------------------------------------------------------------------

    def direct(self, obj: SourceObject) -> bool:
        """Whether DuckDB reads the file at its path (Python does not read it at all). Small
        files are spooled together: DuckDB opens many tiny files slowly, with much memory."""
        return (
            not is_s3(obj.url)
            and self.compression is None
            and SMALL_OBJECT_BYTES < obj.size <= MAX_FILE_BYTES
            and os.path.isabs(obj.url)
            and not _GLOB.intersection(obj.url)
        )

    def add_path(self, obj: SourceObject) -> None:
        self.units.append(Unit(obj.url, [_Member(self.count, obj, -1)], spooled=False))
        self.count += 1
        self.queued_bytes += obj.size

    def takes(self, obj: SourceObject) -> bool:
        """Whether the object may be spooled (the others are streamed by the emulation)."""
        return self.compression is not None or obj.size <= MAX_FILE_BYTES

    def add(self, obj: SourceObject, stream: BinaryIO) -> bool:
        """Spool an object's (decompressed) bytes; False when it must take the emulation
        now (too large once decompressed). Raises SourceError when it cannot be read."""
        order = self.count
        self.count += 1
        small = obj.size <= SMALL_OBJECT_BYTES and self.compression is None
        if small:
            data = _read(stream, obj.url)
            if _MULTILINE.search(data):
                # A pretty-printed record (a line that is not a whole object): the emulation's
                # own, queued in order without a detour through DuckDB.
                self.refused.append(_Member(order, obj, 0, data=data))
                self.held_bytes += len(data)
                return True
            if data and not data.endswith(b"\n"):
                data += b"\n"  # the next object's first line starts a line of its own
            spool, unit = self._open_spool()
            records = sum(1 for line in data.split(b"\n") if line.strip(b" \t\r"))
            unit.members.append(_Member(order, obj, records, self.spool_size, len(data)))
            spool.write(data)
            self.spool_size += len(data)
            self.queued_bytes += len(data)
            return True
        spool, unit = self._new_spool()
        self.units.append(unit)
        try:
            size = _copy_stream(stream, spool, self.compression, obj.url)
        except _TooLarge:
            self._close_spool()
            return False
        unit.members.append(_Member(order, obj, 0, 0, size))
        self.queued_bytes += size
        self._close_spool()
        return True

    @property
    def full(self) -> bool:
        return (
            self.queued_bytes >= BATCH_BYTES
            or len(self.units) >= MAX_BATCH_FILES
            or self.held_bytes >= MAX_HELD_BYTES
        )

    def _open_spool(self) -> tuple[BinaryIO, Unit]:
        """The spool small objects are being added to (a new one, queued, if none is open)."""
        if self.spool is None or self.spool_unit is None:
            spool, unit = self._new_spool()
            self.units.append(unit)
            return spool, unit
        return self.spool, self.spool_unit

    def _new_spool(self) -> tuple[BinaryIO, Unit]:
        """A new, empty spool file, open for writing (the caller queues its unit or not)."""
        self._close_spool()
        self.spool = open(self.scratch_file("spool", "json"), "w+b")  # noqa: SIM115 - closed by _close_spool
        self.spool_size = 0
        self.spool_unit = Unit(self.spool.name, [], spooled=True)
        return self.spool, self.spool_unit

    def scratch_file(self, kind: str, suffix: str) -> str:
        """A new file's path in this COPY's temporary folder (removed by `close`)."""
        if self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="sparkify-copy-")
        self.spools += 1
        return os.path.join(self.folder, f"{kind}-{self.spools}.{suffix}")

    def _close_spool(self) -> None:
        if self.spool is not None:
            self.spool.close()
        self.spool, self.spool_unit = None, None

    def close(self) -> None:
        """Remove the spool files, close the checking connection."""
        self._close_spool()
        if self.checker is not None:
            self.checker.close()
            self.checker = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    # Staging ------------------------------------------------------------------------------

    def flush(
        self,
    ) -> tuple[list[tuple[SourceObject, int]], list[tuple[SourceObject, bytes | None]]]:
        """Stage the queued files: (file, rows) of those staged, and the files the emulation
        must load (with their bytes when held), in their order."""
        self._close_spool()
        units, self.units, self.queued_bytes = self.units, [], 0
        staged: list[tuple[_Member, int]] = []
        others, self.refused, self.held_bytes = self.refused, [], 0
        self._stage([u for u in units if u.members], staged, others)
        for unit in units:
            if unit.spooled and not unit.members:  # a spool abandoned for the emulation
                remove_file(unit.path)
        staged.sort(key=lambda item: item[0].order)
        others.sort(key=lambda member: member.order)
        return [(m.obj, rows) for m, rows in staged], [(m.obj, m.data) for m in others]

    def _stage(
        self, units: list[Unit], staged: list[tuple[_Member, int]], others: list[_Member]
    ) -> None:
        while units:
            found = self._check(units)
            good: list[Unit] = []
            retry: list[Unit] = []
            for unit in units:
                rows, ok = found.get(unit.path, (0, True))
                if len(unit.members) == 1:
                    member = unit.members[0]
                    # A file with bytes and no row (blank lines, or unread): the emulation looks.
                    if ok and (unit.path in found or member.obj.size == 0):
                        good.append(unit)
                        staged.append((member, rows))
                    else:
                        others.append(member)
                elif ok and rows == sum(m.records for m in unit.members):
                    good.append(unit)
                    staged.extend((m, m.records) for m in unit.members)
                else:
                    retry.extend(self._split(unit))
            try:
                if good:
                    self._insert(good)
            finally:  # staged, handed back or split: a spool is read for the last time
                for unit in units:
                    if unit.spooled:
                        remove_file(unit.path)
            units = retry

    def _split(self, unit: Unit) -> list[Unit]:
        """A spool of several objects in two halves, each a spool of its own."""
        half = len(unit.members) // 2
        parts = []
        with open(unit.path, "rb") as source:
            for members in (unit.members[:half], unit.members[half:]):
                spool, part = self._new_spool()
                for member in members:
                    source.seek(member.offset)
                    spool.write(source.read(member.size))
                    part.members.append(
                        _Member(
                            member.order, member.obj, member.records, self.spool_size, member.size
                        )
                    )
                    self.spool_size += member.size
                parts.append(part)
                self._close_spool()
        return parts

    def _source(self, units: list[Unit]) -> str:
        files = "[" + ", ".join(quote(u.path) for u in units) + "]"
        paths = "[" + ", ".join(quote(json_path(k)) for k in self.keys) + "]"
        parts = ", ".join(f"CAST(j[{n}] AS VARCHAR) AS x{n}" for n in range(1, len(self.keys) + 1))
        return (
            f"(SELECT filename, json, {parts} FROM (SELECT filename, json, "
            f"json_extract(json, {paths}) AS j FROM read_json_objects({files}, "
            f"format='newline_delimited', ignore_errors=true, filename=true, "
            f"maximum_object_size={MAX_OBJECT_BYTES})))"
        )

    def _check(self, units: list[Unit]) -> dict[str, tuple[int, bool]]:
        """(rows, every line ok) of each file. Run on a DuckDB of its own, outside the load's
        transaction: an error there (a line over the reader's object size, a file that cannot
        be read) would abort the load, here it only sends the files the slow way."""
        ok = " AND ".join([LINE_OK, *(ok for _, ok in self.columns)])
        query = (
            f"SELECT filename, count(*), bool_and({ok}) FROM {self._source(units)} "
            "GROUP BY filename"
        )
        import duckdb

        try:
            rows = self._checking().execute(query).fetchall()
        except duckdb.Error:
            if len(units) == 1:
                return {units[0].path: (0, False)}
            found: dict[str, tuple[int, bool]] = {}
            for unit in units:  # which file it was: the others still take the fast path
                found.update(self._check([unit]))
            return found
        return {str(path): (int(count), bool(ok)) for path, count, ok in rows}

    def _checking(self) -> Any:
        """The DuckDB connection of the checks (duckdb.DuckDBPyConnection), made once."""
        if self.checker is None:
            import duckdb

            self.checker = duckdb.connect(
                config={"memory_limit": CHECK_MEMORY_LIMIT, "preserve_insertion_order": False}
            )
        return self.checker

    def _insert(self, units: list[Unit]) -> None:
        """Stage the rows of files that passed the check, in the load's transaction."""
        names = ", ".join(f'"{c.name}"' for c in self.table.columns)
        values = ", ".join(value for value, _ in self.columns)
        raw = self.connection.connection.driver_connection
        self._execute(
            raw,
            f'INSERT INTO "{self.table.name}" ({names}) SELECT {values} FROM {self._source(units)}',
            units,
        )

    def _execute(self, raw: Any, query: str, units: list[Unit]) -> Any:
        import duckdb

        try:
            return raw.execute(query)
        except duckdb.Error as exc:  # a file gone or unreadable since it was listed
            first = next(iter(str(exc).splitlines()), "")
            names = ", ".join(m.obj.url for u in units[:3] for m in u.members[:1])
            # Or the database cannot take what was read: a full disk, memory run out.
            writing = isinstance(exc, duckdb.OutOfMemoryException) or "Could not write" in first
            doing = "staging" if writing else "reading"
            raise LoadError(
                f"COPY into {self.table.name} failed {doing} {names}: {first}"
            ) from None


class _TooLarge(Exception):
    pass


def _read(stream: BinaryIO, url: str) -> bytes:
    with stream:
        try:
            return stream.read()
        except OSError as exc:
            raise SourceError(f"Cannot read {url}: {exc.strerror or exc}") from None


def _copy_stream(
    stream: BinaryIO, spool: BinaryIO, compression: str | None, url: str, chunk: int = 1 << 20
) -> int:
    """Copy an object's bytes (decompressed) to the spool, ending them with a newline; return
    how many were written. Raises _TooLarge past MAX_FILE_BYTES, SourceError when it cannot
    be read (a corrupt archive included)."""
    source = decompressed(stream, compression)
    written, last = 0, b"\n"
    with stream:
        try:
            while data := source.read(chunk):
                written += len(data)
                if written > MAX_FILE_BYTES:
                    raise _TooLarge
                spool.write(data)
                last = data[-1:]
        except READ_ERRORS as exc:
            raise read_error(url, compression, exc) from None
    if last != b"\n":
        spool.write(b"\n")
        written += 1
    return written


def remove_file(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
