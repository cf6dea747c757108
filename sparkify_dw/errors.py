"""The library's exceptions: every user mistake is a SparkifyError with a one-line message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class SparkifyError(Exception):
    """A problem the user can fix; the CLI prints its message on one line, with no traceback."""


class ConfigError(SparkifyError):
    """A setting is missing, malformed, or contradicts another."""


class SourceError(SparkifyError):
    """A data location cannot be read: missing path, no objects under a prefix, bad JSONPaths."""


class ClusterError(SparkifyError):
    """Provisioning failed or was refused: one line, never a password or a secret key."""


class DatabaseError(SparkifyError):
    """The database cannot be reached or refused a statement."""


class LoadError(SparkifyError):
    """A COPY failed (more bad records than MAXERROR allows, a bad JSONPaths file); nothing
    was loaded. `rejects` holds the records it rejected (copy.Reject), if any."""

    def __init__(self, message: str, rejects: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.rejects = tuple(rejects)


def driver_reason(exc: Exception) -> str:
    """The first line of what a database driver said (SQLAlchemy wraps it as `.orig`)."""
    return str(getattr(exc, "orig", exc)).strip().splitlines()[0]
