"""Run the project's Alembic migrations from the library, and teach Alembic about DuckDB.

Alembic owns the schema: the library and the tests call `upgrade()` on a connection they hold
(the cookbook's "Sharing a Connection" recipe), so there is no second `create_all` path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.ddl.postgresql import PostgresqlImpl
from sqlalchemy import Sequence, Table, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateSequence, DropSequence

from sparkify_dw.sql import identity_sequence

_PACKAGE = Path(__file__).resolve().parent


def migrations_dir() -> Path:
    """The migrations folder: inside an installed wheel, else the source tree's top level."""
    for candidate in (_PACKAGE / "_migrations", _PACKAGE.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("sparkify-dw's migrations folder is missing from this installation")


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
    import io

    buffer = io.StringIO()
    config = Config(output_buffer=buffer)
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["url"] = url
    command.upgrade(config, revision, sql=True)
    return buffer.getvalue()


def downgrade(connection: Connection, revision: str = "base") -> None:
    """Migrate the database behind `connection` down to `revision` (commit is the caller's)."""
    command.downgrade(alembic_config(connection), revision)


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


class DuckDBImpl(PostgresqlImpl):
    """Alembic has no DuckDB implementation; DuckDB speaks PostgreSQL's DDL closely enough.

    The one difference handled here: DuckDB has no IDENTITY columns, so each identity column
    gets a sequence, created before its table (the column's DEFAULT is compiled in sql.py).
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
            self._exec(DropSequence(Sequence(name), if_exists=True))
