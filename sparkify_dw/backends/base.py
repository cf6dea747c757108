"""What a backend is: everything in which one database engine differs from the others.

Shared code asks the backend of its engine (`sparkify_dw.backends.backend_for`) and never tests
an engine's name: how to connect, how a COPY stages files (Redshift's own COPY, or the
emulation with the engine's bulk writer), how a load is locked, which errors are worth a retry,
and what "no database yet" means when a reading command opens one. Each engine's module
subclasses `Backend` (the pattern of Alembic's per-dialect `DefaultImpl`, dlt's destination
capabilities) and registers its SQL compilation and Alembic impl when it is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from sqlalchemy import Engine, Table, delete, insert
from sqlalchemy.engine import URL, Connection, Dialect
from sqlalchemy.sql import Executable

from sparkify_dw.copy.emulation import (
    DEFAULT_BATCH_ROWS,
    BulkWriter,
    FastCopyFactory,
    check_sources,
    copy_emulated,
)
from sparkify_dw.copy.options import CopyOptions, CopyResult, Progress, StageOptions

Notify = Callable[[str], None]


class Backend:
    """The defaults: an engine that needs no setup, has no lock and retries nothing."""

    name: ClassVar[str]  # SQLAlchemy's dialect name (`URL.get_backend_name()`)
    # A URL that only picks the dialect, for printing its SQL (`sparkify-dw sql`): never used
    # to connect.
    placeholder_url: ClassVar[str]
    # The package extra that installs the driver (`pip install 'sparkify-dw[<extra>]'`).
    driver_extra: ClassVar[str | None] = None
    # Whether COPY is the engine's own statement (printed by `sparkify-dw sql`) or emulated.
    native_copy: ClassVar[bool] = False
    # Whether an INSERT … SELECT's row count is exact through the driver: the load then
    # derives the rows of the tables only INSERTs grow instead of counting them again.
    exact_rowcounts: ClassVar[bool] = True

    # --- connecting ---------------------------------------------------------------------------
    def engine_arguments(
        self, url: URL, *, read_only: bool = False
    ) -> tuple[URL, dict[str, object]]:
        """The URL the engine keeps and the connect_args laid over its dialect's, checked.

        `read_only`: the engine only reads (the reading commands, `open_warehouse`); an engine
        that locks its database per process (DuckDB) opens it so, the others ignore it."""
        return url, {}

    def engine_options(self, url: URL) -> dict[str, Any]:
        """Keyword arguments for `create_engine` (the pool, …); the caller's own win."""
        return {}

    def read_write_instead(self, reason: str) -> bool:
        """Whether a read-only connection failed (`reason`, the driver's line) only because
        this process already holds the database read-write, so that opening it read-write too
        is what works (DuckDB)."""
        return False

    def prepare(self, engine: Engine) -> None:
        """Attach what the engine needs once made (event hooks); `prepare_dialect` its dialect."""
        self.prepare_dialect(engine.dialect)

    def prepare_dialect(self, dialect: Dialect) -> None:
        """Set how `dialect` compiles SQL for this engine: for an engine's dialect (`prepare`)
        and for the dialect `sparkify-dw sql` prints with alike, so what is printed is what is
        sent."""

    def missing_database(self, url: URL) -> str | None:
        """Why there is certainly no database at `url` yet (opening it would create one), or
        None when only connecting can tell."""
        return None

    # --- staging ------------------------------------------------------------------------------
    def bulk_writer(self) -> BulkWriter:
        raise NotImplementedError(f"{self.name} has no bulk writer")

    def copy(
        self,
        connection: Connection,
        table: Table,
        location: str,
        options: CopyOptions,
        *,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        progress: Progress | None = None,
    ) -> CopyResult:
        """COPY the files at `location` into `table`: emulated, through the bulk writer."""
        return copy_emulated(
            connection,
            table,
            location,
            options,
            self.bulk_writer(),
            batch_rows=batch_rows,
            progress=progress,
            fast_path=self.fast_copy(),
        )

    def check_copy(self, table: Table, location: str, options: CopyOptions) -> None:
        """Refuse, before a load connects, a COPY this engine could not run (a LoadError, a
        SourceError or a ConfigError). The default (the emulation, which reads the files from
        this machine): a location that names no object, a missing or malformed JSONPaths file,
        found by the listing the COPY makes again (for 20,000 local files about 0.3 s)."""
        check_sources(table, location, options)

    def empty_staging(self, table: Table) -> Executable:
        """The statement that empties a staging table inside the load's transaction: DELETE
        (Redshift's TRUNCATE commits the transaction it runs in)."""
        return delete(table)

    def uses_ledger(self, options: StageOptions) -> bool:
        """Whether a load chooses its objects by the file ledger (ledger.py): the emulation
        lists and reads the files itself, so always."""
        return True

    def fast_copy(self) -> FastCopyFactory | None:
        """A path that stages whole files in the engine, before the record-by-record one."""
        return None

    # --- small writes -------------------------------------------------------------------------
    def insert_rows(
        self, connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """INSERT `rows` (one mapping per row, each with the same keys): one executemany."""
        if rows:
            connection.execute(insert(table), list(rows))

    # --- loads side by side -------------------------------------------------------------------
    def lock_setup_statement(self, dialect: Dialect) -> Executable | None:
        """What must exist before the lock can be taken, made once outside any load (None:
        nothing)."""
        return None

    def lock_statement(self, dialect: Dialect, tables: Sequence[Table]) -> Executable | None:
        """The statement that takes the load lock, waiting if need be (None: no lock)."""
        return None

    def acquire_lock(self, connection: Connection, tables: Sequence[Table], notify: Notify) -> None:
        """Take the load lock inside the connection's current transaction (see each engine)."""
        statement = self.lock_statement(connection.dialect, tables)
        if statement is not None:
            connection.execute(statement)

    def is_retryable(self, exc: BaseException) -> bool:
        """Whether a statement failed only because a concurrent transaction won."""
        return False

    def failure_note(self, exc: BaseException) -> str | None:
        """What a failed load's one line adds to the driver's reason: what became of the
        warehouse and what to do (None: nothing to add)."""
        return None
