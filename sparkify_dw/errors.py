"""The library's exceptions: every user mistake is a SparkifyError with a one-line message."""

from __future__ import annotations


class SparkifyError(Exception):
    """A problem the user can fix; the CLI prints its message on one line, with no traceback."""


class ConfigError(SparkifyError):
    """A setting is missing, malformed, or contradicts another."""


class SourceError(SparkifyError):
    """A data location cannot be read: missing path, no objects under a prefix, bad JSONPaths."""


class DatabaseError(SparkifyError):
    """The database cannot be reached or refused a statement."""


class LoadError(SparkifyError):
    """A COPY rejected more records than MAXERROR allows; nothing was loaded."""
