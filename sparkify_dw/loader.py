"""The load: migrate, stage (COPY), then merge into the star tables, and report what happened.

Only this module runs statements on a connection. A load is one transaction from clearing the
staging tables to the last star table: when anything fails, every table is as it was before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, cast

from sqlalchemy import Engine, Table, delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from sparkify_dw import migrate
from sparkify_dw.copy import Compression, CopyOptions, CopyResult, Reject, copy_into
from sparkify_dw.db import check_connection, driver_reason, make_engine, redact_url
from sparkify_dw.errors import DatabaseError, LoadError
from sparkify_dw.models import (
    STAGING_TABLES,
    STAR_TABLES,
    LoadErrorRecord,
)
from sparkify_dw.rejects import RejectLog
from sparkify_dw.transforms import Tables, star_steps

if TYPE_CHECKING:
    from sparkify_dw.config import Settings

ALL_TABLES = (*STAGING_TABLES, *STAR_TABLES, cast(Table, LoadErrorRecord.__table__))

# Called with (step name, bytes done, bytes in all) while a COPY reads its files.
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class StepTiming:
    name: str
    seconds: float


@dataclass(frozen=True)
class TableCount:
    table: str
    before: int
    after: int

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


def count_rows(connection: Connection, tables: tuple[Table, ...] = ALL_TABLES) -> dict[str, int]:
    return {
        t.name: connection.execute(select(func.count()).select_from(t)).scalar_one() for t in tables
    }


@dataclass(frozen=True)
class StageOptions:
    """What both COPYs of a load read and how: locations (local paths or s3:// URIs) and options."""

    song_data: str
    log_data: str
    log_jsonpath: str
    max_error: int = 0  # MAXERROR, per COPY
    iam_role_arn: str | None = None  # Redshift: the role its COPY assumes to read S3
    region: str | None = None  # Redshift: the bucket's region when it differs from the cluster's
    compression: Compression | None = None  # GZIP | BZIP2: every data file is compressed
    manifest: bool = False  # MANIFEST: song_data and log_data name manifest files

    def copy_options(self) -> tuple[CopyOptions, CopyOptions]:
        """The songs COPY (JSON 'auto') and the events COPY (the JSONPaths file)."""
        songs = CopyOptions(
            max_error=self.max_error,
            iam_role_arn=self.iam_role_arn,
            region=self.region,
            compression=self.compression,
            manifest=self.manifest,
        )
        return songs, replace(songs, jsonpaths=self.log_jsonpath)


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
    for table in STAGING_TABLES:
        # DELETE, not TRUNCATE: on Redshift TRUNCATE commits the transaction it runs in.
        connection.execute(delete(table))
    events_table, songs_table = STAGING_TABLES
    songs_options, events_options = options.copy_options()
    copies = []
    for table, location, copy_options in (
        (songs_table, options.song_data, songs_options),
        (events_table, options.log_data, events_options),
    ):
        try:
            result = copy_into(
                connection, table, location, copy_options, progress=_named(progress, table.name)
            )
        except LoadError as exc:
            log.record(table.name, exc.rejects)
            where = f" Every reject: {log.where()}" if exc.rejects else ""
            raise LoadError(f"{exc}{where}", exc.rejects) from None
        log.record(table.name, result.rejects)
        copies.append(result)
    return copies[0], copies[1]


def _named(progress: ProgressCallback | None, name: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def transform(connection: Connection, timer: _Timer | None = None) -> None:
    """Merge what staging holds into the star tables (transforms.py), in dependency order."""
    for step in star_steps(Tables.default()):
        if timer is None:
            connection.execute(step.statement)
        else:
            with timer.step(step.name):
                connection.execute(step.statement)


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
    song_data: str,
    log_data: str,
    log_jsonpath: str,
    max_error: int = 0,
    iam_role_arn: str | None = None,
    region: str | None = None,
    compression: Compression | None = None,
    manifest: bool = False,
    progress: ProgressCallback | None = None,
) -> LoadReport:
    """Migrate to the latest schema, then stage and transform in one transaction.

    The arguments are `StageOptions`' fields; `load_with` takes a StageOptions instead.
    """
    options = StageOptions(
        song_data=song_data,
        log_data=log_data,
        log_jsonpath=log_jsonpath,
        max_error=max_error,
        iam_role_arn=iam_role_arn,
        region=region,
        compression=compression,
        manifest=manifest,
    )
    return load_with(bind, options, progress=progress)


def load_with(
    bind: Engine | Connection,
    options: StageOptions,
    *,
    progress: ProgressCallback | None = None,
) -> LoadReport:
    """`load`, with the sources and COPY options as one StageOptions."""
    timer = _Timer()
    with timer.step("migrate"), _transaction(bind) as connection:
        migrate.upgrade(connection)
    engine = bind if isinstance(bind, Engine) else bind.engine
    log = RejectLog(engine)
    with _transaction(bind) as connection:
        before = count_rows(connection)
        with timer.step("stage"):
            copies = stage(connection, options, progress=progress, reject_log=log)
        transform(connection, timer)
        after = count_rows(connection)
    return LoadReport(
        database=redact_url(engine.url),
        load_id=log.load_id,
        copies=copies,
        tables=tuple(TableCount(t.name, before[t.name], after[t.name]) for t in ALL_TABLES),
        steps=tuple(timer.steps),
    )


def run(settings: Settings, *, progress: ProgressCallback | None = None) -> LoadReport:
    """The whole pipeline for `settings`: connect, migrate, stage, transform."""
    engine = make_engine(settings.db_url)
    try:
        check_connection(engine)
        return load_with(engine, settings.stage_options(), progress=progress)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"Load failed on {settings.safe_db_url}: {driver_reason(exc)}") from exc
    finally:
        engine.dispose()
