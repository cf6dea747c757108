"""DuckDB, the embedded default: a file on disk, no server.

- Connecting: memory capped (DuckDB's default, 80 % of RAM, lets a load's buffer pool grow with
  its input); the file's folder must exist; a URL with a host (`duckdb://x.duckdb`) or no file
  name (`duckdb:///`) is refused (`duckdb:///:memory:` is memory).
  A reading command never creates a missing file, and opens the file read-only.
- Staging: the COPY emulation; each batch becomes an Arrow table DuckDB appends in one step.
- Pooling: none for a file (`engine_options`): an idle engine holds no lock on it.
- Locking: none. A DuckDB file takes one writing process at a time by itself (a second process,
  reading or writing, gets a clear "Could not set lock on file … PID" error; readers share it);
  a write-write conflict between two connections of one process is retried.
- Identity: DuckDB has no IDENTITY columns; each gets a sequence, created by the Alembic impl
  below just before its table, and a `DEFAULT nextval(…)` compiled here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from alembic.ddl.postgresql import PostgresqlImpl
from sqlalchemy import BigInteger as SABigInteger
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    SmallInteger,
    String,
    Table,
    event,
    select,
    text,
)
from sqlalchemy import (
    Sequence as SASequence,
)
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateColumn, CreateSequence, DropSequence
from sqlalchemy.sql.compiler import DDLCompiler

from sparkify_dw.backends.base import Backend
from sparkify_dw.copy.emulation import BulkWriter, FastCopyFactory, Row
from sparkify_dw.errors import ConfigError

logger = logging.getLogger(__name__)

# A fixed cap keeps a load's memory flat (DuckDB's default is 80 % of RAM); beyond it DuckDB
# spills to disk, except what its commit must hold (the indexes of the keyed tables): at 512MB
# a first load of 3M events failed at its commit once song_catalogue and play_keys came in
# (benchmarks/README.md, "daily"). `?memory_limit=…` in the URL overrides it.
DUCKDB_MEMORY_LIMIT = "1GB"

# The fast COPY path (duckdb_copy.py): DuckDB parses and converts the files; the emulation
# only sees the files it hands back (benchmarks/README.md, "The COPY fast paths").
FAST_COPY = True


def _file(url: URL) -> Path | None:
    """The database file a URL names (None: in memory)."""
    if url.host or url.username or url.port:
        # duckdb://relative.duckdb: the name is the URL's host; the file would be ignored and
        # the data loaded into memory, then lost.
        raise ConfigError(
            f"A DuckDB URL names a file after three slashes, not a host ({url.host!r} is one "
            "here): duckdb:///relative.duckdb, or four for an absolute path: "
            "duckdb:////abs/path.duckdb"
        )
    if not url.database:
        # duckdb:// or duckdb:///: a forgotten file name, not a wish for memory (a load lost).
        raise ConfigError(
            f"{url.render_as_string()} names no DuckDB file: write one after three slashes, "
            "duckdb:///sparkify.duckdb (or duckdb:///:memory: for a database in memory)"
        )
    if url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


class DuckDBBackend(Backend):
    name: ClassVar[str] = "duckdb"
    placeholder_url: ClassVar[str] = "duckdb:///sparkify.duckdb"

    def engine_arguments(
        self, url: URL, *, read_only: bool = False
    ) -> tuple[URL, dict[str, object]]:
        path = _file(url)
        if path is not None and not path.resolve().parent.is_dir():
            raise ConfigError(f"Folder for the DuckDB file does not exist: {path.resolve().parent}")
        # duckdb-engine lays the URL's query over this config, so the URL still wins.
        args: dict[str, object] = {"config": {"memory_limit": DUCKDB_MEMORY_LIMIT}}
        if read_only and path is not None:  # an in-memory database cannot be read-only
            # A read-only file, folder or file system opens; several readers share the file,
            # and a notebook holding it read-only no longer blocks a reading command. A process
            # holding it read-write still does: DuckDB's "Conflicting lock … (PID n)" says which.
            args["read_only"] = True
        return url, args

    def engine_options(self, url: URL) -> dict[str, Any]:
        if _file(url) is None:
            return {}  # in memory: the pool's one connection is the database (kept)
        # No pool: a connection closes when returned, and with the last one DuckDB releases
        # the file. An engine a notebook keeps (a read-write one too) then holds no lock
        # between uses, and `sparkify-dw run` in a terminal can load meanwhile. Reopening
        # costs milliseconds per connection, and a load makes a handful.
        return {"poolclass": NullPool}

    def read_write_instead(self, reason: str) -> bool:
        # One process opens a file with one configuration: a notebook's read-write engine on it
        # is the one a read-only open in that notebook must share.
        return "different configuration than existing connections" in reason

    def prepare(self, engine: Engine) -> None:
        super().prepare(engine)
        _quiet_rollback_when_invalidated(engine)
        event.listen(engine, "connect", _no_progress_bar)

    def missing_database(self, url: URL) -> str | None:
        path = _file(url)
        return "no such file" if path is not None and not path.is_file() else None

    def bulk_writer(self) -> BulkWriter:
        return ArrowWriter()

    def fast_copy(self) -> FastCopyFactory | None:
        if not FAST_COPY:
            return None
        from sparkify_dw.backends.duckdb_copy import DuckDBFastCopy

        return DuckDBFastCopy.for_copy

    def is_retryable(self, exc: BaseException) -> bool:
        # Two connections of one process (a notebook's and a load's) writing the same rows:
        # DuckDB's optimistic concurrency fails the later one ("Conflict on update!").
        import duckdb

        orig = getattr(exc, "orig", exc)
        return isinstance(orig, duckdb.TransactionException) and "Conflict" in str(orig)

    def failure_note(self, exc: BaseException) -> str | None:
        # A failed load never committed: DuckDB writes a transaction's changes to the file's
        # free blocks and only a commit makes them part of the database; a FATAL error
        # (a checkpoint that cannot write, memory that runs out in a commit) invalidates the
        # database in this process only, and the file keeps its last committed state.
        import duckdb

        orig = getattr(exc, "orig", exc)
        reason = str(orig)
        if "No space left on device" in reason or "Disk quota exceeded" in reason:
            return (
                "the disk is full; nothing was committed, the warehouse is unchanged, and the "
                "space its file took the next load reuses. Free space (a load needs room for "
                "what it stages) and run again"
            )
        if isinstance(orig, duckdb.FatalException) or "database has been invalidated" in reason:
            return (
                "DuckDB stopped using the database after this error; nothing was committed, "
                "the warehouse file is unchanged. Run again (with more memory: "
                "?memory_limit=… in the URL)"
            )
        return None


def _no_progress_bar(dbapi_connection: Any, _record: Any) -> None:
    """DuckDB draws a progress bar on stdout (not stderr) once a statement runs over 2 s: into
    `--format json`'s document. The library reports progress itself. (A session setting:
    DuckDB refuses it in the connection's config, as a global option. In a Jupyter kernel
    DuckDB refuses to change it without ipywidgets; its bar is a widget there, not stdout, so
    the printing alone is turned off, or nothing.)"""
    import duckdb

    for setting in ("enable_progress_bar", "enable_progress_bar_print"):
        try:
            dbapi_connection.execute(f"SET {setting} = false")
            return
        except duckdb.Error:
            continue


def _quiet_rollback_when_invalidated(engine: Engine) -> None:
    """After a FATAL error DuckDB refuses everything on the database, a rollback too: the
    pool's rollback of the returned connection then printed "Exception during reset" with a
    traceback (SQLAlchemy logs it at ERROR) on top of the load's own error. Nothing is left to
    roll back (the transaction never committed), so that rollback is logged at DEBUG only."""
    import duckdb

    dialect = engine.dialect
    rollback = dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        except duckdb.FatalException as exc:
            logger.debug("Rollback skipped: the DuckDB database is invalidated (%s)", exc)

    dialect.do_rollback = do_rollback  # type: ignore[method-assign]


class ArrowWriter:
    """Hand the batch to DuckDB as an Arrow table and append it in one statement."""

    def write(self, connection: Connection, table: Table, rows: Sequence[Row]) -> None:
        import pyarrow as pa

        names = [c.name for c in table.columns]
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        arrays = [
            pa.array(values, type=_arrow_type(column))
            for values, column in zip(columns, table.columns, strict=True)
        ]
        batch = pa.Table.from_arrays(arrays, names=names)
        raw = connection.connection.driver_connection
        assert raw is not None
        # Not register() + INSERT … SELECT: inside a transaction DuckDB keeps every registered
        # Arrow table alive until commit, so memory grew with the input (benchmarks/README.md).
        raw.from_arrow(batch).insert_into(table.name)


def _arrow_type(column: Column[Any]) -> Any:
    import pyarrow as pa

    kind = column.type
    if isinstance(kind, String):
        return pa.string()
    if isinstance(kind, Boolean):
        return pa.bool_()
    if isinstance(kind, SmallInteger):
        return pa.int16()
    if isinstance(kind, SABigInteger):
        return pa.int64()
    if isinstance(kind, Integer):
        return pa.int32()
    if isinstance(kind, Float):
        return pa.float64()
    if isinstance(kind, DateTime):
        return pa.timestamp("us")
    raise NotImplementedError(f"No Arrow type for {column}")


# --- identity columns as sequences --------------------------------------------------------------
def identity_sequence(column: Column[Any]) -> SASequence:
    """The sequence that stands in for an IDENTITY column on DuckDB."""
    identity = column.identity
    assert identity is not None, f"{column} is not an identity column"
    return SASequence(
        f"{column.table.name}_{column.name}_seq",
        start=identity.start,
        increment=identity.increment,
        minvalue=identity.minvalue,
    )


@compiles(CreateColumn, "duckdb")
def _create_column_duckdb(element: CreateColumn, compiler: DDLCompiler, **kw: Any) -> str:
    column = element.element
    if column.identity is None:
        return compiler.visit_create_column(element, **kw)  # type: ignore[no-untyped-call,no-any-return]
    # The sequence is created just before the table by DuckDBImpl.create_table below.
    sequence = compiler.preparer.format_sequence(identity_sequence(column))
    return (
        f"{compiler.preparer.format_column(column)} "
        f"{compiler.dialect.type_compiler_instance.process(column.type)} "
        f"DEFAULT nextval('{sequence}') NOT NULL"
    )


class DuckDBImpl(PostgresqlImpl):
    """Alembic has no DuckDB implementation; DuckDB speaks PostgreSQL's DDL closely enough.

    The one difference handled here: each identity column gets its sequence, created before
    its table and dropped after it.
    """

    __dialect__ = "duckdb"
    transactional_ddl = True

    def create_table(self, table: Table, **kw: Any) -> None:
        for column in table.columns:
            if column.identity is not None:
                self._exec(CreateSequence(identity_sequence(column), if_not_exists=True))
        super().create_table(table, **kw)

    def drop_table(self, table: Table, **kw: Any) -> None:
        super().drop_table(table, **kw)
        if self.as_sql:
            return  # offline: the script has no catalog to look the sequences up in
        # op.drop_table() gives a Table without columns: find the table's sequences by name.
        names = self.connection.execute(  # type: ignore[union-attr]
            select(text("sequence_name"))
            .select_from(text("duckdb_sequences()"))
            .where(text("sequence_name LIKE :pattern"))
            .params(pattern=f"{table.name}\\_%\\_seq")
        ).scalars()
        for name in list(names):
            self._exec(DropSequence(SASequence(name), if_exists=True))


BACKEND = DuckDBBackend()
