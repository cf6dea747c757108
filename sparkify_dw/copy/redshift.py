"""COPY on Redshift: sqlalchemy-redshift's CopyCommand, then the load's count and rejects.

Known traps handled here (spec/copy-semantics.md):
- redshift_connector sends bind parameters, and COPY does not take them (sqlalchemy-redshift
  issue 240), so the statement is rendered with its values inline (`copy_sql`) and that text is
  sent as it is, with no parameters: the driver then does not look into it, so a `%` or a
  `:2018` in a key reaches Redshift unchanged, and `sparkify-dw sql` prints the same bytes.
- Every value in it is checked or escaped (`check_copy_values`): the IAM role ARN and the
  REGION must match their grammar, an S3 location must name a valid bucket; what remains (the
  keys) is escaped by Redshift's rules for string literals, where a backslash escapes.
- Its docstring says max_error defaults to 100000; Redshift's own default, 0, is passed always.
- A COPY over MAXERROR aborts the transaction, so its rejects are read from STL_LOAD_ERRORS
  (SYS_LOAD_ERROR_DETAIL on Serverless) on a second connection, by the session's pid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, column, func, literal, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy_redshift.commands import Compression, CopyCommand, Format

from sparkify_dw.copy.options import CopyOptions, CopyResult, FileStats, Reject
from sparkify_dw.errors import ConfigError, LoadError, driver_reason
from sparkify_dw.sources import is_s3

_SECRET = re.compile(r"(aws_secret_access_key|token|password)=[^;']*", re.IGNORECASE)

REJECT_FIELDS = ("filename", "line_number", "colname", "type", "raw_line", "raw_field_value",
                 "err_code", "err_reason")  # fmt: skip


@dataclass(frozen=True)
class ErrorView:
    """A system view of load errors, with its column for each of Reject's fields."""

    name: str
    query: str
    session: str
    fields: dict[str, str | None]  # Reject field -> the view's column (None: not kept there)

    def select(self, query_id: Any) -> Select[Any]:
        view = table(self.name, *(column(c) for c in self.columns()))
        return (
            select(
                *(view.c[c].label(f) if c else literal("").label(f) for f, c in self.fields.items())
            )
            .where(view.c[self.query] == query_id)
            .order_by(
                view.c[self.fields["filename"] or ""], view.c[self.fields["line_number"] or ""]
            )
        )

    def last_query(self, pid: int) -> Any:
        view = table(self.name, column(self.query), column(self.session))
        return select(func.max(view.c[self.query])).where(view.c[self.session] == pid)

    def columns(self) -> list[str]:
        return [self.query, self.session, *(c for c in self.fields.values() if c)]


# Provisioned clusters: STL_LOAD_ERRORS (Database Developer Guide, "STL_LOAD_ERRORS").
STL_LOAD_ERRORS = ErrorView("stl_load_errors", "query", "session", {f: f for f in REJECT_FIELDS})
# Serverless has no STL tables: SYS_LOAD_ERROR_DETAIL, which keeps no raw line or value.
SYS_LOAD_ERROR_DETAIL = ErrorView(
    "sys_load_error_detail",
    "query_id",
    "session_id",
    {
        "filename": "file_name", "line_number": "line_number", "colname": "column_name",
        "type": "column_type", "raw_line": None, "raw_field_value": None,
        "err_code": "error_code", "err_reason": "error_message",
    },
)  # fmt: skip


def error_view(host: str | None) -> ErrorView:
    """SYS_LOAD_ERROR_DETAIL on Redshift Serverless, STL_LOAD_ERRORS on a cluster."""
    return SYS_LOAD_ERROR_DETAIL if ".redshift-serverless." in (host or "") else STL_LOAD_ERRORS


# An IAM role's ARN: arn:<partition>:iam::<12-digit account>:role/<path><name>, the path
# (optional) and the name of letters, digits and + = , . @ _ - , the name at most 64 characters
# ("IAM ARNs" and "Friendly names and paths":
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html). Several roles,
# comma-separated, are a chain that COPY assumes in order
# (https://docs.aws.amazon.com/redshift/latest/mgmt/authorizing-redshift-service-chaining-roles.html).
_ROLE_ARN = (
    r"arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:role/(?:[A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}"
)
ROLE_ARNS = re.compile(rf"{_ROLE_ARN}(?:,{_ROLE_ARN})*", re.ASCII)
# A region's name: us-west-2, eu-central-1, us-gov-west-1, us-iso-east-1, cn-north-1, …
# (https://docs.aws.amazon.com/general/latest/gr/rande.html); REGION in COPY names the bucket's
# (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-source-s3.html).
REGION_NAME = re.compile(r"[a-z]{2,4}(?:-[a-z]+)+-[0-9]{1,2}", re.ASCII)
# A general purpose bucket's name: 3 to 63 lowercase letters, digits, dots and hyphens, a letter
# or digit at each end, no two dots together, not an IP address, none of the reserved prefixes
# and suffixes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
_BUCKET = re.compile(r"[a-z0-9](?:[a-z0-9.-]{1,61})[a-z0-9]", re.ASCII)
_IP_ADDRESS = re.compile(r"[0-9]+(?:\.[0-9]+){3}", re.ASCII)
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# ASCII control characters: a key may hold them, a statement had better not (a NUL ends the
# query string of the wire protocol, a newline breaks a script's `--` comment).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def valid_bucket(name: str) -> bool:
    """Whether `name` follows S3's naming rules for a general purpose bucket."""
    return bool(
        _BUCKET.fullmatch(name)
        and ".." not in name
        and not _IP_ADDRESS.fullmatch(name)
        and not name.startswith(_RESERVED_PREFIXES)
        and not name.endswith(_RESERVED_SUFFIXES)
    )


def check_s3_uri(uri: str, what: str, *, object_key: bool = False) -> None:
    """A ConfigError unless `uri` is s3://<valid bucket>/<key> (a key needed if `object_key`)
    with no control character; the key is otherwise free (escaped where it is written)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not valid_bucket(bucket):
        raise ConfigError(
            f"{what} {uri!r} does not name a valid S3 bucket (s3://bucket/key, the bucket of "
            "3-63 lowercase letters, digits, dots and hyphens)"
        )
    if object_key and not key:
        raise ConfigError(f"{what} {uri!r} names a bucket, not an object: use s3://bucket/key")
    if _CONTROL.search(key):
        raise ConfigError(f"{what} {uri!r} has a control character (a newline, a tab, …)")


def check_copy_values(options: CopyOptions, location: str, what: str) -> None:
    """Every value COPY writes into its text: the role, the region and the S3 locations."""
    if not ROLE_ARNS.fullmatch(options.iam_role_arn or ""):
        raise ConfigError(
            f"The IAM role ARN {options.iam_role_arn!r} ([IAM_ROLE] ARN in dwh.cfg, "
            "iam_role_arn in Settings) is not a role's ARN: "
            "arn:aws:iam::<12-digit account>:role/<name>"
        )
    if options.region is not None and not REGION_NAME.fullmatch(options.region):
        raise ConfigError(
            f"The S3 REGION {options.region!r} ([S3] REGION in dwh.cfg, region in Settings) "
            "is not a region name such as us-west-2"
        )
    check_s3_uri(location, what)
    if options.jsonpaths is not None:
        check_s3_uri(options.jsonpaths, "The JSONPaths file", object_key=True)


def copy_command(target: Table, location: str, options: CopyOptions) -> CopyCommand:
    """The COPY statement for `target`, with Redshift's defaults made explicit and every value
    in it checked (`check_copy_values`): a ConfigError names a malformed one."""
    if not is_s3(location):
        raise LoadError(f"Redshift's COPY reads from S3, not from {location}: use s3://…")
    if options.jsonpaths is not None and not is_s3(options.jsonpaths):
        raise LoadError(f"Redshift's COPY needs the JSONPaths file on S3, not {options.jsonpaths}")
    if not options.iam_role_arn:
        raise LoadError(
            "Redshift's COPY needs an IAM role that can read the bucket: set [IAM_ROLE] ARN "
            "in dwh.cfg (or iam_role_arn in Settings)"
        )
    check_copy_values(options, location, f"The S3 location of {target.name}")
    path_file = options.jsonpaths or ("auto ignorecase" if options.ignore_case else "auto")
    try:
        return _copy_command(target, location, options, path_file)
    except ValueError as exc:  # CopyCommand validates the ARN, region, … with ValueErrors
        raise ConfigError(f"Cannot build the COPY into {target.name}: {exc}") from None


def _copy_command(
    target: Table, location: str, options: CopyOptions, path_file: str
) -> CopyCommand:
    return CopyCommand(
        target,
        location,
        iam_role_arns=options.iam_role_arn,
        format=Format.json,
        path_file=path_file,
        compression=Compression(options.compression.upper()) if options.compression else None,
        time_format=options.timeformat,
        truncate_columns=options.truncate_columns,
        blanks_as_null=options.blanks_as_null,
        empty_as_null=options.empty_as_null,
        max_error=options.max_error,
        manifest=options.manifest,
        region=options.region,
        comp_update=options.comp_update,
        stat_update=options.stat_update,
    )


def copy_sql(command: CopyCommand, connection_or_dialect: Any, *, mask: bool = True) -> str:
    """The COPY as Redshift reads it, values inline; secrets masked unless `mask` is False.

    The same text whatever the caller's driver: compiled by a fresh dialect of the same class
    with the `named` paramstyle (a `format` one would double each `%` in a literal, for a driver
    to undo; sent without parameters nothing undoes it) and Redshift's literal rules, quote and
    backslash doubled (https://docs.aws.amazon.com/redshift/latest/dg/r_QUOTE_LITERAL.html).
    """
    given = getattr(connection_or_dialect, "dialect", connection_or_dialect)
    dialect = type(given)(paramstyle="named")
    dialect._backslash_escapes = True  # PostgreSQL's compiler then doubles backslashes too
    sql = str(command.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return _SECRET.sub(r"\1=***", sql) if mask else sql


def copy_into_redshift(connection: Connection, target: Table, location: str,
                       options: CopyOptions) -> CopyResult:  # fmt: skip
    command = copy_command(target, location, options)
    pid = connection.execute(select(func.pg_backend_pid())).scalar_one()
    try:
        # As text, with no parameters: the driver sends it untouched (no `%%` undone, no
        # `:name` taken for a parameter), the very text `sparkify-dw sql` prints.
        connection.exec_driver_sql(
            copy_sql(command, connection, mask=False), execution_options={"no_parameters": True}
        )
    except DBAPIError as exc:
        rejects = _rejects(connection, pid, after_failure=True)
        shown = "; ".join(r.describe() for r in rejects[:3])
        raise LoadError(
            f"COPY into {target.name} failed on Redshift: {driver_reason(exc)} {shown}",
            rejects,
        ) from None
    rows = connection.execute(select(func.pg_last_copy_count())).scalar_one()
    rejects = _rejects(connection, pid, after_failure=False)
    files: dict[str, FileStats] = {}
    for reject in rejects:
        files.setdefault(reject.filename, FileStats(reject.filename)).rejected += 1
    return CopyResult(target.name, location, rows, tuple(files.values()), tuple(rejects))


def _rejects(connection: Connection, pid: int, *, after_failure: bool) -> list[Reject]:
    view = error_view(connection.engine.url.host)
    if not after_failure:
        query_id = select(func.pg_last_copy_id()).scalar_subquery()
        return [_reject(row) for row in connection.execute(view.select(query_id))]
    # The failed COPY aborted this transaction: read on a connection of its own.
    with connection.engine.connect() as other:
        query_id = view.last_query(pid).scalar_subquery()
        return [_reject(row) for row in other.execute(view.select(query_id))]


def _reject(row: Any) -> Reject:
    def clean(value: Any) -> str:
        return "" if value is None else str(value).strip()  # STL pads its CHAR columns

    return Reject(
        filename=clean(row.filename),
        line_number=int(row.line_number),
        colname=clean(row.colname),
        type=clean(row.type),
        raw_line=clean(row.raw_line),
        raw_field_value=clean(row.raw_field_value),
        err_code=int(row.err_code),
        err_reason=clean(row.err_reason),
    )
