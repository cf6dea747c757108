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


_EXAMPLE = (
    "expected e.g. duckdb:///sparkify.duckdb or postgresql+psycopg://user:password@host:5432/db"
)
_SCHEME = re.compile(r"[\w+]+")


def parse_url(url: str | URL) -> URL:
    """Parse a database URL, with a one-line ConfigError (never its password) when it is
    malformed: no scheme, a port that is not a number or out of range, a broken IPv6 host, a
    password without `@host` after it, a raw `@` in the password, or blanks around it."""
    if isinstance(url, str) and url.strip() and url != url.strip():
        # A trailing newline (a URL pasted or read from a file) became part of the database
        # name: DuckDB created a file "sparkify.duckdb\n" and the reading commands found none.
        raise ConfigError(
            f"The database URL {redact_url(url.strip())} has a space or a line break at its "
            "start or end: remove it (inside a URL, write a space as %20)"
        )
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # a bad port is SQLAlchemy's int() failing
        raise ConfigError(_unparseable(str(url))) from None
    if parsed.host is not None and "@" in parsed.host:
        raise ConfigError(
            f"Not a valid database URL ({redact_url(parsed)}): the password holds a raw @, "
            "so part of it reads as the host: escape @ in the password as %40 "
            "(and : / ? # % likewise, e.g. urllib.parse.quote(password, safe=''))"
        )
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise ConfigError(
            f"Not a valid database URL ({redact_url(parsed)}): port {parsed.port} is not "
            "between 1 and 65535"
        )
    return parsed


def _unparseable(text: str) -> str:
    """Why SQLAlchemy cannot parse `text`, naming nothing of it but its scheme."""
    if not text.strip():
        return f"The database URL is empty ({_EXAMPLE})"
    scheme, sep, rest = text.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme):
        return f"Not a database URL: it must begin with a scheme and :// ({_EXAMPLE})"
    shape = f"{scheme}://…"
    if "@" in rest:
        hostport = rest.rsplit("@", 1)[1].split("/", 1)[0].split("?", 1)[0]
    else:
        authority = rest.split("/", 1)[0].split("?", 1)[0]
        if ":" in authority and not authority.startswith("["):
            return (
                f"Not a valid database URL ({shape}): no @ before the host, so the text after "
                f"':' reads as a port; write {scheme}://user:password@host/db"
            )
        hostport = authority
    if hostport.startswith("[") and "]" not in hostport:
        return (
            f"Not a valid database URL ({shape}): an IPv6 host needs its closing bracket, "
            "e.g. [::1]:5432"
        )
    return f"Not a valid database URL ({shape}): the port after the host must be a number"


def redact_url(url: str | URL) -> str:
    """The URL with its password and every secret in its query masked, safe to print and log.

    A URL that cannot be parsed shows only its scheme; a raw `@` in the password (the host
    then holds the rest of it) is masked with the password."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        scheme, sep, _ = str(url).partition("://")
        if sep and _SCHEME.fullmatch(scheme):
            return f"<unparseable {scheme} URL>"
        return "<unparseable URL>"
    if parsed.host is not None and "@" in parsed.host:
        parsed = parsed.set(host=parsed.host.rsplit("@", 1)[1], password="***")
    rendered = parsed.render_as_string(hide_password=True)
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
