"""sparkify-dw: Sparkify's song-play data warehouse on Redshift, DuckDB and PostgreSQL."""

from __future__ import annotations

__version__ = "0.1.0"
