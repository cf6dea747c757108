"""Amazon Redshift, the production engine (driver redshift_connector, extra [redshift]).

- Connecting: SSL on (verify-full) and redshift_connector's options typed from the URL's query;
  IAM errors raised by boto3 inside the driver become driver errors (one clear line).
- Staging: Redshift's own COPY (copy/redshift.py), reading S3 with the cluster's IAM role.
- Locking: `LOCK sparkify_dw_lock`, a one-column table that exists only to be locked (made,
  if missing, on a connection of its own before the first migration). Migrations and loads take
  it first, so they never interleave, not even two first runs creating the tables; nothing
  else is locked, so analysts keep reading the star tables (as they were before the load's
  commit) while a load runs. LOCK cannot tell whether it will wait, so it says nothing; a
  serializable-isolation error (1023) is retried by the loader.
- sqlalchemy-redshift declares RETURNING support Redshift lacks: turned off at import.
- Compiling (`prepare_dialect`, redshift_connector only): a constant in a SELECT list is written
  inline, never sent as a bind parameter, and string literals follow Redshift's rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from sqlalchemy import Engine, String, Table, event, insert, text
from sqlalchemy.engine import URL, Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlalchemy_redshift.dialect import RedshiftDialect_redshift_connector

from sparkify_dw.backends.base import Backend, Notify
from sparkify_dw.copy.emulation import DEFAULT_BATCH_ROWS
from sparkify_dw.copy.options import CopyOptions, CopyResult, Progress, StageOptions
from sparkify_dw.copy.redshift import copy_command, copy_into_redshift
from sparkify_dw.errors import ConfigError
from sparkify_dw.urls import is_secret_key, parse_flag, redact_url

# Redshift reports its serializable isolation violation as error 1023, in the message only
# (Database Developer Guide, "Serializable isolation").
_REDSHIFT_1023 = ("Serializable isolation violation", "'M': '1023'")

# Rows per multi-row INSERT: load_errors gets at most MAXERROR + 1 (100,001) rows per COPY. A
# row holds at most ~3,900 characters (16 KB in UTF-8), so 500 rows stay within "the maximum
# size for a single SQL statement is 16 MB" (https://docs.aws.amazon.com/redshift/latest/dg/r_INSERT_30.html)
# even were the values counted, and their 5,500 bind parameters within the protocol's 32,767.
MULTIROW_INSERT_ROWS = 500


# The table whose lock serialises migrations and loads (and nothing else).
LOCK_TABLE = "sparkify_dw_lock"


def _ensure_lock_table(engine: Engine, backend: Backend, attempts: int = 3) -> None:
    """Make the lock table if it is missing, committed on a connection of its own. Two first
    runs may race on CREATE TABLE IF NOT EXISTS (the catalog's unique index fails the loser):
    the next attempt finds the table."""
    statement = backend.lock_setup_statement(engine.dialect)
    assert statement is not None
    for attempt in range(attempts):
        try:
            with engine.begin() as connection:
                connection.execute(statement)
            return
        except DBAPIError:
            if attempt == attempts - 1:
                raise


class RedshiftBackend(Backend):
    name: ClassVar[str] = "redshift"
    placeholder_url: ClassVar[str] = "redshift+redshift_connector://cluster.example:5439/dev"
    driver_extra: ClassVar[str | None] = "redshift"
    native_copy: ClassVar[bool] = True
    # Counted, not trusted: its count(*) reads block metadata, and its drivers' INSERT counts
    # are not tested here.
    exact_rowcounts: ClassVar[bool] = False

    def engine_arguments(
        self, url: URL, *, read_only: bool = False
    ) -> tuple[URL, dict[str, object]]:
        iam = str(url.query.get("iam", "")).strip().lower() in ("true", "1", "yes", "on")
        if not url.host and not iam:  # with IAM, redshift_connector can find the endpoint
            raise ConfigError(
                f"A Redshift URL needs the cluster's endpoint as its host ({redact_url(url)} "
                "has none): redshift+redshift_connector://user:password@<endpoint>:5439/dev"
            )
        if url.get_driver_name() != "redshift_connector":
            return url, {}
        return redshift_connect_args(url)

    def prepare(self, engine: Engine) -> None:
        super().prepare(engine)
        if engine.url.get_driver_name() == "redshift_connector":
            event.listen(engine, "do_connect", _connect_reporting_iam_errors)

    def prepare_dialect(self, dialect: Dialect) -> None:
        if dialect.driver == "redshift_connector":
            # On this dialect only: not a class-wide patch of sqlalchemy-redshift's compiler.
            dialect.statement_compiler = RedshiftConnectorCompiler

    def copy(
        self,
        connection: Connection,
        table: Table,
        location: str,
        options: CopyOptions,
        *,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        progress: Progress | None = None,
    ) -> CopyResult:
        return copy_into_redshift(connection, table, location, options)

    def uses_ledger(self, options: StageOptions) -> bool:
        """Only with a manifest prefix the loader may write: the COPY then reads a manifest of
        exactly the objects the ledger chose. Without it Redshift reads the whole location, as
        it always did (the sample bucket, udacity-dend, can be read, not written)."""
        return options.manifest_prefix is not None

    def check_copy(self, table: Table, location: str, options: CopyOptions) -> None:
        """S3 only, a role, every value well-formed; S3 is not listed from here. The cluster
        reads S3 with its IAM role, not with this machine's credentials, which may be absent or
        see other objects: a listing here could refuse a load Redshift would run. An empty
        prefix fails Redshift's COPY before anything is loaded, and the load is rolled back."""
        copy_command(table, location, options)

    def lock_setup_statement(self, dialect: Dialect) -> Executable | None:
        return text(f"CREATE TABLE IF NOT EXISTS {LOCK_TABLE} (locked_by VARCHAR(64))")

    def insert_rows(
        self, connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """One multi-row `INSERT … VALUES (…), (…)` per MULTIROW_INSERT_ROWS rows.

        redshift_connector runs an executemany as one INSERT per row (its Cursor.executemany
        loops over execute), a round trip each. AWS: "If a COPY command is not an option and you
        require SQL inserts, use a multi-row insert whenever possible":
        https://docs.aws.amazon.com/redshift/latest/dg/c_best-practices-multi-row-inserts.html
        """
        for start in range(0, len(rows), MULTIROW_INSERT_ROWS):
            chunk = [dict(row) for row in rows[start : start + MULTIROW_INSERT_ROWS]]
            connection.execute(insert(table).values(chunk))

    def lock_statement(self, dialect: Dialect, tables: Sequence[Table]) -> Executable | None:
        """`LOCK sparkify_dw_lock`: an exclusive lock held to the end of the transaction
        (https://docs.aws.amazon.com/redshift/latest/dg/r_LOCK.html), whatever the tables."""
        return text(f"LOCK {LOCK_TABLE}")

    def acquire_lock(self, connection: Connection, tables: Sequence[Table], notify: Notify) -> None:
        _ensure_lock_table(connection.engine, self)
        super().acquire_lock(connection, tables, notify)

    def is_retryable(self, exc: BaseException) -> bool:
        orig = getattr(exc, "orig", exc)
        return any(marker in str(orig) for marker in _REDSHIFT_1023)


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


def _redshift_has_no_returning() -> None:
    """Redshift has no RETURNING, but sqlalchemy-redshift inherits PostgreSQL's flags saying it
    does (sqlalchemy-redshift issues 281 and 330): Alembic's version-table INSERT would then end in
    `RETURNING version_num`, which Redshift rejects. Clear the flags on its dialects' mixin."""
    from sqlalchemy_redshift.dialect import RedshiftDialectMixin

    for flag in (
        "implicit_returning",
        "insert_returning",
        "update_returning",
        "update_returning_multifrom",
        "delete_returning",
        "delete_returning_multifrom",
        "insert_executemany_returning",
        "insert_executemany_returning_sort_by_parameter_order",
    ):
        setattr(RedshiftDialectMixin, flag, False)


_redshift_has_no_returning()


def redshift_string(value: str) -> str:
    """`value` as a Redshift string literal: quote and backslash doubled, nothing else changed.

    Redshift reads a backslash in a literal as an escape (`\\'` is a quote inside it), which
    its own QUOTE_LITERAL answers by doubling both
    (https://docs.aws.amazon.com/redshift/latest/dg/r_QUOTE_LITERAL.html); doubling only the
    quote, as PostgreSQL's standard strings need, would let `\\'` end the literal early.
    """
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


class RedshiftConnectorCompiler(RedshiftDialect_redshift_connector.statement_compiler):  # type: ignore[misc]
    """sqlalchemy-redshift's compiler for redshift_connector, with two of Redshift's rules.

    - No bind parameter in a SELECT list (SQLAlchemy's `ansi_bind_rules`: such a parameter is
      rendered inline when the statement runs). redshift_connector binds on the server, and
      Redshift cannot type a parameter that nothing around it types: `SELECT %s FROM …` fails
      with "Invalid type: 705" (amazon-redshift-python-driver issue 59). Constants in the
      checks' and the analytics' SELECT lists (`'users' AS table_name`, `CASE … THEN 'Monday'`,
      the merges' `nullif(year, 0)`) are written into the statement; filters in WHERE stay
      parameters.
    - A string literal is `redshift_string`: quote and backslash doubled, and `%` left single.
      For a `format` paramstyle SQLAlchemy doubles `%` inside literals too, expecting the
      driver to undo it; redshift_connector's `convert_paramstyle` leaves quoted text alone, so
      `LIKE '%%Edge/%%'` would reach Redshift as written.
    """

    ansi_bind_rules = True

    def render_literal_value(self, value: Any, type_: Any) -> str:
        if isinstance(value, str) and isinstance(type_, String):
            return redshift_string(value)
        rendered: str = super().render_literal_value(value, type_)
        return rendered


BACKEND = RedshiftBackend()
