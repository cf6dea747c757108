"""Database URLs: parsing with a clear error, and printing with every secret masked.

No engine is made here and no backend is consulted: the command line and the config reader
use these before anything heavier is imported.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from sparkify_dw.errors import ConfigError

DEFAULT_DB_URL = "duckdb:///sparkify.duckdb"


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
    """The URL with its password and every secret in its query masked, safe to print and log."""
    try:
        rendered = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"
    return _SECRET_QUERY_VALUE.sub(r"\1***", rendered)


# Query keys whose values are credentials: redshift_connector's secret_access_key,
# session_token, client_secret, web_identity_token, token, password (and the access key id with
# them), DuckDB's s3_secret_access_key / s3_session_token. Matched by part, case-insensitively.
_SECRET_KEY_PARTS = ("password", "secret", "token", "access_key")
_SECRET_QUERY_VALUE = re.compile(
    r"([?&][^=&#]*(?:" + "|".join(_SECRET_KEY_PARTS) + r")[^=&#]*=)[^&#]*", re.IGNORECASE
)


def is_secret_key(name: str) -> bool:
    """Whether a URL query key names a credential, whose value must never be shown."""
    return any(part in name.lower() for part in _SECRET_KEY_PARTS)


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def parse_flag(value: str, what: str) -> bool:
    """A boolean written as text (true/false, 1/0, yes/no, on/off), or a ConfigError."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{what} must be true or false, not {value!r}")
