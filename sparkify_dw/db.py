"""Engines: one `make_engine(url)` for every supported database, and one connection check.

What differs per engine (connect arguments, event hooks) is its backend's; here it is applied.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError

import sparkify_dw.sql  # noqa: F401  (registers the per-engine compilation of custom constructs)
from sparkify_dw.backends import backend_for
from sparkify_dw.errors import ConfigError, DatabaseError, driver_reason
from sparkify_dw.urls import parse_url, redact_url

__all__ = ["check_connection", "make_engine"]


def make_engine(
    url: str | URL, *, echo: bool = False, read_only: bool = False, **kwargs: Any
) -> Engine:
    """Create an Engine for a DuckDB, PostgreSQL or Redshift URL, set up by its backend.

    DuckDB's memory is capped; Redshift through redshift_connector gets SSL on and typed IAM
    options (see sparkify_dw/backends/). `read_only=True` opens a DuckDB file read-only: a
    read-only file or folder then opens, and other read-only processes (`sparkify-dw check`,
    `query`, `report`, a notebook) share it; PostgreSQL and Redshift ignore it.
    A DuckDB file's engine keeps no connection open between uses (no pool): an engine held
    by a notebook does not lock the file against `sparkify-dw run`; an open Connection does.
    """
    parsed = parse_url(url)
    try:
        backend = backend_for(parsed)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (in {redact_url(parsed)})") from None
    parsed, connect_args = backend.engine_arguments(parsed, read_only=read_only)
    options = {**backend.engine_options(parsed), **kwargs}
    try:
        engine = create_engine(parsed, echo=echo, connect_args=connect_args, **options)
    except (NoSuchModuleError, ImportError) as exc:  # sqlalchemy-redshift raises ImportError
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        extra = f"[{backend.driver_extra}]" if backend.driver_extra else ""
        raise ConfigError(
            f"No driver for {parsed.drivername} ({reason}): pip install 'sparkify-dw{extra}'"
        ) from None
    backend.prepare(engine)
    return engine


def check_connection(engine: Engine) -> None:
    """Connect once, turning a driver's error into one clear line (password masked)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"Cannot connect to {redact_url(engine.url)}: {driver_reason(exc)}"
        ) from None
