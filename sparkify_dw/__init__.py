"""sparkify-dw: Sparkify's song-play data warehouse on Redshift, DuckDB and PostgreSQL.

    from sparkify_dw import Settings, make_engine, load, run
    from sparkify_dw import open_warehouse  # read-only, for a notebook beside the CLI

The models, the loader functions (`upgrade`, `stage`, `transform`, `load`, `run`) and the
typed report they return are importable from here. They are imported on first use (PEP 562),
so `import sparkify_dw` and `sparkify-dw --version` load neither SQLAlchemy's dialects nor
Alembic nor DuckDB.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # the names below, for type checkers (`X as X`: re-exported)
    from sparkify_dw.backends import copy_into as copy_into
    from sparkify_dw.config import Settings as Settings
    from sparkify_dw.copy import CopyOptions as CopyOptions
    from sparkify_dw.copy import CopyResult as CopyResult
    from sparkify_dw.copy import Reject as Reject
    from sparkify_dw.copy.options import StageOptions as StageOptions
    from sparkify_dw.db import make_engine as make_engine
    from sparkify_dw.errors import ConfigError as ConfigError
    from sparkify_dw.errors import DatabaseError as DatabaseError
    from sparkify_dw.errors import LoadError as LoadError
    from sparkify_dw.errors import SourceError as SourceError
    from sparkify_dw.errors import SparkifyError as SparkifyError
    from sparkify_dw.loader import LoadReport as LoadReport
    from sparkify_dw.loader import TableCount as TableCount
    from sparkify_dw.loader import load as load
    from sparkify_dw.loader import load_with as load_with
    from sparkify_dw.loader import run as run
    from sparkify_dw.loader import stage as stage
    from sparkify_dw.loader import transform as transform
    from sparkify_dw.migrate import downgrade as downgrade
    from sparkify_dw.migrate import upgrade as upgrade
    from sparkify_dw.models import Artist as Artist
    from sparkify_dw.models import Base as Base
    from sparkify_dw.models import Song as Song
    from sparkify_dw.models import Songplay as Songplay
    from sparkify_dw.models import StagingEvent as StagingEvent
    from sparkify_dw.models import StagingSong as StagingSong
    from sparkify_dw.models import Time as Time
    from sparkify_dw.models import User as User
    from sparkify_dw.warehouse import open_warehouse as open_warehouse

# Each public name, and the module it lives in.
_EXPORTS = {
    "Settings": "config",
    "CopyOptions": "copy",
    "CopyResult": "copy",
    "Reject": "copy",
    "copy_into": "backends",
    "make_engine": "db",
    "ConfigError": "errors",
    "DatabaseError": "errors",
    "LoadError": "errors",
    "SourceError": "errors",
    "SparkifyError": "errors",
    "LoadReport": "loader",
    "StageOptions": "copy",
    "TableCount": "loader",
    "load": "loader",
    "load_with": "loader",
    "run": "loader",
    "stage": "loader",
    "transform": "loader",
    "downgrade": "migrate",
    "upgrade": "migrate",
    "Artist": "models",
    "Base": "models",
    "Song": "models",
    "Songplay": "models",
    "StagingEvent": "models",
    "StagingSong": "models",
    "Time": "models",
    "User": "models",
    "open_warehouse": "warehouse",
}

__all__ = [
    "Artist",
    "Base",
    "ConfigError",
    "CopyOptions",
    "CopyResult",
    "DatabaseError",
    "LoadError",
    "LoadReport",
    "Reject",
    "Settings",
    "Song",
    "Songplay",
    "SourceError",
    "SparkifyError",
    "StageOptions",
    "StagingEvent",
    "StagingSong",
    "TableCount",
    "Time",
    "User",
    "__version__",
    "copy_into",
    "downgrade",
    "load",
    "load_with",
    "make_engine",
    "open_warehouse",
    "run",
    "stage",
    "transform",
    "upgrade",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sparkify_dw' has no attribute {name!r}")
    value = getattr(import_module(f"sparkify_dw.{module}"), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return __all__
