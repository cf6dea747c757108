"""sparkify-dw: Sparkify's song-play data warehouse on Redshift, DuckDB and PostgreSQL.

    from sparkify_dw import Settings, make_engine, load, run

The models, the loader functions (`migrate`, `stage`, `transform`, `load`, `run`) and the
typed report they return are importable from here.
"""

from __future__ import annotations

__version__ = "0.1.0"

from sparkify_dw.config import Settings
from sparkify_dw.copy import CopyOptions, CopyResult, Reject, copy_into
from sparkify_dw.db import make_engine
from sparkify_dw.errors import (
    ConfigError,
    DatabaseError,
    LoadError,
    SourceError,
    SparkifyError,
)
from sparkify_dw.loader import (
    LoadReport,
    StageOptions,
    TableCount,
    load,
    load_with,
    run,
    stage,
    transform,
)
from sparkify_dw.migrate import downgrade, upgrade
from sparkify_dw.models import (
    Artist,
    Base,
    Song,
    Songplay,
    StagingEvent,
    StagingSong,
    Time,
    User,
)

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
    "run",
    "stage",
    "transform",
    "upgrade",
]
