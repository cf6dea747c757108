"""Every statement a run sends to a database, as one SQL script a DBA can review and run.

`sparkify-dw sql --dialect redshift` prints it: the schema (the Alembic migrations, offline),
then the load's transaction: the lock, emptying staging, both COPYs (secrets masked), and each
star table's merge. The same builders as the loader make it, so what is printed is what runs.
On DuckDB and PostgreSQL there is no COPY statement (the library reads the files and bulk-loads
them itself): the script says so in a comment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.sql import ClauseElement, Executable

from sparkify_dw.backends import backend_for
from sparkify_dw.config import Settings
from sparkify_dw.copy.options import CopyOptions
from sparkify_dw.migrate import offline_sql, offline_statements
from sparkify_dw.models import TABLES
from sparkify_dw.sources import is_s3
from sparkify_dw.sql import Analyze
from sparkify_dw.transforms import full_refresh, star_merges
from sparkify_dw.urls import parse_url


def dialect_url(dialect: str, settings: Settings) -> str:
    """The configured database's URL when it is of `dialect`, else a URL that only picks the
    dialect (its backend's placeholder: nothing is ever connected to)."""
    backend = backend_for(dialect)
    if backend_for(parse_url(settings.db_url)) is backend:
        return settings.db_url
    return backend.placeholder_url


def run_script(
    dialect: str, settings: Settings | None = None, *, full_refresh_: bool = False
) -> str:
    """The whole run for `dialect` as a script: statements end with `;`, comments say why."""
    settings = settings or Settings()
    url = dialect_url(dialect, settings)
    sql_dialect = script_dialect(url)
    parts = [
        f"-- sparkify-dw: every statement a run sends to {dialect}, in order.\n",
        "-- 1. The schema: the Alembic migrations (as `alembic upgrade head --sql`).\n",
        offline_sql(url).strip() + "\n",
        "-- 2. The load: one transaction from emptying staging to the last star table.\n",
        *_load(sql_dialect, settings, full_refresh_),
        "-- 3. The analytics queries (`sparkify-dw query NAME`), with their default filters.\n",
        *_analytics(sql_dialect),
    ]
    return "\n".join(parts)


@dataclass(frozen=True)
class ScriptStatement:
    """One statement of the script (`sql`, ended by `;`) and the comment right before it, or a
    note the script has no statement for (`sql` None: on DuckDB and PostgreSQL, the COPYs)."""

    section: str  # schema, load or analytics: the script's three parts
    comment: str  # without the `-- ` of each line; "" when none
    sql: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"section": self.section, "comment": self.comment, "sql": self.sql}


def run_statements(
    dialect: str, settings: Settings | None = None, *, full_refresh_: bool = False
) -> list[ScriptStatement]:
    """`run_script`'s statements, in the same order, one item each (`sql --format json`)."""
    settings = settings or Settings()
    url = dialect_url(dialect, settings)
    sql_dialect = script_dialect(url)
    return [
        *_statements("schema", offline_statements(url)),
        *_statements("load", _load(sql_dialect, settings, full_refresh_)),
        *_statements("analytics", _analytics(sql_dialect)),
    ]


def _statements(section: str, parts: Iterable[str]) -> Iterator[ScriptStatement]:
    """Statements, each with the comment just before it; a comment followed by another comment
    (or by nothing) is a note of its own."""
    comment: str | None = None
    for part in parts:
        text = part.strip()
        lines = text.splitlines()
        if lines and all(line.startswith("--") for line in lines):
            if comment is not None:
                yield ScriptStatement(section, comment, None)
            comment = "\n".join(line.removeprefix("--").strip() for line in lines)
        elif text:
            yield ScriptStatement(section, comment or "", text)
            comment = None
    if comment is not None:
        yield ScriptStatement(section, comment, None)


def script_dialect(url: str) -> Dialect:
    """The dialect of `url` the script is compiled with: only the dialect, never an engine
    (nothing is connected, and no driver is needed: a user without the [redshift] extra can
    still review the Redshift script), set up by its backend as an engine's is."""
    # Named parameters: a pyformat/format dialect would print `LIKE '%%x'` with literal binds,
    # which a SQL client would take literally.
    dialect_class = cast("type[DefaultDialect]", parse_url(url).get_dialect())
    dialect = dialect_class(paramstyle="named")
    backend_for(dialect).prepare_dialect(dialect)  # compiled as the engine compiles
    return dialect


def _load(dialect: Dialect, settings: Settings, full: bool) -> Iterator[str]:
    setup = backend_for(dialect).lock_setup_statement(dialect)
    if setup is not None:
        yield "-- The table whose lock serialises migrations and loads, made once.\n"
        yield statement_sql(setup, dialect)
    yield (
        "-- The load's row in the history (loads) is written before it (INSERT, status running) "
        "and after it (UPDATE: succeeded or failed, with its counts), outside its transaction.\n"
    )
    yield "BEGIN;\n"
    lock = backend_for(dialect).lock_statement(dialect, TABLES.loaded)
    if lock is not None:
        yield "-- Two loads never interleave: the second waits for this lock.\n"
        yield statement_sql(lock, dialect)
    yield "-- Staging holds this load's new files only (emptied in the load's transaction).\n"
    for table in TABLES.staging:
        yield statement_sql(backend_for(dialect).empty_staging(table), dialect)
    yield from _copies(dialect, settings)
    tables = TABLES
    if full:
        yield "-- --full-refresh: the star tables are rebuilt from this load's staging.\n"
        for emptying in full_refresh(tables):
            yield statement_sql(emptying, dialect)
    for merge in star_merges(tables):
        yield f"-- {merge.name}: deduplicate the staged rows, replace, insert (Redshift's merge).\n"
        for statement in merge.statements():
            yield statement_sql(statement, dialect)
    yield "COMMIT;\n"


def _analytics(dialect: Dialect) -> Iterator[str]:
    from sparkify_dw.analytics import QUERIES

    for name, query in QUERIES.items():
        yield f"-- {name}: {query.description}\n"
        yield statement_sql(query.statement(), dialect)


def _copies(dialect: Dialect, settings: Settings) -> Iterator[str]:
    events, songs = TABLES.staging
    songs_options, events_options = settings.stage_options().copy_options()
    sources = (
        (songs, settings.song_data, songs_options),
        (events, settings.log_data, events_options),
    )
    if not backend_for(dialect).native_copy:
        for table, location, _ in sources:
            yield (
                f"-- {table.name}: COPY from {_in_comment(location)} is done by the library on "
                f"{dialect.name} (it reads the files and bulk-loads them with Redshift's "
                "conversions).\n"
            )
        return
    from sparkify_dw.copy.redshift import copy_command, copy_sql, listed_copy

    for table, location, options in sources:
        if options.manifest_prefix is not None:
            # The file ledger's load: a manifest of the objects not loaded yet
            url, listed = listed_copy(table, options)
            yield (
                f"-- {table.name}: the objects at {_in_comment(location)} that loaded_files does "
                "not hold in the same version (ETag), listed in a manifest the library writes "
                "before the COPY and removes after it (nothing to stage: no COPY).\n"
            )
            command = copy_command(table, url, _with_role(listed))
        else:
            if is_s3(location):
                yield f"-- {table.name}: Redshift reads the files itself, with its role.\n"
            else:
                yield (
                    f"-- {table.name}: the configured location {_in_comment(location)} is local; "
                    "Redshift reads only S3, so the COPY is shown for the same layout in an "
                    "example bucket.\n"
                )
            command = copy_command(table, _s3(location), _with_role(options))
        yield copy_sql(command, dialect) + ";\n"  # the text copy_into_redshift sends
        if options.stat_update:
            yield "-- Fresh statistics: ANALYZE (COPY's STATUPDATE ON needs the table's owner).\n"
            yield statement_sql(Analyze(table), dialect)


def _in_comment(text: str) -> str:
    """`text` fit for a `--` comment: a character that is not printable (a newline would end
    the comment and start a statement) is written as its Python escape (`\\n`)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _s3(location: str) -> str:
    # The bundled sample is local: show the COPY as it would read the same layout on S3.
    if is_s3(location):
        return location
    return "s3://your-bucket/" + _in_comment(location.rsplit("/", 1)[-1])


def _with_role(options: CopyOptions) -> CopyOptions:
    jsonpaths = options.jsonpaths
    if jsonpaths is not None and not is_s3(jsonpaths):
        jsonpaths = _s3(jsonpaths)
    role = options.iam_role_arn or "arn:aws:iam::123456789012:role/your-redshift-role"
    return replace(options, iam_role_arn=role, jsonpaths=jsonpaths)


def statement_sql(statement: ClauseElement | Executable, dialect: Dialect) -> str:
    """`statement` as the script prints it: values inline, ended by `;` and a newline."""
    compiled = cast(ClauseElement, statement).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True}
    )
    return str(compiled).strip() + ";\n"
