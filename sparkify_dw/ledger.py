"""The file ledger: which objects a load stages, and what it records of them (`loaded_files`).

A run lists each COPY's sources, then stages only the objects the ledger does not hold in the
same version: new objects, and objects whose content changed since they were loaded. The
version of an S3 object is its ETag (from the listing: nothing is read); of a local file, the
SHA-256 of its content, computed only for a file the ledger does not hold with the same size
and modification time (so a second run over unchanged files reads none of them).

A changed object is staged again whole, and the merges apply the data contract to what it holds
now: a corrected song replaces the stored one (the later delivery wins); a log file's new events
are added, the events it held before stay (a play or a user state is never taken back: the
warehouse never deletes; `--full-refresh` rebuilds from what the sources hold now).

The ledger is read and written inside the load's transaction, after the load's lock: two loads
at once never stage one object twice, and a load that fails records nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Table, delete, select
from sqlalchemy.engine import Connection

from sparkify_dw.backends import backend_for
from sparkify_dw.copy.options import CopyOptions, CopyResult
from sparkify_dw.errors import SourceError
from sparkify_dw.models import TABLES
from sparkify_dw.sources import SourceObject, is_s3, list_objects

# The longest location the ledger records, in UTF-8 bytes: its key (table, location) must fit
# a PostgreSQL b-tree entry (at most 2,704 bytes), and Redshift's VARCHAR(4096) column. S3 keys
# are at most 1,024 bytes; the same limit on every engine, so a source loads on all or none.
MAX_LOCATION_BYTES = 2048
HASH_WORKERS = 4  # hashlib releases the GIL: local files are hashed side by side
DELETE_CHUNK = 500  # locations per DELETE … IN (…)


@dataclass(frozen=True)
class Stored:
    size: int
    version: str
    last_modified: dt.datetime | None


@dataclass(frozen=True)
class Plan:
    """What one COPY stages: `load` (new and changed objects, in the listing's order), and how
    many objects the ledger let it skip."""

    table: str
    location: str
    load: tuple[SourceObject, ...]
    versions: dict[str, str] = field(default_factory=dict)  # url -> version, for `record`
    new: int = 0
    changed: tuple[str, ...] = ()
    skipped: int = 0
    # Local files the ledger holds in the same content under a newer modification time
    touched: tuple[SourceObject, ...] = ()
    again: int = 0  # staged again in the same version (`everything`: --all, --full-refresh)
    replaced: tuple[str, ...] = ()  # locations whose ledger row this load's replaces
    hashing: _Hashing | None = None  # the new local files' hashes, computed in the background

    def version(self, url: str) -> str:
        if url in self.versions:
            return self.versions[url]
        assert self.hashing is not None, url
        return self.hashing.result(url)

    def cancel(self) -> None:
        """Stop hashing (the load failed: nothing will be recorded)."""
        if self.hashing is not None:
            self.hashing.cancel()

    @property
    def listed(self) -> int:
        return self.new + len(self.changed) + self.again + self.skipped


def _check_locations(objects: Sequence[SourceObject]) -> None:
    """A SourceError, before anything is staged, for a location too long to record."""
    too_long = [obj.url for obj in objects if len(obj.url.encode("utf-8")) > MAX_LOCATION_BYTES]
    if too_long:
        first = too_long[0]
        raise SourceError(
            f"{len(too_long)} source file(s) have a path longer than {MAX_LOCATION_BYTES:,} "
            f"bytes, which the file ledger cannot record (nothing was loaded): "
            f"{first[:120]}…{first[-60:]} ({len(first.encode('utf-8')):,} bytes). Move them "
            "to a shorter path."
        )


def plan(
    connection: Connection,
    table: Table,
    location: str,
    options: CopyOptions,
    *,
    everything: bool = False,
) -> Plan:
    """The objects at `location` this load stages into `table`: all of them with `everything`
    (`--all`, `--full-refresh`), else those the ledger does not hold in the same version."""
    objects = list_objects(location, manifest=options.manifest)
    _check_locations(objects)
    stored = _stored(connection, table.name)
    versions: dict[str, str] = {}
    unknown: list[SourceObject] = []
    new: list[SourceObject] = []
    touched: list[SourceObject] = []
    skipped: set[str] = set()  # held in the same version (staged anyway with `everything`)
    for obj in _unique(objects):
        known = stored.get(obj.url)
        if is_s3(obj.url):
            versions[obj.url] = _s3_version(obj)
            if known is not None and known.version == versions[obj.url]:
                skipped.add(obj.url)
        elif known is not None and (known.size, known.last_modified) == (obj.size, obj.modified):
            skipped.add(obj.url)  # the same size and time: not read again
            versions[obj.url] = known.version
        elif known is not None:
            unknown.append(obj)  # changed, or only touched: its hash decides, now
        else:
            new.append(obj)  # not in the ledger: staged whatever its hash
    for obj, digest in zip(unknown, _hashes(unknown), strict=True):
        versions[obj.url] = digest
        known = stored.get(obj.url)
        if known is not None and known.version == digest:
            skipped.add(obj.url)  # touched, not changed
            touched.append(obj)
    if everything:
        skipped, touched = set(), []
    load = tuple(obj for obj in objects if obj.url not in skipped)
    # With `everything`, an object staged again in the same version is not "changed"
    changed = tuple(
        dict.fromkeys(
            obj.url
            for obj in load
            if obj.url in stored and stored[obj.url].version != versions[obj.url]
        )
    )
    again = {obj.url for obj in load if obj.url in stored} - set(changed)
    # The new local files' hashes are only recorded: computed while the load stages them.
    hashing = _Hashing(new)
    return Plan(
        table=table.name,
        location=location,
        load=load,
        versions=versions,
        new=len({obj.url for obj in load}) - len(changed) - len(again),
        changed=changed,
        skipped=len(skipped),
        touched=tuple(touched),
        again=len(again),
        replaced=tuple(sorted({obj.url for obj in load if obj.url in stored})),
        hashing=hashing,
    )


def record(connection: Connection, plan: Plan, result: CopyResult | None, load_id: str) -> None:
    """Write what `plan` staged (and `result` counted per file) to the ledger, in the load's
    transaction: one row per location, replacing the one it had."""
    ledger = TABLES.loaded_files
    stats = {f.url: f for f in result.files} if result is not None else {}
    exact = backend_for(connection).name != "redshift"  # Redshift counts rejects only
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = []
    for obj in [*_unique(plan.load), *plan.touched]:
        counted = stats.get(obj.url)
        rows.append(
            {
                "table_name": plan.table,
                "location": obj.url,
                "size": obj.size,
                "version": plan.version(obj.url),
                "last_modified": obj.modified,
                "load_id": load_id,
                "row_count": (counted.rows if counted else 0) if exact else None,
                "reject_count": counted.rejected if counted else 0,
                "loaded_at": now,
            }
        )
    if plan.hashing is not None:
        plan.hashing.close()
    replaced = [*plan.replaced, *(obj.url for obj in plan.touched)]
    for start in range(0, len(replaced), DELETE_CHUNK):
        chunk = replaced[start : start + DELETE_CHUNK]
        connection.execute(
            delete(ledger).where(ledger.c.table_name == plan.table, ledger.c.location.in_(chunk))
        )
    _write(connection, ledger, rows)


def _write(connection: Connection, table: Table, rows: Sequence[dict[str, object]]) -> None:
    """Append `rows` through the engine's bulk path (DuckDB: Arrow; PostgreSQL: COPY), else
    its multi-row INSERTs (Redshift): never a row at a time."""
    if not rows:
        return
    backend = backend_for(connection)
    try:
        writer = backend.bulk_writer()
    except NotImplementedError:
        backend.insert_rows(connection, table, rows)
        return
    columns = [c.name for c in table.columns]
    writer.write(connection, table, [tuple(row[c] for c in columns) for row in rows])


def _stored(connection: Connection, table_name: str) -> dict[str, Stored]:
    ledger = TABLES.loaded_files
    query = select(
        ledger.c.location, ledger.c.size, ledger.c.version, ledger.c.last_modified
    ).where(ledger.c.table_name == table_name)
    return {
        row.location: Stored(row.size, row.version, row.last_modified)
        for row in connection.execute(query)
    }


def _unique(objects: Iterable[SourceObject]) -> list[SourceObject]:
    """Each object once (a manifest may list one twice: the COPY reads it twice)."""
    return list({obj.url: obj for obj in objects}.values())


def _s3_version(obj: SourceObject) -> str:
    if obj.etag:
        return f"etag:{obj.etag}"
    # An endpoint that gives no ETag: its size and time stand for the version.
    return f"size:{obj.size}:{obj.modified.isoformat() if obj.modified else ''}"


class _Hashing:
    """SHA-256 of each of `objects`, on a small thread pool started now (hashlib and file reads
    release the GIL): the new files' hashes are needed only to record them, after staging."""

    def __init__(self, objects: Sequence[SourceObject]) -> None:
        self._pool = ThreadPoolExecutor(HASH_WORKERS, thread_name_prefix="sparkify-hash")
        self._futures = {obj.url: self._pool.submit(_sha256, obj) for obj in objects}

    def result(self, url: str) -> str:
        return self._futures[url].result()

    def cancel(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _hashes(objects: Sequence[SourceObject]) -> list[str]:
    """Each of `objects`' hash, now (the ones that decide what is staged)."""
    hashing = _Hashing(objects)
    try:
        return [hashing.result(obj.url) for obj in objects]
    finally:
        hashing.close()


def _sha256(obj: SourceObject) -> str:
    try:
        with open(obj.url, "rb") as file:
            return "sha256:" + hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as exc:
        raise SourceError(f"Cannot read {obj.url}: {exc.strerror}") from None
