"""COPY emulated: the local engines stage files into a table with Redshift's semantics.

On DuckDB and PostgreSQL the library reads the files itself, converts each record as Redshift
would (convert.py), and appends the rows in bounded batches through the engine's bulk writer
(its backend's). Bad records become Rejects with
STL_LOAD_ERRORS' fields; more than `max_error` of them fail the COPY with a LoadError, and the
caller's transaction then leaves the table as it was (a COPY appends all its rows or none).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, BinaryIO, Protocol

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from sparkify_dw.copy.compression import READ_ERRORS, decompressed, read_error
from sparkify_dw.copy.convert import (
    ERR_JSON,
    ERR_NOT_NULL,
    ColumnSpec,
    ConversionError,
    column_specs,
    raw_text,
)
from sparkify_dw.copy.jsonpaths import Path, evaluate, parse_jsonpaths, plain_keys
from sparkify_dw.copy.jsonread import MAX_RECORD_BYTES, BadRecord, iter_records
from sparkify_dw.copy.options import (
    Compression,
    CopyOptions,
    CopyResult,
    FileStats,
    Progress,
    Reject,
)
from sparkify_dw.errors import LoadError
from sparkify_dw.sources import (
    SourceObject,
    list_objects,
    read_objects,
    read_text,
    text_object,
)
from sparkify_dw.sql import Analyze

Row = tuple[Any, ...]

DEFAULT_BATCH_ROWS = 50_000


class BulkWriter(Protocol):
    """An engine's bulk path for a batch of converted rows (each local backend has one)."""

    def write(self, connection: Connection, table: Table, rows: Sequence[Row]) -> None:
        """Append `rows` (values in `table`'s column order) to `table`, in the caller's
        transaction."""


class FastCopy(Protocol):
    """An engine's bulk path for whole files (DuckDB's), used before the record-by-record one.

    `direct` says whether the engine reads a file from its path itself (Python does not read
    it; `add_path` queues it); `takes` whether an object may be handed over as a stream
    (`add`, False: this one must take the record-by-record path); `flush` stages the queued
    files it converts exactly and hands back the others, in order; `close` removes what it
    kept on disk.
    """

    @property
    def full(self) -> bool: ...

    def direct(self, obj: SourceObject) -> bool: ...

    def add_path(self, obj: SourceObject) -> None: ...

    def takes(self, obj: SourceObject) -> bool: ...

    def add(self, obj: SourceObject, stream: BinaryIO) -> bool: ...

    def flush(
        self,
    ) -> tuple[list[tuple[SourceObject, int]], list[tuple[SourceObject, bytes | None]]]: ...

    def close(self) -> None: ...


# Makes the fast path of one COPY, or None where it cannot be exact for these options.
FastCopyFactory = Callable[[Connection, Table, "list[Path] | None", CopyOptions], "FastCopy | None"]


def check_sources(table: Table, location: str, options: CopyOptions) -> None:
    """Refuse, before a load connects, a COPY whose sources the emulation could not read: a
    location (or manifest) naming no object, listed as `copy_emulated` lists it; a JSONPaths
    file missing, malformed or of the wrong length. A SourceError or LoadError naming it."""
    list_objects(location, manifest=options.manifest)
    if options.jsonpaths:
        _jsonpaths(options, len(column_specs(table, options.conversion())), table)


def copy_emulated(
    connection: Connection,
    table: Table,
    location: str,
    options: CopyOptions,
    writer: BulkWriter,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
    fast_path: FastCopyFactory | None = None,
) -> CopyResult:
    """COPY the files at `location` into `table`, appending batches through `writer`; with a
    `fast_path`, the files it converts exactly are staged by it, the others record by record."""
    specs = column_specs(table, options.conversion())
    paths = _jsonpaths(options, len(specs), table) if options.jsonpaths else None
    if options.objects is None:
        objects = list_objects(location, manifest=options.manifest)
    else:
        objects = list(options.objects)
    warnings = _jsonpaths_among_data(options, objects)
    loader = _Loader(table, specs, paths, options, writer, connection, batch_rows)
    fast = fast_path(connection, table, paths, options) if fast_path is not None else None
    total = sum(o.size for o in objects)
    if fast is None:
        done = 0
        for obj, stream in read_objects(objects):
            loader.load(obj, stream)
            done += obj.size
            if progress is not None:
                progress(done, total)
    else:
        try:
            _copy_fast(objects, fast, loader, progress, total)
        finally:
            fast.close()
    loader.flush()
    order = {obj.url: number for number, obj in enumerate(objects)}
    loader.files.sort(key=lambda stats: order.get(stats.url, -1))  # the files' order
    connection.execute(Analyze(table))
    return CopyResult(
        table=table.name,
        location=location,
        rows=sum(f.rows for f in loader.files),
        files=tuple(loader.files),
        rejects=tuple(loader.rejects),
        warnings=warnings,
    )


def _copy_fast(
    objects: list[SourceObject],
    fast: FastCopy,
    loader: _Loader,
    progress: Progress | None,
    total: int,
) -> None:
    """The files in their order through the fast path, the ones it refuses through the loader.

    Files are staged in their order (what fails first, and MAXERROR's count, do not depend on
    which path took a file): the fast path's queue is drained before a file it refuses.
    """
    done = 0
    # Fetched ahead concurrently (S3 round trips overlap), in order, memory bounded; the files
    # the engine reads itself are not read here at all.
    with contextlib.closing(read_objects(o for o in objects if not fast.direct(o))) as fetched:
        for obj in objects:
            if fast.direct(obj):
                fast.add_path(obj)
            else:
                got, stream = next(fetched)
                assert got is obj
                if not fast.takes(obj):
                    _drain(fast, loader)
                    loader.load(obj, stream)  # streamed: a large file is never held whole
                elif not fast.add(obj, stream):
                    _drain(fast, loader)
                    loader.load(obj, obj.open())
            if fast.full:
                _drain(fast, loader)
            done += obj.size
            if progress is not None:
                progress(done, total)
    _drain(fast, loader)


def _drain(fast: FastCopy, loader: _Loader) -> None:
    staged, others = fast.flush()
    for obj, rows in staged:
        loader.files.append(FileStats(obj.url, rows=rows))
    for obj, data in others:  # exact rejects, file by file
        loader.load(obj, obj.open() if data is None else io.BytesIO(data))


def _jsonpaths_among_data(options: CopyOptions, objects: list[SourceObject]) -> tuple[str, ...]:
    """Redshift loads a JSONPaths file kept under the data prefix as data: say so."""
    if options.jsonpaths is None:
        return ()
    paths_file = text_object(options.jsonpaths)
    if any(obj.url == paths_file.url for obj in objects):
        return (
            f"the JSONPaths file {paths_file.url} lies under the data location and is loaded "
            "as data too (as Redshift does): keep it outside the data prefix",
        )
    return ()


def _jsonpaths(options: CopyOptions, columns: int, table: Table) -> list[Path]:
    assert options.jsonpaths is not None
    paths = parse_jsonpaths(read_text(options.jsonpaths), options.jsonpaths)
    if len(paths) != columns:
        # Redshift fails such a COPY before loading anything.
        raise LoadError(
            f"JSONPaths file {options.jsonpaths} has {len(paths)} expressions but "
            f"{table.name} has {columns} columns: the numbers must match"
        )
    return paths


class _Loader:
    """Reads records, converts them, and writes full batches; counts and keeps rejects."""

    def __init__(
        self,
        table: Table,
        specs: list[ColumnSpec],
        paths: list[Path] | None,
        options: CopyOptions,
        writer: BulkWriter,
        connection: Connection,
        batch_rows: int,
    ) -> None:
        self.table, self.specs, self.paths, self.options = table, specs, paths, options
        self.writer, self.connection, self.batch_rows = writer, connection, batch_rows
        self.batch: list[Row] = []
        self.keys = plain_keys(paths) if paths is not None else None
        self.files: list[FileStats] = []
        self.rejects: list[Reject] = []

    def load(self, obj: SourceObject, stream: BinaryIO) -> None:
        stats = FileStats(obj.url)
        self.files.append(stats)
        with stream as raw:
            for item in iter_records(_lines(raw, self.options.compression, obj.url)):
                if isinstance(item, BadRecord):
                    self._reject(
                        stats, item.line_number, "", "", item.text, "", ERR_JSON, item.reason
                    )
                    continue
                if not isinstance(item.value, dict):
                    kind = "array" if isinstance(item.value, list) else "scalar"
                    self._reject(
                        stats,
                        item.line_number,
                        "",
                        "",
                        item.text,
                        "",
                        ERR_JSON,
                        f"a JSON {kind}, not an object, cannot be a record",
                    )
                    continue
                row = self._convert(item.value, stats, item.line_number, item.text)
                if row is None:
                    continue
                self.batch.append(row)
                stats.rows += 1
                if len(self.batch) >= self.batch_rows:
                    self.flush()

    def flush(self) -> None:
        if self.batch:
            self.writer.write(self.connection, self.table, self.batch)
            self.batch = []

    def _values(self, record: dict[str, Any]) -> list[Any]:
        if self.keys is not None:  # every JSONPath is a plain $['key']: a dict lookup each
            return [record.get(key) for key in self.keys]
        if self.paths is not None:
            return [evaluate(record, path) for path in self.paths]
        if self.options.ignore_case:
            lowered = {str(k).lower(): v for k, v in record.items()}
            return [lowered.get(spec.name.lower()) for spec in self.specs]
        return [record.get(spec.name) for spec in self.specs]

    def _convert(
        self, record: dict[str, Any], stats: FileStats, line: int, text: str
    ) -> Row | None:
        row: list[Any] = []
        for spec, value in zip(self.specs, self._values(record), strict=True):
            try:
                converted = spec.convert(value)
                if converted is None and not spec.nullable:
                    raise ConversionError(ERR_NOT_NULL, "Missing data for not-null field")
            except ConversionError as exc:
                shown = "" if value is None else raw_text(value)
                self._reject(
                    stats, line, spec.name, spec.type_name, text, shown, exc.code, exc.reason
                )
                return None
            row.append(converted)
        return tuple(row)

    def _reject(
        self,
        stats: FileStats,
        line: int,
        colname: str,
        type_name: str,
        text: str,
        value: str,
        code: int,
        reason: str,
    ) -> None:
        stats.rejected += 1
        self.rejects.append(
            Reject(
                stats.url,
                line,
                colname,
                type_name,
                _as_redshift_stores(text),
                _as_redshift_stores(value),
                code,
                _storable(reason),
            )
        )
        if len(self.rejects) > self.options.max_error:
            raise LoadError(
                _too_many(self.table.name, self.rejects, self.options.max_error), self.rejects
            )


def _as_redshift_stores(text: str, limit: int = 1024) -> str:
    """A raw line or value as STL_LOAD_ERRORS keeps it: its first 1024 characters, each
    multibyte character (and NUL) replaced by `.`, so any database takes it as text."""
    return _NOT_PLAIN.sub(".", text[:limit])


def _storable(text: str, limit: int = 512) -> str:
    """A reason any database takes as text: NUL as `.`, surrogates (bytes that are not UTF-8,
    kept so by the reader, or a JSON escape such as \\ud800) as U+FFFD."""
    return _SURROGATES.sub("\ufffd", text[:limit].replace("\x00", "."))


_NOT_PLAIN = re.compile("[^\x01-\x7f]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def _too_many(table: str, rejects: list[Reject], max_error: int) -> str:
    shown = "; ".join(r.describe() for r in rejects[:3])
    more = f" (and {len(rejects) - 3} more)" if len(rejects) > 3 else ""
    return (
        f"COPY into {table} failed: {len(rejects)} bad record(s), more than MAXERROR "
        f"{max_error} allows; nothing was loaded. {shown}{more}"
    )


def _lines(
    raw: BinaryIO, compression: Compression | None, url: str, limit: int = MAX_RECORD_BYTES
) -> Iterator[str]:
    """The file's lines; one longer than `limit` (Redshift's 4 MiB JSON record limit) is
    yielded cut after `limit + 1` characters, which iter_records rejects, and the rest of it
    is skipped unread into memory: a huge line costs `limit`, not its size."""
    stream = decompressed(raw, compression)
    # surrogateescape: invalid UTF-8 survives decoding and is rejected per value (error 1220).
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="\n")
    try:
        while line := text.readline(limit + 1):
            yield line
            if len(line) > limit and not line.endswith("\n"):
                while (rest := text.readline(limit)) and not rest.endswith("\n"):
                    pass
    except READ_ERRORS as exc:
        raise read_error(url, compression, exc) from None
