"""The registry of backends: one per engine, chosen once from the dialect.

The names are known without importing any backend (the command line lists them for `--help`);
each backend's module is imported the first time it is asked for, and registers its SQL
compilation and Alembic impl then (`load_all()` imports them all, for the migrations).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from sparkify_dw.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import URL, Connection, Dialect, Engine

    from sparkify_dw.backends.base import Backend
    from sparkify_dw.copy.options import CopyOptions, CopyResult, Progress

# SQLAlchemy dialect name -> the module of its backend (each defines BACKEND).
_MODULES = {
    "duckdb": "sparkify_dw.backends.duckdb",
    "postgresql": "sparkify_dw.backends.postgresql",
    "redshift": "sparkify_dw.backends.redshift",
}
NAMES: tuple[str, ...] = tuple(_MODULES)


def backend_for(what: str | URL | Dialect | Connection | Engine) -> Backend:
    """The backend of a dialect name, URL, Dialect, Connection or Engine."""
    # Imported here: the registry's names are read at start-up, before SQLAlchemy is needed.
    from sqlalchemy.engine import URL, Connection, Engine

    if isinstance(what, Connection | Engine):
        name = what.dialect.name
    elif isinstance(what, URL):
        name = what.get_backend_name()
    elif isinstance(what, str):
        name = what
    else:
        name = what.name
    module = _MODULES.get(name)
    if module is None:
        raise ConfigError(f"Unsupported database {name!r}: use one of {', '.join(NAMES)}")
    backend: Backend = import_module(module).BACKEND
    return backend


def load_all() -> None:
    """Import every backend: each registers its DDL compilation and Alembic impl."""
    for name in NAMES:
        backend_for(name)


def copy_into(
    connection: Connection,
    table: Table,
    location: str,
    options: CopyOptions | None = None,
    *,
    batch_rows: int | None = None,
    progress: Progress | None = None,
) -> CopyResult:
    """COPY the files at `location` into `table` on the connection's engine: Redshift's own
    COPY, or the emulation with the engine's bulk writer (spec/copy-semantics.md)."""
    from sparkify_dw.copy.emulation import DEFAULT_BATCH_ROWS
    from sparkify_dw.copy.options import CopyOptions

    return backend_for(connection).copy(
        connection,
        table,
        location,
        options or CopyOptions(),
        batch_rows=batch_rows or DEFAULT_BATCH_ROWS,
        progress=progress,
    )


__all__ = ["NAMES", "backend_for", "copy_into", "load_all"]
