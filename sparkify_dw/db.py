"""Engines: one `make_engine(url)` for every supported database, and URL handling.

Per-engine connection setup lives here and nowhere else.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
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


# --- Redshift through redshift_connector --------------------------------------------------------
# sqlalchemy-redshift's `create_connect_args` passes the URL's host, port (as int), database,
# username (as `user`) and password, then every query key unchanged, over its defaults
# ssl=True, sslmode='verify-full', application_name='sqlalchemy-redshift'. Query values are
# strings, so `?iam=true` would reach redshift_connector.connect as the string 'true' (which it
# ignores: it tests `iam is True`) and `?ssl=false` as the truthy 'false'. make_engine passes
# these typed, as connect_args, which SQLAlchemy lays over the dialect's arguments.
REDSHIFT_SSLMODES = ("verify-ca", "verify-full")  # the two redshift_connector implements
REDSHIFT_DEFAULT_SSLMODE = "verify-full"  # the CA and the host name: Redshift's certificates
# name the cluster endpoint; connecting through another name (a tunnel, a CNAME) needs verify-ca.
_REDSHIFT_BOOL_ARGS = frozenset(
    {
        "ssl",
        "iam",
        "auto_create",
        "force_lowercase",
        "allow_db_user_override",
        "database_metadata_current_db_only",
        "enable_table_types",
        "ssl_insecure",
        "iam_disable_cache",
        "numeric_to_float",
        "is_serverless",
        "group_federation",
        "tcp_keepalive",
    }
)
_REDSHIFT_INT_ARGS = frozenset(
    {
        "timeout",
        "max_prepared_statements",
        "tcp_keepalive_idle",
        "tcp_keepalive_interval",
        "tcp_keepalive_count",
        "idp_response_timeout",
        "listen_port",
        "client_protocol_version",
    }
)
_REDSHIFT_LIST_ARGS = frozenset({"db_groups"})  # `?db_groups=a,b` or `?db_groups=a&db_groups=b`
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


def redshift_connect_args(url: URL) -> tuple[URL, dict[str, object]]:
    """Split a `redshift+redshift_connector` URL into the URL the engine keeps and the
    connect_args laid over what sqlalchemy-redshift derives from it.

    SSL is on with sslmode verify-full unless the URL says otherwise; booleans, integers and
    db_groups are converted to the types redshift_connector.connect takes; with `iam=true`,
    `db_user` defaults to the URL's user name. Secret query values (secret_access_key,
    session_token, …) move from the URL to connect_args, so `engine.url` and `repr(engine)`
    carry none.
    """
    args: dict[str, object] = {}
    secrets: list[str] = []
    for key, raw in url.query.items():
        if isinstance(raw, tuple) and key not in _REDSHIFT_LIST_ARGS:
            raise ConfigError(f"Redshift URL option {key!r} is given more than once")
        if key in _REDSHIFT_LIST_ARGS:
            values = raw if isinstance(raw, tuple) else (raw,)
            args[key] = [item.strip() for v in values for item in v.split(",") if item.strip()]
        elif key in _REDSHIFT_BOOL_ARGS:
            args[key] = parse_flag(str(raw), f"Redshift URL option {key}")
        elif key in _REDSHIFT_INT_ARGS:
            if not str(raw).strip().isdigit():
                raise ConfigError(f"Redshift URL option {key} must be a number, not {raw!r}")
            args[key] = int(str(raw))
        elif is_secret_key(key):
            args[key] = raw
            secrets.append(key)
    args.setdefault("ssl", True)
    sslmode = url.query.get("sslmode", REDSHIFT_DEFAULT_SSLMODE)
    if sslmode not in REDSHIFT_SSLMODES:
        raise ConfigError(
            f"Redshift sslmode must be one of {', '.join(REDSHIFT_SSLMODES)}, not {sslmode!r} "
            "(ssl=false turns SSL off)"
        )
    args["sslmode"] = sslmode
    if args.get("iam") is True:
        # redshift_connector: "SSL must be enabled when using IAM".
        if args["ssl"] is not True:
            raise ConfigError("Redshift IAM authentication (iam=true) needs SSL: drop ssl=false")
        # GetClusterCredentials needs a DbUser; the URL's user name is the natural one.
        if "db_user" not in url.query and url.username:
            args["db_user"] = url.username
    return url.difference_update_query(secrets), args


def make_engine(url: str | URL, *, echo: bool = False, **kwargs: Any) -> Engine:
    """Create an Engine for a DuckDB, PostgreSQL or Redshift URL.

    DuckDB's memory is capped (`DUCKDB_MEMORY_LIMIT`); Redshift through redshift_connector gets
    SSL on and typed IAM options (`redshift_connect_args`).
    """
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
    on_redshift_connector = (
        parsed.get_backend_name() == "redshift" and parsed.get_driver_name() == "redshift_connector"
    )
    if on_redshift_connector:
        parsed, connect_args = redshift_connect_args(parsed)
    try:
        engine = create_engine(parsed, echo=echo, connect_args=connect_args, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:  # sqlalchemy-redshift raises ImportError
        extra = "postgres" if parsed.get_backend_name() == "postgresql" else "redshift"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"No driver for {parsed.drivername} ({reason}): pip install 'sparkify-dw[{extra}]'"
        ) from None
    if on_redshift_connector:
        event.listen(engine, "do_connect", _connect_reporting_iam_errors)
    return engine


def _connect_reporting_iam_errors(
    dialect: Any, record: Any, cargs: list[Any], cparams: dict[str, Any]
) -> Any:
    """redshift_connector.connect, with the errors of its IAM step made driver errors.

    With iam=true the driver calls boto3 (GetClusterCredentials) before it connects, and lets
    botocore's errors (no credentials, access denied, unknown cluster) through as they are.
    SQLAlchemy wraps only DB-API errors, so these would escape `check_connection` as a traceback;
    as the driver's InterfaceError they become its one clear line.
    """
    dbapi = dialect.loaded_dbapi
    try:
        return dbapi.connect(*cargs, **cparams)
    except dbapi.Error:
        raise
    except Exception as exc:  # botocore.exceptions.BotoCoreError, ClientError, ...
        raise dbapi.InterfaceError(f"{type(exc).__name__}: {exc}") from exc


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
