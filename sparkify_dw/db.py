"""Engines: one `make_engine(url)` for every supported database, and URL handling.

Per-engine connection setup lives here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

import sparkify_dw.sql  # noqa: F401  (registers the per-engine compilation of custom constructs)
from sparkify_dw.errors import ConfigError, DatabaseError

DEFAULT_DB_URL = "duckdb:///sparkify.duckdb"

# DuckDB's own default is 80 % of RAM, so its buffer pool grows with the data loaded in one
# transaction (≈1 GiB RSS at 1M events). A fixed cap keeps a load's memory flat; beyond it DuckDB
# spills to disk. `?memory_limit=…` in the URL overrides it.
DUCKDB_MEMORY_LIMIT = "512MB"

# Engines the loader knows how to stage into, by SQLAlchemy dialect name.
SUPPORTED_DIALECTS = ("duckdb", "postgresql", "redshift")


def parse_url(url: str | URL) -> URL:
    """Parse a database URL, with a clear error (and no password) when it is malformed."""
    try:
        return make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"Not a database URL: {redact_url(url)!r} "
            "(expected e.g. duckdb:///sparkify.duckdb or postgresql+psycopg://user@host/db)"
        ) from None


def redact_url(url: str | URL) -> str:
    """The URL with its password masked, safe to print and log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """Create an Engine for a DuckDB, PostgreSQL or Redshift URL."""
    parsed = parse_url(url)
    if parsed.get_backend_name() not in SUPPORTED_DIALECTS:
        raise ConfigError(
            f"Unsupported database {parsed.get_backend_name()!r} in {redact_url(parsed)}: "
            f"use one of {', '.join(SUPPORTED_DIALECTS)}"
        )
    if parsed.get_backend_name() == "duckdb" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise ConfigError(f"Folder for the DuckDB file does not exist: {folder}")
    connect_args: dict[str, object] = {}
    if parsed.get_backend_name() == "duckdb":
        # duckdb-engine lays the URL's query over this config, so the URL still wins.
        connect_args["config"] = {"memory_limit": DUCKDB_MEMORY_LIMIT}
    try:
        return create_engine(parsed, echo=echo, connect_args=connect_args)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        extra = "postgres" if parsed.get_backend_name() == "postgresql" else "redshift"
        raise ConfigError(
            f"No driver for {parsed.drivername}: {exc}. Install it, e.g. "
            f"pip install 'sparkify-dw[{extra}]'"
        ) from None


def driver_reason(exc: Exception) -> str:
    """The first line of what the driver said (SQLAlchemy wraps it as `.orig`)."""
    return str(getattr(exc, "orig", exc)).strip().splitlines()[0]


# PostgreSQL's serialization_failure and deadlock_detected; Redshift reports its serializable
# isolation violation as error 1023 in the message.
_RETRYABLE_SQLSTATES = {"40001", "40P01"}
_REDSHIFT_1023 = ("Serializable isolation violation", "'M': '1023'")


def is_serialization_failure(exc: Exception) -> bool:
    """Whether a statement failed only because a concurrent transaction won: worth a retry."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    return any(marker in str(orig) for marker in _REDSHIFT_1023)


def check_connection(engine: Engine) -> None:
    """Connect once, turning a driver's error into one clear line (password masked)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"Cannot connect to {redact_url(engine.url)}: {driver_reason(exc)}"
        ) from None
