"""The load: migrate, stage (COPY), then merge into the star tables, and report what happened.

Only this module runs statements on a connection. A load is one transaction from clearing the
staging tables to the last star table: when anything fails, every table is as it was before.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Table, delete, func, select
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from sparkify_dw import migrate, transforms
from sparkify_dw.backends import backend_for, copy_into
from sparkify_dw.backends.base import Notify
from sparkify_dw.copy.options import Compression, CopyOptions, CopyResult, Reject, StageOptions
from sparkify_dw.db import check_connection, make_engine
from sparkify_dw.errors import DatabaseError, LoadError, driver_reason
from sparkify_dw.models import TABLES
from sparkify_dw.rejects import RejectLog
from sparkify_dw.transforms import plays_without_user, star_merges
from sparkify_dw.urls import redact_url

if TYPE_CHECKING:
    from sparkify_dw.config import Settings

logger = logging.getLogger(__name__)

# A load that meets a serialization conflict is rolled back whole; try it again this often.
SERIALIZATION_RETRIES = 3
RETRY_SECONDS = 2.0


# Called with (step name, done, in all) as a load goes: while a COPY reads its files, in bytes
# under the staging table's name (`is_copy`); then under MERGE_PROGRESS, in statements run.
ProgressCallback = Callable[[str, int, int], None]
MERGE_PROGRESS = "merge"


def is_copy(name: str) -> bool:
    """Whether a progress `name` is a COPY's, whose counts are bytes."""
    return name in {table.name for table in TABLES.staging}


@dataclass(frozen=True)
class StepTiming:
    name: str
    seconds: float


@dataclass(frozen=True)
class TableCount:
    """A table's rows before and after a load, and how many rows the load replaced."""

    table: str
    before: int
    after: int
    changed: int = 0  # rows that took a new state (a user's newer event, a newer catalogue)

    @property
    def added(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class LoadReport:
    """What a load did: rows per table, what each COPY staged and rejected, time per step."""

    database: str  # password masked
    load_id: str  # the rejects of this load are in load_errors under this id
    copies: tuple[CopyResult, ...]
    tables: tuple[TableCount, ...]
    steps: tuple[StepTiming, ...] = field(default=())
    full_refresh: bool = False  # the star tables were rebuilt from this load's staging
    warnings: tuple[str, ...] = field(default=())  # about the star merge (COPY's are per copy)

    @property
    def rejects(self) -> tuple[Reject, ...]:
        return tuple(r for c in self.copies for r in c.rejects)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps)

    def rows(self, table: str) -> int:
        return next(t.after for t in self.tables if t.table == table)


class _Timer:
    def __init__(self) -> None:
        self.steps: list[StepTiming] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.steps.append(StepTiming(name, time.perf_counter() - start))


def count_rows(connection: Connection, tables: tuple[Table, ...] = TABLES.all) -> dict[str, int]:
    return {
        t.name: connection.execute(select(func.count()).select_from(t)).scalar_one() for t in tables
    }


def stage(
    connection: Connection,
    options: StageOptions,
    *,
    progress: ProgressCallback | None = None,
    reject_log: RejectLog | None = None,
) -> tuple[CopyResult, CopyResult]:
    """Empty the staging tables and COPY the songs (JSON 'auto') and events (JSONPaths) in.

    Runs inside the caller's transaction; a LoadError leaves the rollback to the caller. The
    rejects go to `load_errors` (through `reject_log`, on a connection of their own).
    """
    log = reject_log or RejectLog(connection.engine)
    for table in TABLES.staging:
        # DELETE, not TRUNCATE: on Redshift TRUNCATE commits the transaction it runs in.
        connection.execute(delete(table))
    copies = []
    for table, location, copy_options in staged_copies(options):
        logger.info("COPY %s from %s", table.name, location)
        try:
            result = copy_into(
                connection, table, location, copy_options, progress=_named(progress, table.name)
            )
        except LoadError as exc:
            log.record(table.name, exc.rejects)
            where = f" Every reject: {log.where()}" if exc.rejects else ""
            note = backend_for(connection).failure_note(exc)
            where += f" ({note})" if note else ""
            raise LoadError(f"{exc}{where}", exc.rejects) from None
        log.record(table.name, result.rejects)
        _log_copy(result)
        copies.append(result)
    return copies[0], copies[1]


def _log_copy(result: CopyResult) -> None:
    rejected = sum(f.rejected for f in result.files)
    logger.info(
        "COPY %s: %d rows from %d file(s), %d rejected",
        result.table,
        result.rows,
        len(result.files),
        rejected,
        extra={"table": result.table, "rows": result.rows, "files": len(result.files),
               "rejected": rejected},
    )  # fmt: skip
    for stats in result.files:  # thousands of song files: one line each only at DEBUG
        logger.log(
            logging.INFO if stats.rejected else logging.DEBUG,
            "COPY %s: %s: %d rows, %d rejected",
            result.table,
            stats.url,
            stats.rows,
            stats.rejected,
        )


def staged_copies(options: StageOptions) -> list[tuple[Table, str, CopyOptions]]:
    """The two COPYs of a load, in order: the songs (JSON 'auto'), then the events (JSONPaths)."""
    events_table, songs_table = TABLES.staging
    songs_options, events_options = options.copy_options()
    return [
        (songs_table, options.song_data, songs_options),
        (events_table, options.log_data, events_options),
    ]


def _named(progress: ProgressCallback | None, name: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


@dataclass(frozen=True)
class MergeCount:
    """What one star table's merge did: rows inserted, and how many of them replaced a row."""

    table: str
    inserted: int
    changed: int


def transform(
    connection: Connection,
    timer: _Timer | None = None,
    *,
    full_refresh: bool = False,
    progress: ProgressCallback | None = None,
) -> dict[str, MergeCount]:
    """Merge what staging holds into the star tables (transforms.py), in dependency order.

    With `full_refresh` the star tables are emptied first and rebuilt from staging alone.
    `progress` hears of each statement run, as MERGE_PROGRESS.
    """
    timer = timer or _Timer()
    tables = TABLES
    refresh = transforms.full_refresh(tables) if full_refresh else []
    merges = star_merges(tables)
    total = len(refresh) + sum(len(merge.steps()) for merge in merges)
    done = 0

    def ran() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(MERGE_PROGRESS, done, total)

    if progress is not None:
        progress(MERGE_PROGRESS, 0, total)
    if refresh:
        with timer.step("full refresh: empty the star tables"):
            for statement in refresh:
                connection.execute(statement)
                ran()
        logger.info("full refresh: the star tables emptied")
    counts = {}
    for merge in merges:
        with timer.step(merge.name):
            rows = {}
            for step, sql in merge.steps():
                rows[step] = _rowcount(connection.execute(sql))
                ran()
        counts[merge.name] = MergeCount(merge.name, rows["insert"], rows.get("replace", 0))
        logger.info(
            "merge %s: %d row(s) staged, %d inserted, %d replaced (%.3f s)",
            merge.name,
            rows["fill"],
            rows["insert"],
            counts[merge.name].changed,
            timer.steps[-1].seconds,
            extra={"table": merge.name, "staged": rows["fill"], "inserted": rows["insert"],
                   "replaced": counts[merge.name].changed},
        )  # fmt: skip
    return counts


def _rowcount(result: CursorResult[Any]) -> int:
    return max(result.rowcount, 0)  # -1 where a driver cannot tell


@contextmanager
def _transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """A transaction on an Engine, or on a Connection (reusing one the caller already began)."""
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            yield connection
    elif bind.in_transaction():
        yield bind
    else:
        with bind.begin():
            yield bind


def load(
    bind: Engine | Connection,
    *,
    song_data: str | os.PathLike[str],
    log_data: str | os.PathLike[str],
    log_jsonpath: str | os.PathLike[str],
    max_error: int = 0,
    iam_role_arn: str | None = None,
    region: str | None = None,
    compression: Compression | None = None,
    manifest: bool = False,
    full_refresh: bool = False,
    progress: ProgressCallback | None = None,
    notify: Notify | None = None,
) -> LoadReport:
    """Migrate to the latest schema, then stage and merge into the star tables in one transaction.

    The location and COPY arguments are `StageOptions`' fields (`load_with` takes one);
    locations are s3:// URIs or local paths (str or Path).
    `full_refresh` rebuilds the star tables from what this load stages instead of merging.
    """
    options = StageOptions(
        song_data=os.fspath(song_data),
        log_data=os.fspath(log_data),
        log_jsonpath=os.fspath(log_jsonpath),
        max_error=max_error,
        iam_role_arn=iam_role_arn,
        region=region,
        compression=compression,
        manifest=manifest,
    )
    return load_with(bind, options, full_refresh=full_refresh, progress=progress, notify=notify)


def load_with(
    bind: Engine | Connection,
    options: StageOptions,
    *,
    full_refresh: bool = False,
    progress: ProgressCallback | None = None,
    notify: Notify | None = None,
) -> LoadReport:
    """`load`, with the sources and COPY options as one StageOptions.

    Before anything connects, each COPY is checked by the engine's backend (`check_copy`: on
    DuckDB and PostgreSQL every location is listed and the JSONPaths file read); a bad source is
    a SourceError or LoadError, and no database file is made, no table created.

    Given an Engine, a load that fails on a serialization conflict (Redshift's error 1023,
    PostgreSQL's 40001/40P01) is run again, at most SERIALIZATION_RETRIES more times; given a
    Connection, retrying is the caller's choice. Any other error of the database or its driver
    is a DatabaseError with the driver's first line (password masked); nothing was changed.
    """
    say = notify or _log_notice
    backend = backend_for(bind)
    for table, location, copy_options in staged_copies(options):
        # Before anything connects: no database file made, no migration and no first COPY,
        # then a missing or empty location or a malformed second COPY.
        backend.check_copy(table, location, copy_options)
    if isinstance(bind, Engine):
        check_connection(bind)  # one clear line when the database does not answer
    attempts = 1 + (SERIALIZATION_RETRIES if isinstance(bind, Engine) else 0)
    for attempt in range(1, attempts + 1):
        try:
            return _load_once(bind, options, full_refresh, progress, say)
        except DBAPIError as exc:
            if attempt == attempts or not backend.is_retryable(exc):
                raise _database_error(bind, exc) from None
            say(
                f"The load met a concurrent transaction ({driver_reason(exc)}); nothing was "
                f"changed. Trying again ({attempt} of {SERIALIZATION_RETRIES})."
            )
            time.sleep(RETRY_SECONDS * attempt)
        except SQLAlchemyError as exc:  # not from the driver: e.g. no connection from a pool
            raise _database_error(bind, exc) from None
    raise AssertionError("unreachable")


def _database_error(bind: Engine | Connection, exc: SQLAlchemyError) -> DatabaseError:
    engine = bind if isinstance(bind, Engine) else bind.engine
    return DatabaseError(f"Load failed on {redact_url(engine.url)}: {_reason(engine, exc)}")


def _reason(engine: Engine, exc: SQLAlchemyError) -> str:
    """The driver's first line, and what the backend adds about the warehouse (disk full…)."""
    note = backend_for(engine).failure_note(exc)
    return f"{driver_reason(exc)} ({note})" if note else driver_reason(exc)


def _log_notice(message: str) -> None:
    logger.warning("%s", message)


def _load_once(
    bind: Engine | Connection,
    options: StageOptions,
    full_refresh: bool,
    progress: ProgressCallback | None,
    notify: Notify,
) -> LoadReport:
    timer = _Timer()
    engine = bind if isinstance(bind, Engine) else bind.engine
    logger.info("migrate %s to the latest schema", redact_url(engine.url))
    with timer.step("migrate"), _transaction(bind) as connection:
        # Two first loads at once must not both create the tables.
        backend_for(connection).acquire_lock(connection, (), notify)
        migrate.upgrade(connection)
    log = RejectLog(engine)
    with _transaction(bind) as connection:
        # load_errors has its own transactions
        backend_for(connection).acquire_lock(connection, TABLES.loaded, notify)
        before = count_rows(connection)
        logger.info("stage: load %s", log.load_id)
        with timer.step("stage"):
            copies = stage(connection, options, progress=progress, reject_log=log)
        logger.info("merge into the star tables%s", " (full refresh)" if full_refresh else "")
        merged = transform(connection, timer, full_refresh=full_refresh, progress=progress)
        after = count_rows(connection)
        userless = connection.execute(plays_without_user(TABLES)).scalar_one()
    logger.info(
        "load %s done in %.3f s: %s",
        log.load_id,
        sum(step.seconds for step in timer.steps),
        ", ".join(f"{t.name} {after[t.name] - before[t.name]:+,}" for t in TABLES.all),
    )
    warnings: tuple[str, ...] = ()
    if userless:
        warnings = (
            f"{userless:,} NextSong event(s) have no userId and were not stored as plays "
            "(songplays.user_id is NOT NULL); they are in staging_events",
        )
    return LoadReport(
        database=redact_url(engine.url),
        load_id=log.load_id,
        copies=copies,
        tables=tuple(
            TableCount(
                t.name,
                before[t.name],
                after[t.name],
                merged[t.name].changed if t.name in merged else 0,
            )
            for t in TABLES.all
        ),
        steps=tuple(timer.steps),
        full_refresh=full_refresh,
        warnings=warnings,
    )


def run(
    settings: Settings,
    *,
    full_refresh: bool = False,
    progress: ProgressCallback | None = None,
    notify: Notify | None = None,
) -> LoadReport:
    """The whole pipeline for `settings`: connect, migrate, stage, merge (or rebuild)."""
    options = settings.stage_options()
    engine = make_engine(settings.db_url)
    try:
        return load_with(  # checks the sources, then the connection
            engine,
            options,
            full_refresh=full_refresh,
            progress=progress,
            notify=notify,
        )
    except SQLAlchemyError as exc:
        reason = _reason(engine, exc)
        raise DatabaseError(f"Load failed on {settings.safe_db_url}: {reason}") from None
    finally:
        engine.dispose()
