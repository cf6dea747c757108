"""COPY on Redshift: sqlalchemy-redshift's CopyCommand, then the load's count and rejects.

Known traps handled here (spec/copy-semantics.md, docs/redshift.md):
- redshift_connector sends bind parameters, and COPY does not take them (sqlalchemy-redshift
  issue 240), so the statement is rendered with its values inline (`copy_sql`) and that text is
  sent as it is, with no parameters: the driver then does not look into it, so a `%` or a
  `:2018` in a key reaches Redshift unchanged, and `sparkify-dw sql` prints the same bytes.
- Every value in it is checked or escaped (`check_copy_values`): the IAM role ARN and the
  REGION must match their grammar, an S3 location must name a valid bucket; what remains (the
  keys) is escaped by Redshift's rules for string literals, where a backslash escapes.
- Its docstring says max_error defaults to 100000; Redshift's own default, 0, is passed always.
- THIS COPY's rejects: found by the session that sent it, a server time taken just before it and
  its text, in one family of system views (STL on a provisioned cluster's main compute, else
  SYS; the server is asked, the host name is not guessed from), never by pg_last_copy_id(), which
  a COPY that fails before loading leaves on an older COPY. A COPY over MAXERROR aborts the
  transaction, so they are read on a second connection.
- A bucket in another region than the cluster needs REGION: looked up when not configured.
- Statistics: the COPY runs with STATUPDATE OFF and an ANALYZE of its own follows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, Table, column, func, literal, select, table
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy_redshift.commands import Compression, CopyCommand, Format

from sparkify_dw.copy.options import CopyOptions, CopyResult, FileStats, Reject
from sparkify_dw.errors import ConfigError, LoadError, SourceError, driver_reason
from sparkify_dw.manifests import manifest_url, remove_manifest, write_manifest
from sparkify_dw.sources import bucket_of, bucket_region, is_s3
from sparkify_dw.sql import Analyze

_SECRET = re.compile(r"(aws_secret_access_key|token|password)=[^;']*", re.IGNORECASE)

REJECT_FIELDS = ("filename", "line_number", "colname", "type", "raw_line", "raw_field_value",
                 "err_code", "err_reason")  # fmt: skip


# Which system views hold THIS COPY's rejects (each behaviour cited where it is relied on):
# - Two families of query ids: SYS views' query_id is the query as submitted, STL's query a
#   child query of it; "the query identifiers recorded in the SYS system views are different
#   from those recorded in the provisioned-only views". Session ids (STL pid, SYS session_id)
#   are the same in both, and query and session ids "can be reused over time":
#   https://docs.aws.amazon.com/redshift/latest/dg/cm_chap_system-tables.html
#   So a COPY is looked up in one family's query log (STL_QUERY or SYS_QUERY_HISTORY) by its
#   session, its start (not before a server time taken just before it was sent) and its text,
#   and its errors are read by that log's query id from the same family's view.
# - pg_last_copy_id() is not used: it "is not updated if the COPY command fails because of an
#   error that occurs before the load process begins, such as a syntax error, access error,
#   invalid credentials, or insufficient privileges", so after such a failure it names an older
#   COPY of the session: https://docs.aws.amazon.com/redshift/latest/dg/PG_LAST_COPY_ID.html
#   A COPY that failed before loading has no load errors: none are attributed to it.
# - STL views exist on provisioned clusters only ("System monitoring (provisioned only)") and
#   describe the main cluster; STL_QUERY marks a query run on a concurrency scaling cluster with
#   concurrency_scaling_status 1: https://docs.aws.amazon.com/redshift/latest/dg/c_intro_system_views.html,
#   https://docs.aws.amazon.com/redshift/latest/dg/r_STL_QUERY.html. Serverless cannot query
#   them (https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-monitoring.html), and a
#   Multi-AZ deployment's primary and secondary are monitored through the SYS views
#   (https://docs.aws.amazon.com/redshift/latest/mgmt/monitoring-multi-az-query.html).
#   So STL is asked first (it keeps the raw line and value); when it cannot be queried, does not
#   know the COPY, or the COPY ran elsewhere, SYS (everywhere; no raw line or value):
#   https://docs.aws.amazon.com/redshift/latest/dg/SYS_QUERY_HISTORY.html,
#   https://docs.aws.amazon.com/redshift/latest/dg/SYS_LOAD_ERROR_DETAIL.html,
#   https://docs.aws.amazon.com/redshift/latest/dg/r_STL_LOAD_ERRORS.html


@dataclass(frozen=True)
class CopyMark:
    """What finds one COPY in the query logs: the session that sent it, a server time taken
    just before it was sent, and the text it starts with (`COPY staging_events`)."""

    session: int
    since: Any  # the server's GETDATE(): a datetime
    text: str

    @property
    def pattern(self) -> str:
        return f"{self.text}%"  # `_` in a table name matches itself, and any one character


def copy_mark(connection: Connection, target: Table) -> CopyMark:
    """The mark of the COPY into `target` this connection is about to send.

    GETDATE() is the start of the current statement, even inside a transaction, in the session's
    time zone (UTC unless set otherwise; its example shows whole seconds, which only makes the
    bound earlier); SYSDATE would be the transaction's start, before this load's first COPY:
    https://docs.aws.amazon.com/redshift/latest/dg/r_GETDATE.html
    The system views' times are UTC (STL_QUERY: "in UTC"): a session in another time zone
    shifts the bound (docs/redshift.md says what that does).
    """
    session, since = connection.execute(select(func.pg_backend_pid(), func.getdate())).one()
    name = connection.dialect.identifier_preparer.format_table(target)
    return CopyMark(int(session), since, f"COPY {name}")


@dataclass(frozen=True)
class ErrorView:
    """One family of system views: the query log that finds a COPY, and its load errors (by the
    same family's query id), with the errors' column for each of Reject's fields."""

    name: str  # the load errors
    query: str  # their query id column
    fields: dict[str, str | None]  # Reject field -> the view's column (None: not kept there)
    log: str  # the query log, and its columns:
    log_query: str
    log_session: str
    log_start: str
    log_text: str
    log_elsewhere: str | None = None  # 1 when the query ran on a concurrency scaling cluster

    def find_copy(self, mark: CopyMark) -> Select[Any]:
        """The newest query of the mark's session, started since its time, with its text."""
        names = (self.log_query, self.log_session, self.log_start, self.log_text)
        log = table(self.log, *(column(c) for c in (*names, self.log_elsewhere) if c))
        found = [log.c[self.log_query].label("query_id")]
        if self.log_elsewhere:
            found.append(log.c[self.log_elsewhere].label("elsewhere"))
        return (
            select(*found)
            .where(
                log.c[self.log_session] == mark.session,
                log.c[self.log_start] >= mark.since,
                log.c[self.log_text].like(mark.pattern),
            )
            .order_by(log.c[self.log_start].desc())
            .limit(1)
        )

    def ran_elsewhere(self, found: Any) -> bool:
        return self.log_elsewhere is not None and found.elsewhere == 1

    def select(self, query_id: Any) -> Select[Any]:
        """The load errors of one query (an id of this family), by file and line."""
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

    def columns(self) -> list[str]:
        return [self.query, *(c for c in self.fields.values() if c)]


# Provisioned clusters' main compute: STL_QUERY, STL_LOAD_ERRORS (its raw line and value too).
STL_LOAD_ERRORS = ErrorView(
    "stl_load_errors", "query", {f: f for f in REJECT_FIELDS},
    log="stl_query", log_query="query", log_session="pid", log_start="starttime",
    log_text="querytxt", log_elsewhere="concurrency_scaling_status",
)  # fmt: skip
# Everywhere (Serverless, Multi-AZ, concurrency scaling): SYS_QUERY_HISTORY,
# SYS_LOAD_ERROR_DETAIL, which keeps no raw line or value.
SYS_LOAD_ERROR_DETAIL = ErrorView(
    "sys_load_error_detail",
    "query_id",
    {
        "filename": "file_name", "line_number": "line_number", "colname": "column_name",
        "type": "column_type", "raw_line": None, "raw_field_value": None,
        "err_code": "error_code", "err_reason": "error_message",
    },
    log="sys_query_history", log_query="query_id", log_session="session_id",
    log_start="start_time", log_text="query_text",
)  # fmt: skip
ERROR_VIEWS = (STL_LOAD_ERRORS, SYS_LOAD_ERROR_DETAIL)  # asked in this order


@dataclass(frozen=True)
class FoundRejects:
    """What the system views say of one COPY's rejects."""

    rejects: list[Reject]
    problem: str | None = None  # why they could not be read, when SYS could not be queried


def find_rejects(engine: Engine, mark: CopyMark) -> FoundRejects:
    """The rejects of the COPY `mark` finds, read on a connection of the engine's own (after a
    failed COPY the load's transaction accepts no statement but ROLLBACK).

    STL first; a view that cannot be queried (STL on Serverless), that does not know the COPY
    (it failed before it was logged, or ran on another cluster) or where it ran elsewhere hands
    over to SYS. A COPY neither family knows, or one with no load errors, has no rejects.
    """
    with engine.connect() as other:
        for view in ERROR_VIEWS:
            try:
                found = other.execute(view.find_copy(mark)).first()
                if found is None or view.ran_elsewhere(found):
                    continue
                rows = other.execute(view.select(found.query_id)).all()
            except DBAPIError as exc:
                other.rollback()  # the failed statement aborted this connection's transaction
                if view is ERROR_VIEWS[-1]:
                    return FoundRejects([], problem=f"{view.name}: {driver_reason(exc)}")
                continue
            return FoundRejects([_reject(r) for r in rows])
    return FoundRejects([])


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
        # Never the COPY's own statistics: STATUPDATE ON needs the table's owner or a
        # superuser, or the COPY is refused after loading; `stat_update` is an ANALYZE of its
        # own after the COPY instead (analyze_after_copy).
        stat_update=False,
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
    if options.objects is not None:  # the file ledger's choice: a manifest of exactly those
        return _copy_listed(connection, target, location, options)
    copy_command(target, location, options)  # a COPY that cannot be built fails before any lookup
    options, region_note = with_bucket_region(connection.engine.url, location, options)
    command = copy_command(target, location, options)
    mark = copy_mark(connection, target)
    try:
        # As text, with no parameters: the driver sends it untouched (no `%%` undone, no
        # `:name` taken for a parameter), the very text `sparkify-dw sql` prints.
        connection.exec_driver_sql(
            copy_sql(command, connection, mask=False), execution_options={"no_parameters": True}
        )
    except DBAPIError as exc:
        found = find_rejects(connection.engine, mark)
        raise LoadError(_failure(target, exc, found, region_note), found.rejects) from None
    rows = connection.execute(select(func.pg_last_copy_count())).scalar_one()
    if options.stat_update:
        analyze_after_copy(connection, target)
    # A COPY that succeeded with MAXERROR 0 rejected nothing: no lookup.
    found = find_rejects(connection.engine, mark) if options.max_error else FoundRejects([])
    files: dict[str, FileStats] = {}
    for reject in found.rejects:
        files.setdefault(reject.filename, FileStats(reject.filename)).rejected += 1
    warnings = () if found.problem is None else (
        f"The rejects of the COPY into {target.name} could not be read from Redshift's system "
        f"views ({found.problem}); load_errors does not have them",
    )  # fmt: skip
    return CopyResult(
        target.name, location, rows, tuple(files.values()), tuple(found.rejects), warnings
    )


def listed_copy(target: Table, options: CopyOptions) -> tuple[str, CopyOptions]:
    """The manifest URL and options of the COPY that reads the ledger's objects for `target`."""
    if options.manifest_prefix is None:
        raise ConfigError("A COPY of chosen objects on Redshift needs a manifest prefix")
    url = manifest_url(options.manifest_prefix, target.name)
    return url, replace(options, objects=None, manifest=True)


def _copy_listed(
    connection: Connection, target: Table, location: str, options: CopyOptions
) -> CopyResult:
    url, listed = listed_copy(target, options)
    write_manifest(url, options.objects or ())
    try:
        result = copy_into_redshift(connection, target, url, listed)
    finally:
        remove_manifest(url)
    return replace(result, location=location)


def _failure(target: Table, exc: DBAPIError, found: FoundRejects, region_note: str | None) -> str:
    parts = [f"COPY into {target.name} failed on Redshift: {driver_reason(exc)}"]
    if found.rejects:
        parts.append("; ".join(r.describe() for r in found.rejects[:3]))
    if found.problem:
        parts.append(f"(its rejects could not be read: {found.problem})")
    if region_note:
        parts.append(region_note)
    return " ".join(parts)


# Statistics -------------------------------------------------------------------------------


def analyze_after_copy(connection: Connection, target: Table) -> None:
    """ANALYZE `target` after its COPY, in the load's transaction (as the local engines do).

    COPY's own STATUPDATE ON would do the same, but "only the table owner or a superuser can run
    the ANALYZE command or run the COPY command with STATUPDATE set to ON"
    (https://docs.aws.amazon.com/redshift/latest/dg/t_Analyzing_tables.html): anyone else's COPY
    is then refused after loading, reported as a failed COPY. ANALYZE is also allowed to "users
    with the ANALYZE privilege": https://docs.aws.amazon.com/redshift/latest/dg/r_ANALYZE.html
    """
    try:
        connection.execute(Analyze(target))
    except DBAPIError as exc:
        raise LoadError(
            f"ANALYZE {target.name} after its COPY failed on Redshift: {driver_reason(exc)} "
            "(ANALYZE needs the table's owner, a superuser or the ANALYZE privilege: run the "
            "load as the user that owns the staging tables, or make it their owner with ALTER "
            f"TABLE {target.name} OWNER TO …)"
        ) from None


# REGION -----------------------------------------------------------------------------------

# The region in a cluster's or a Serverless workgroup's endpoint:
# name.id.<region>.redshift.amazonaws.com, wg.account.<region>.redshift-serverless.amazonaws.com
_ENDPOINT_REGION = re.compile(
    r"\.([a-z]{2}(?:-[a-z]+)+-\d+)\.redshift(?:-serverless)?\.amazonaws\.com(?:\.cn)?$"
)
REGION_SETTING = "[S3] REGION in dwh.cfg (region= in Settings or sparkify_dw.load)"


def cluster_region(url: URL) -> str | None:
    """The cluster's region: the URL's `region` ([CLUSTER] REGION in dwh.cfg), else the one in
    its endpoint's host name; None behind a custom name or a VPC endpoint."""
    region = url.query.get("region")
    if isinstance(region, str) and region:
        return region
    found = _ENDPOINT_REGION.search((url.host or "").lower())
    return found.group(1) if found else None


def with_bucket_region(
    url: URL, location: str, options: CopyOptions
) -> tuple[CopyOptions, str | None]:
    """`options` with REGION set when none is configured and the files' bucket is in another
    region than the cluster (or the cluster's is unknown); with, when that could not be looked
    up, what to tell the user if the COPY fails.

    "If the Amazon S3 buckets that hold the data files don't reside in the same AWS Region as
    your cluster, you must use the REGION parameter", and with REGION "all resources, including
    a manifest file or multiple Amazon S3 buckets, must be located in the specified region":
    https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-source-s3.html
    """
    if options.region or not is_s3(location):
        return options, None
    locations = [location, *([options.jsonpaths] if options.jsonpaths else [])]
    buckets = list(dict.fromkeys(bucket_of(where) for where in locations if is_s3(where)))
    try:
        regions = {bucket: bucket_region(bucket) for bucket in buckets}
    except SourceError as exc:
        return options, (
            f"The region of bucket {', '.join(buckets)} could not be looked up ({exc}): if it "
            f"is not the cluster's region, set it as {REGION_SETTING}."
        )
    if len(set(regions.values())) > 1:
        found = ", ".join(f"{bucket} in {region}" for bucket, region in regions.items())
        return options, (
            f"The COPY's files are in buckets of different regions ({found}); COPY's REGION "
            "names one region for all of them: keep the data and the JSONPaths file together."
        )
    region = next(iter(regions.values()))
    if region == cluster_region(url):
        return options, None
    return replace(options, region=region), None


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
