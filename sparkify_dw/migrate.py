"""Run the project's Alembic migrations from the library, and teach Alembic about DuckDB.

Alembic owns the schema: the library and the tests call `upgrade()` on a connection they hold
(the cookbook's "Sharing a Connection" recipe), so there is no second `create_all` path.
`upgrade_database` and friends take a database URL instead (`sparkify-dw db …`).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from sparkify_dw.backends import backend_for, load_all
from sparkify_dw.errors import ConfigError, DatabaseError

_PACKAGE = Path(__file__).resolve().parent

# Every backend registers its Alembic impl and DDL compilation (DuckDB's identity sequences,
# Redshift without RETURNING) on import: the migrations need them all.
load_all()


def migrations_dir() -> Path:
    """The migrations folder: inside an installed wheel, else the source tree's top level."""
    for candidate in (_PACKAGE / "migrations", _PACKAGE.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("sparkify-dw's migrations folder is missing from this installation")


def alembic_ini() -> Path:
    """The alembic.ini for `alembic -c`: beside the package in a wheel, else the checkout's.

    Its `script_location = %(here)s/migrations` holds in both places.
    """
    for candidate in (_PACKAGE / "alembic.ini", _PACKAGE.parent / "alembic.ini"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("sparkify-dw's alembic.ini is missing from this installation")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config for the project's migrations, optionally bound to a live connection."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the database behind `connection` up to `revision` (commit is the caller's)."""
    command.upgrade(alembic_config(connection), revision)


def offline_sql(url: str, revision: str = "head") -> str:
    """What `alembic upgrade <revision> --sql` writes for the database at `url` (not contacted)."""
    return "".join(_offline_writes(url, revision))


def offline_statements(url: str, revision: str = "head") -> list[str]:
    """`offline_sql`, one item per statement or comment, as Alembic wrote each (stripped)."""
    return [text.strip() for text in _offline_writes(url, revision)]


class _Writes(io.StringIO):
    """Each `write` kept apart: Alembic's offline mode writes one statement (or comment) per
    call (`static_output`), which saves parsing the script back into statements."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)


def _offline_writes(url: str, revision: str) -> list[str]:
    buffer = _Writes()
    config = Config(output_buffer=buffer)
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["url"] = url
    command.upgrade(config, revision, sql=True)
    return buffer.writes


def downgrade(connection: Connection, revision: str = "base") -> None:
    """Migrate the database behind `connection` down to `revision` (commit is the caller's)."""
    command.downgrade(alembic_config(connection), revision)


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None before the first migration."""
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision of the project's migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the project has migrations"
    return head


@dataclass(frozen=True)
class Revision:
    """One migration, as `sparkify-dw db history` lists it."""

    revision: str
    down_revision: str | None
    message: str
    is_head: bool


def history() -> list[Revision]:
    """Every migration, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    revisions = [
        Revision(
            revision=r.revision,
            down_revision=r.down_revision if isinstance(r.down_revision, str) else None,
            message=(r.doc or "").strip(),
            is_head=r.is_head,
        )
        for r in script.walk_revisions()
    ]
    return revisions[::-1]


@dataclass(frozen=True)
class Migrated:
    """What `upgrade_database` or `downgrade_database` did: the revision before and after."""

    database: str  # password masked
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@contextmanager
def _alembic_errors() -> Iterator[None]:
    """An unknown revision or an impossible step is a ConfigError; a driver's error one line."""
    from sparkify_dw.errors import driver_reason

    try:
        yield
    except CommandError as exc:
        raise ConfigError(f"Alembic: {str(exc).splitlines()[0]}") from None
    except SQLAlchemyError as exc:
        raise DatabaseError(f"Migration failed: {driver_reason(exc)}") from None


def _migrate(db_url: str, step: str, revision: str) -> Migrated:
    from sparkify_dw.db import check_connection, make_engine
    from sparkify_dw.urls import redact_url

    engine = make_engine(db_url)
    try:
        check_connection(engine)
        with _alembic_errors(), engine.begin() as connection:
            # The load's lock: a migration never runs beside a load or another migration.
            backend_for(connection).acquire_lock(connection, (), lambda message: None)
            before = current_revision(connection)
            getattr(command, step)(alembic_config(connection), revision)
            after = current_revision(connection)
        return Migrated(redact_url(engine.url), before, after)
    finally:
        engine.dispose()


def upgrade_database(db_url: str, revision: str = "head") -> Migrated:
    """Migrate the database at `db_url` up to `revision`, in one transaction (DDL included
    on DuckDB and PostgreSQL; Redshift commits some DDL itself)."""
    return _migrate(db_url, "upgrade", revision)


def downgrade_database(db_url: str, revision: str) -> Migrated:
    """Migrate the database at `db_url` down to `revision` (`base` drops every table)."""
    return _migrate(db_url, "downgrade", revision)


def database_revision(db_url: str) -> str | None:
    """The revision of the database at `db_url` (None: no sparkify-dw schema yet). A DuckDB
    file that does not exist is a NoWarehouseError, and is not created."""
    from sparkify_dw.warehouse import open_warehouse

    engine = open_warehouse(db_url)
    try:
        with _alembic_errors(), engine.connect() as connection:
            return current_revision(connection)
    finally:
        engine.dispose()


def upgrade_sql(db_url: str, revision: str = "head") -> str:
    """`offline_sql` with Alembic's errors made one line."""
    with _alembic_errors():
        return offline_sql(db_url, revision)
