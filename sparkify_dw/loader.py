"""The load: migrate, stage (COPY), then merge into the star tables, and report what happened.

Only this module runs statements on a connection. A load is one transaction from clearing the
staging tables to the last star table: when anything fails, every table is as it was before.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from html import escape
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Table, func, select
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from sparkify_dw import ledger, migrate, transforms
from sparkify_dw.backends import backend_for, copy_into
from sparkify_dw.backends.base import Notify
from sparkify_dw.copy.options import Compression, CopyOptions, CopyResult, Reject, StageOptions
from sparkify_dw.db import check_connection, make_engine
from sparkify_dw.display import MAX_TEXT, data_frame, html_table, short
from sparkify_dw.errors import DatabaseError, LoadError, driver_reason
from sparkify_dw.history import LoadHistory, LoadOutcome
from sparkify_dw.models import TABLES
from sparkify_dw.progress import ProgressArg, progress_for
from sparkify_dw.progress import ProgressCallback as ProgressCallback  # its first home
from sparkify_dw.rejects import RejectLog
from sparkify_dw.transforms import plays_without_user, star_merges
from sparkify_dw.urls import redact_url

if TYPE_CHECKING:
    from sparkify_dw.checks import CheckResults
    from sparkify_dw.checkscope import Scope
    from sparkify_dw.config import Settings

logger = logging.getLogger(__name__)

# A load that meets a serialization conflict is rolled back whole; try it again this often.
SERIALIZATION_RETRIES = 3
RETRY_SECONDS = 2.0

REPR_WARNINGS = 3  # warnings a LoadReport's repr quotes (each cut to MAX_TEXT), the rest counted
HTML_WARNINGS = 20  # and its HTML

# A ProgressCallback is called with (step name, done, in all) as a load goes: while a COPY
# reads its files, in bytes under the staging table's name (`is_copy`); then under
# MERGE_PROGRESS, in statements run.
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
class SourceCount:
    """What the file ledger made of one COPY's sources: how many objects the location names,
    how many are new, changed since they were loaded (staged again), or skipped (loaded in
    the same version before). Redshift loads read the location whole: no ledger there yet."""

    table: str
    location: str
    new: int
    changed: tuple[str, ...]
    skipped: int
    again: int = 0  # staged again in the same version (--all, --full-refresh)

    @property
    def listed(self) -> int:
        return self.new + len(self.changed) + self.again + self.skipped


@dataclass(frozen=True, repr=False)
class LoadReport:
    """What a load did: rows per table, what each COPY staged and rejected, time per step, and
    (from `run`) the data-quality checks run after it.

    Its repr is a summary of a few lines (every file's statistics stay in `copies`); in a
    notebook it shows as HTML tables. `to_pandas()` gives the rows per table as a DataFrame.
    """

    database: str  # password masked
    load_id: str  # the rejects of this load are in load_errors under this id
    copies: tuple[CopyResult, ...]
    tables: tuple[TableCount, ...]
    steps: tuple[StepTiming, ...] = field(default=())
    full_refresh: bool = False  # the star tables were rebuilt from this load's staging
    warnings: tuple[str, ...] = field(default=())  # about the star merge (COPY's are per copy)
    sources: tuple[SourceCount, ...] = field(default=())  # the file ledger's choice, per COPY
    checks: CheckResults | None = None  # run after the load by `run` (None: not run)

    @property
    def files_skipped(self) -> int:
        """Objects not staged: the ledger holds them in the same version."""
        return sum(s.skipped for s in self.sources)

    def check_scope(self, check_all: bool = False) -> Scope:
        """The rows `run`'s checks read after this load: every row with `check_all`, or when
        the load rebuilt the star tables or filled empty ones (its batch is the whole
        warehouse), else the rows its batch names ("load": sparkify_dw.checkscope).
        `sparkify-dw check` reads every row."""
        star_tables = {t.name for t in TABLES.star}
        star = [t for t in self.tables if t.table in star_tables]
        if check_all or self.full_refresh or all(t.before == 0 for t in star):
            return "warehouse"
        return "load"

    @property
    def rejects(self) -> tuple[Reject, ...]:
        return tuple(r for c in self.copies for r in c.rejects)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps)

    def rows(self, table: str) -> int:
        return next(t.after for t in self.tables if t.table == table)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (str, int, float, bool, list, dict): what `sparkify-dw run
        --format json` prints, less its checks. Schema: sparkify_dw/schemas/run.schema.json.

        Per COPY the files are counted, and listed only when they hold rejects: the real song
        data is ~15,000 files, a list nobody reads. The rejects leave out the raw line (up to
        1 KB each); `load_errors` keeps it under `load_id`.
        """
        return {
            "database": self.database,
            "load_id": self.load_id,
            "full_refresh": self.full_refresh,
            "seconds": self.seconds,
            "tables": [
                {
                    "table": t.table,
                    "before": t.before,
                    "after": t.after,
                    "added": t.added,
                    "changed": t.changed,
                }
                for t in self.tables
            ],
            "copies": [_copy_dict(copy) for copy in self.copies],
            "sources": [
                {
                    "table": s.table,
                    "location": s.location,
                    "listed": s.listed,
                    "new": s.new,
                    "changed": list(s.changed),
                    "again": s.again,
                    "skipped": s.skipped,
                }
                for s in self.sources
            ],
            "steps": [{"name": s.name, "seconds": s.seconds} for s in self.steps],
            "warnings": list(self.warnings),
        }

    def all_warnings(self) -> list[str]:
        """Every warning: each COPY's (prefixed with its table), then the merge's."""
        found = [f"{c.table}: {w}" for c in self.copies for w in c.warnings]
        return found + list(self.warnings)

    def to_pandas(self) -> Any:
        """The rows per table (before, after, added, changed) as a pandas DataFrame."""
        rows = [(t.table, t.before, t.after, t.added, t.changed) for t in self.tables]
        columns = ("table", "before", "after", "added", "changed")
        return data_frame(columns, rows, "LoadReport.to_pandas")

    def _heading(self) -> str:
        how = ", star tables rebuilt (full refresh)" if self.full_refresh else ""
        return f"{self.database}, load {self.load_id}, {self.seconds:.1f} s{how}"

    def __repr__(self) -> str:
        lines = [f"<LoadReport {self._heading()}"]
        lines += [
            f"  {t.table}: {t.after:,} rows ({t.added:+,}, {t.changed:,} changed)"
            for t in self.tables
        ]
        lines += [f"  COPY {_copy_line(c)}" for c in self.copies]
        if self.checks is not None:
            lines.append(f"  checks: {self.checks.summary()}")
            lines += [f"    {r.name}: {r.state}" for r in self.checks if not r.passed]
        warnings = self.all_warnings()
        lines += [f"  warning: {short(w, MAX_TEXT)}" for w in warnings[:REPR_WARNINGS]]
        if len(warnings) > REPR_WARNINGS:
            lines.append(f"  … {len(warnings) - REPR_WARNINGS} more warning(s): all_warnings()")
        if self.rejects:
            lines.append(f"  rejects: SELECT * FROM load_errors WHERE load_id = '{self.load_id}'")
        return "\n".join(lines) + ">"

    def _repr_html_(self) -> str:
        parts = [f"<p><b>Load report</b>: {escape(self._heading())}</p>"]
        parts.append(
            html_table(
                ("table", "rows", "added", "changed"),
                [(t.table, t.after, f"{t.added:+,}", t.changed) for t in self.tables],
            )
        )
        parts.append(
            html_table(
                ("COPY into", "from", "rows", "files", "rejected"),
                [(c.table, c.location, c.rows, len(c.files), _rejected(c)) for c in self.copies],
            )
        )
        if self.checks is not None:
            parts.append(self.checks._repr_html_())
        warnings = self.all_warnings()
        if warnings:
            items = [f"<li>{escape(short(w, 300))}</li>" for w in warnings[:HTML_WARNINGS]]
            if len(warnings) > HTML_WARNINGS:
                items.append(f"<li>… {len(warnings) - HTML_WARNINGS} more: all_warnings()</li>")
            parts.append(f"<p>Warnings:</p><ul>{''.join(items)}</ul>")
        if self.rejects:
            query = f"SELECT * FROM load_errors WHERE load_id = '{self.load_id}'"
            parts.append(f"<p>Every rejected record: <code>{escape(query)}</code></p>")
        steps = html_table(("step", "seconds"), [(s.name, f"{s.seconds:.3f}") for s in self.steps])
        parts.append(f"<details><summary>Time per step</summary>{steps}</details>")
        return "".join(parts)


def _copy_dict(copy: CopyResult) -> dict[str, Any]:
    return {
        "table": copy.table,
        "location": copy.location,
        "rows": copy.rows,
        "files": len(copy.files),
        "rejected": sum(f.rejected for f in copy.files),
        "files_with_rejects": [
            {"url": f.url, "rows": f.rows, "rejected": f.rejected} for f in copy.files if f.rejected
        ],
        "rejects": [
            {
                "filename": r.filename,
                "line_number": r.line_number,
                "colname": r.colname,
                "type": r.type,
                "raw_field_value": r.raw_field_value,
                "err_code": r.err_code,
                "err_reason": r.err_reason,
            }
            for r in copy.rejects
        ],
        "warnings": list(copy.warnings),
    }


def _rejected(copy: CopyResult) -> int:
    return sum(f.rejected for f in copy.files)


def _copy_line(copy: CopyResult) -> str:
    return (
        f"{copy.table}: {copy.rows:,} rows from {len(copy.files):,} file(s), "
        f"{_rejected(copy):,} rejected"
    )


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
    plans: Sequence[ledger.Plan] | None = None,
) -> tuple[CopyResult, CopyResult]:
    """Empty the staging tables and COPY the songs (JSON 'auto') and events (JSONPaths) in.

    Runs inside the caller's transaction; a LoadError leaves the rollback to the caller. The
    rejects go to `load_errors` (through `reject_log`, on a connection of their own). With
    `plans` (the file ledger's, one per COPY in order), each COPY stages exactly the objects
    its plan names; none: the COPY is not run.
    """
    log = reject_log or RejectLog(connection.engine)
    for table in TABLES.staging:
        connection.execute(backend_for(connection).empty_staging(table))  # in the transaction
    copies = []
    for n, (table, location, copy_options) in enumerate(staged_copies(options)):
        if plans is not None:
            if not plans[n].load:
                copies.append(CopyResult(table.name, location, 0, ()))
                continue
            copy_options = replace(copy_options, objects=plans[n].load)
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
    # The driver told every INSERT's row count (DuckDB 1.x says -1, counted as 0; 2.0 tells):
    # only then do `inserted` and `changed` hold exactly.
    exact: bool = True


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
    counts: dict[str, MergeCount] = {}
    for merge in merges:
        told = True  # every INSERT's row count known
        with timer.step(merge.name):
            rows = {}
            for step, sql in merge.steps():
                result = connection.execute(sql, execution_options=_COUNTED)
                told &= step != "insert" or result.rowcount >= 0
                rows[step] = _rowcount(result)
                ran()
        # A table's count sums its groups (songplays: the new plays, then the re-matched).
        table = merge.table.name
        known = counts.get(table, MergeCount(table, 0, 0))
        told &= known.exact
        inserted = rows.get("insert", 0)
        changed = rows.get("replace", 0) + rows.get("update", 0)
        counts[table] = MergeCount(
            table, known.inserted + inserted, known.changed + changed, exact=told
        )
        logger.info(
            "merge %s: %d row(s) staged, %d inserted, %d replaced (%.3f s)",
            merge.name,
            rows.get("fill", 0),
            inserted,
            changed,
            timer.steps[-1].seconds,
            extra={"table": table, "staged": rows.get("fill", 0), "inserted": inserted,
                   "replaced": changed},
        )  # fmt: skip
    return counts


# SQLAlchemy keeps a cursor's rowcount for UPDATE and DELETE only; INSERT … SELECT on psycopg
# reported -1 without this.
_COUNTED = {"preserve_rowcount": True}


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
    reload: bool = False,
    progress: ProgressArg = None,
    notify: Notify | None = None,
) -> LoadReport:
    """Migrate to the latest schema, then stage and merge into the star tables in one transaction.

    The location and COPY arguments are `StageOptions`' fields (`load_with` takes one);
    locations are s3:// URIs or local paths (str or Path). Only the objects the file ledger
    does not hold in the same version are staged (ledger.py); `reload` stages every one.
    `full_refresh` rebuilds the star tables from what this load stages (every object) instead
    of merging.
    `progress`: a callback (step, bytes done, bytes in all), or True / False to show the COPYs'
    progress or not (None: shown in Jupyter only; see `sparkify_dw.progress`).
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
    return load_with(
        bind, options, full_refresh=full_refresh, reload=reload, progress=progress, notify=notify
    )


def load_with(
    bind: Engine | Connection,
    options: StageOptions,
    *,
    full_refresh: bool = False,
    reload: bool = False,
    progress: ProgressArg = None,
    notify: Notify | None = None,
) -> LoadReport:
    """`load`, with the sources and COPY options as one StageOptions (`progress` as for `load`).

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
    with progress_for(progress) as callback:
        return _load_retried(bind, options, full_refresh, reload or full_refresh, callback, say)


def _load_retried(
    bind: Engine | Connection,
    options: StageOptions,
    full_refresh: bool,
    everything: bool,
    progress: ProgressCallback | None,
    say: Notify,
) -> LoadReport:
    backend = backend_for(bind)
    attempts = 1 + (SERIALIZATION_RETRIES if isinstance(bind, Engine) else 0)
    for attempt in range(1, attempts + 1):
        try:
            return _load_once(bind, options, full_refresh, everything, progress, say)
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
    everything: bool,
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
    log = RejectLog(engine)  # load_errors and loads have their own transactions
    history = LoadHistory(
        engine,
        log.load_id,
        song_data=options.song_data,
        log_data=options.log_data,
        full_refresh=full_refresh,
    )
    history.start()
    try:
        report = _load_in_transaction(
            bind, options, full_refresh, everything, progress, notify, timer, log
        )
    except BaseException as exc:
        history.failed(_history_error(bind, exc))
        raise
    history.succeeded(_outcome(report))
    return report


def _load_in_transaction(
    bind: Engine | Connection,
    options: StageOptions,
    full_refresh: bool,
    everything: bool,
    progress: ProgressCallback | None,
    notify: Notify,
    timer: _Timer,
    log: RejectLog,
) -> LoadReport:
    with _transaction(bind) as connection:
        backend = backend_for(connection)
        backend.acquire_lock(connection, TABLES.loaded, notify)
        before = count_rows(connection)
        plans: list[ledger.Plan] | None = None
        if backend.uses_ledger(options):  # the ledger chooses the objects to stage
            with timer.step("list sources"):
                plans = [
                    ledger.plan(connection, table, location, copy_options, everything=everything)
                    for table, location, copy_options in staged_copies(options)
                ]
            _say_changed(plans, notify)
        else:
            logger.info(
                "no file ledger on %s without a manifest prefix: every object is staged",
                backend.name,
            )
        logger.info("stage: load %s", log.load_id)
        try:
            with timer.step("stage"):
                copies = stage(connection, options, progress=progress, reject_log=log, plans=plans)
        except BaseException:
            for plan in plans or ():
                plan.cancel()  # no record will be written: stop hashing the new files
            raise
        logger.info("merge into the star tables%s", " (full refresh)" if full_refresh else "")
        merged = transform(connection, timer, full_refresh=full_refresh, progress=progress)
        if plans is not None:
            for plan, copy in zip(plans, copies, strict=True):
                ledger.record(connection, plan, copy, log.load_id)
        derived = [
            name
            for name in _grown_by_inserts(backend.exact_rowcounts, full_refresh)
            if merged[name].exact
        ]
        after = count_rows(connection, tuple(t for t in TABLES.loaded if t.name not in derived))
        after |= {name: before[name] + merged[name].inserted for name in derived}
        userless = connection.execute(plays_without_user(TABLES)).scalar_one()
    # load_errors is not counted again here: the rejects were committed on the reject log's own
    # connection, which this transaction's snapshot (DuckDB's, a REPEATABLE READ or SERIALIZABLE
    # one: Redshift's) does not see. Nor on a new connection: given a Connection, the caller's
    # transaction may still hold the migration's locks. Its rows after the load are the ones
    # counted before it, plus this load's rejects, one row each.
    errors = TABLES.load_errors.name
    after[errors] = before[errors] + sum(len(copy.rejects) for copy in copies)
    # This load's own row in `loads` was written (committed) before the count before it.
    after[TABLES.loads.name] = before[TABLES.loads.name]
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
    engine = connection.engine
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
        sources=tuple(
            SourceCount(p.table, p.location, p.new, p.changed, p.skipped, p.again)
            for p in plans or ()
        ),
    )


def _grown_by_inserts(exact_rowcounts: bool, full_refresh: bool) -> tuple[str, ...]:
    """The tables whose rows after a load are the rows before plus what their merge inserted
    (nothing else deletes from them, short of a full refresh), where the driver's counts can be
    exact (and then were: `MergeCount.exact`): counting them again read every play (0.4 s of a
    daily load at 3M on PostgreSQL)."""
    if not exact_rowcounts or full_refresh:
        return ()
    return transforms.APPEND_ONLY


def _say_changed(plans: Sequence[ledger.Plan], notify: Notify) -> None:
    for plan in plans:
        if plan.changed:
            shown = ", ".join(plan.changed[:3]) + (", …" if len(plan.changed) > 3 else "")
            notify(
                f"{len(plan.changed):,} object(s) of {plan.location} changed since they were "
                f"loaded; staging them again: {shown}"
            )


def _history_error(bind: Engine | Connection, exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, SQLAlchemyError):
        return str(_database_error(bind, exc))
    return str(exc) or exc.__class__.__name__


def _outcome(report: LoadReport) -> LoadOutcome:
    return LoadOutcome(
        table_counts={
            t.table: {"before": t.before, "after": t.after, "changed": t.changed}
            for t in report.tables
            if t.table not in ("load_errors", "loads")
        },
        rows_staged=sum(c.rows for c in report.copies),
        rejects=len(report.rejects),
        files_new=sum(s.new for s in report.sources),
        files_changed=sum(len(s.changed) for s in report.sources),
        files_skipped=report.files_skipped,
    )


def run(
    settings: Settings,
    *,
    full_refresh: bool = False,
    reload: bool = False,
    progress: ProgressArg = None,
    notify: Notify | None = None,
    checks: bool = True,
    check_all: bool = False,
) -> LoadReport:
    """The whole pipeline for `settings`: connect, migrate, stage (what the file ledger does
    not hold yet; every object with `reload` or `full_refresh`), merge (or rebuild), then the
    data-quality checks (`sparkify_dw.checks`), whose results are the report's `checks`.

    The checks read the rows the load's batch names (`report.check_scope()`; every row after a
    first load or a full refresh); `check_all=True` reads every row, as `sparkify-dw check`.
    A failed check does not raise (the load is committed): see `report.checks.passed` and
    `report.checks.failures`. `checks=False` skips them (`checks` is then None). `progress`
    as for `load`.
    """
    options = settings.stage_options()
    engine = make_engine(settings.db_url)
    try:
        try:
            report = load_with(  # checks the sources, then the connection
                engine,
                options,
                full_refresh=full_refresh,
                reload=reload,
                progress=progress,
                notify=notify,
            )
        except SQLAlchemyError as exc:
            reason = _reason(engine, exc)
            raise DatabaseError(f"Load failed on {settings.safe_db_url}: {reason}") from None
        if checks:
            scope = report.check_scope(check_all)
            report = replace(report, checks=_check(engine, settings, scope))
        return report
    finally:
        engine.dispose()


def _check(engine: Engine, settings: Settings, scope: Scope) -> CheckResults:
    from sparkify_dw.checks import run_checks

    try:
        return run_checks(engine, scope=scope)
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"The load is committed, but its data-quality checks failed to run on "
            f"{settings.safe_db_url}: {driver_reason(exc)}"
        ) from None
