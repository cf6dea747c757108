"""Alembic environment for sparkify-dw.

The database URL comes from `-x db=URL`, `-x config=dwh.cfg` ([CLUSTER]), then SPARKIFY_DB_URL,
then alembic.ini's sqlalchemy.url.
A caller holding a connection passes it as `config.attributes["connection"]` (the library and
the tests do), so one set of migrations serves the CLI, the library and `alembic` itself.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection

import sparkify_dw.migrate
import sparkify_dw.sql  # noqa: F401  (per-engine compilation of the custom constructs)
from sparkify_dw.db import make_engine
from sparkify_dw.models import Base
from sparkify_dw.urls import redact_url

config = context.config
if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _from_config_file() -> str | None:
    """`-x config=dwh.cfg`: the [CLUSTER] section of the original scripts' config file."""
    path = context.get_x_argument(as_dictionary=True).get("config")
    if not path:
        return None
    from pathlib import Path

    from sparkify_dw.config import read_config_file
    from sparkify_dw.errors import ConfigError

    try:
        url = read_config_file(Path(path)).get("db_url")
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None
    if url is None:
        raise SystemExit(f"{path} has no [CLUSTER] HOST: no database to migrate")
    return url


def database_url() -> str:
    url = (
        config.attributes.get("url")  # the library's offline script (`sparkify-dw sql`)
        or context.get_x_argument(as_dictionary=True).get("db")
        or _from_config_file()
        or os.environ.get("SPARKIFY_DB_URL")
        or config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise SystemExit("No database URL: pass -x db=URL or set SPARKIFY_DB_URL")
    return url


def run_migrations_offline() -> None:
    """Write the SQL instead of running it (`alembic upgrade head --sql`), for a DBA to review."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    url = database_url()
    # make_engine: the same connect arguments as the library (Redshift SSL, IAM, DuckDB limits)
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            do_run_migrations(connection)
    except Exception as exc:
        # Never echo a password: the driver's message can carry the URL.
        raise SystemExit(f"Migration failed on {redact_url(url)}: {exc}") from exc
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
