"""COPY on Redshift: sqlalchemy-redshift's CopyCommand, then the load's count and rejects.

Known traps handled here (spec/copy-semantics.md):
- redshift_connector sends bind parameters, and COPY does not take them (sqlalchemy-redshift
  issue 240), so the statement is rendered with its values inline and sent as text.
- Its docstring says max_error defaults to 100000; Redshift's own default, 0, is passed always.
- A COPY over MAXERROR aborts the transaction, so its rejects are read from STL_LOAD_ERRORS
  (SYS_LOAD_ERROR_DETAIL on Serverless) on a second connection, by the session's pid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, column, func, literal, select, table, text
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


def copy_command(target: Table, location: str, options: CopyOptions) -> CopyCommand:
    """The COPY statement for `target`, with Redshift's defaults made explicit."""
    if not is_s3(location):
        raise LoadError(f"Redshift's COPY reads from S3, not from {location}: use s3://…")
    if options.jsonpaths is not None and not is_s3(options.jsonpaths):
        raise LoadError(f"Redshift's COPY needs the JSONPaths file on S3, not {options.jsonpaths}")
    if not options.iam_role_arn:
        raise LoadError(
            "Redshift's COPY needs an IAM role that can read the bucket: set [IAM_ROLE] ARN "
            "in dwh.cfg (or iam_role_arn in Settings)"
        )
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
    """The COPY as text with its values inline; secrets masked unless `mask` is False."""
    dialect = getattr(connection_or_dialect, "dialect", connection_or_dialect)
    sql = str(command.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return _SECRET.sub(r"\1=***", sql) if mask else sql


def copy_into_redshift(connection: Connection, target: Table, location: str,
                       options: CopyOptions) -> CopyResult:  # fmt: skip
    command = copy_command(target, location, options)
    pid = connection.execute(select(func.pg_backend_pid())).scalar_one()
    try:
        connection.execute(text(copy_sql(command, connection, mask=False)))
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
