"""Redshift's COPY, its rejects, its statistics and load_errors, against a fake Redshift.

No cluster can be reached from here. The fake is a DB-API module (local to this file) behind
sqlalchemy-redshift's redshift_connector dialect: it records every statement each connection
sends and answers the system views from a log of COPYs, the way the AWS pages describe them:

- STL_QUERY / STL_LOAD_ERRORS and SYS_QUERY_HISTORY / SYS_LOAD_ERROR_DETAIL number their queries
  in two different families; the session id is the same in both; SYS keeps no raw line;
- STL cannot be queried on Serverless, and does not hold what ran on a concurrency scaling
  cluster's errors;
- a COPY that fails before loading writes no load errors, and pg_last_copy_id() keeps naming the
  session's older COPY;
- after a failed statement a connection accepts nothing but ROLLBACK.

Each system-view statement the library sends is parsed with sqlfluff's Redshift grammar.
"""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from sparkify_dw.copy import redshift as copy_redshift
from sparkify_dw.copy.options import CopyOptions, CopyResult, Reject, StageOptions
from sparkify_dw.copy.redshift import copy_into_redshift
from sparkify_dw.errors import LoadError, SourceError
from sparkify_dw.loader import stage
from sparkify_dw.models import TABLES
from sparkify_dw.rejects import RejectLog
from tests.helpers import parse_redshift

HOST = "sparkify.abc123.us-west-2.redshift.amazonaws.com"
ROLE = "arn:aws:iam::123456789012:role/dwhRole"
PID = 1073840810
NOW = dt.datetime(2024, 11, 30, 12, 0, 0)
VERSION = (
    "PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 "
    "(Red Hat 3.4.2-6.fc3), Redshift 1.0.77467"
)
EVENTS = TABLES.staging[0]


# --- The fake Redshift ---------------------------------------------------------------------


class Error(Exception):
    pass


class DatabaseError(Error):
    pass


class ProgrammingError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


@dataclass
class LoggedCopy:
    """A COPY as the system views know it: its ids in each family (None: not in that log)."""

    text: str
    start: dt.datetime
    stl_query: int | None
    sys_query: int | None
    errors: list[Reject] = field(default_factory=list)
    session: int = PID
    concurrency_scaling: bool = False


@dataclass
class NextCopy:
    """What the COPY the library sends does: fail (before or after loading) or load."""

    fails: str | None = None  # the driver's message
    stl_query: int | None = None  # logged under these ids when it began loading
    sys_query: int | None = None
    errors: list[Reject] = field(default_factory=list)
    rows: int = 7
    concurrency_scaling: bool = False


@dataclass
class Sent:
    connection: int
    sql: str
    params: tuple[Any, ...]


class FakeRedshift:
    """The server: the COPYs its system views know, the next COPY's fate, what was sent."""

    def __init__(self, *, stl: bool = True, sys: bool = True) -> None:
        self.stl, self.sys = stl, sys
        self.copies: list[LoggedCopy] = []
        self.next_copy = NextCopy()
        self.next_copy_into: dict[str, NextCopy] = {}  # by table, before next_copy
        self.analyze_fails: str | None = None
        self.sent: list[Sent] = []
        self.connections = 0
        self.last_copy_id = -1  # pg_last_copy_id(): the STL id of the session's last COPY
        self.last_copy_count = 0

    def module(self) -> types.SimpleNamespace:
        """The DB-API module: connect() and PEP 249's exception classes."""
        others = ("Warning", "InterfaceError", "DataError", "OperationalError",
                  "IntegrityError", "NotSupportedError")  # fmt: skip
        return types.SimpleNamespace(
            paramstyle="format",
            apilevel="2.0",
            threadsafety=1,
            connect=self.connect,
            Error=Error,
            DatabaseError=DatabaseError,
            ProgrammingError=ProgrammingError,
            InternalError=InternalError,
            **{name: type(name, (DatabaseError,), {}) for name in others},
        )

    def connect(self, *args: Any, **kwargs: Any) -> FakeConnection:
        self.connections += 1
        return FakeConnection(self, self.connections)

    def engine(self) -> Engine:
        return sa.create_engine(
            f"redshift+redshift_connector://awsuser@{HOST}:5439/dev", module=self.module()
        )

    # What the library sent ---------------------------------------------------------------

    def statements(self, *fragments: str) -> list[Sent]:
        return [s for s in self.sent if all(f in s.sql for f in fragments)]

    def system_view_reads(self) -> list[Sent]:
        return [s for s in self.sent if re.search(r"\bFROM (stl|sys)_", s.sql)]


class FakeConnection:
    def __init__(self, server: FakeRedshift, number: int) -> None:
        self.server, self.number = server, number
        self.aborted = False
        self.autocommit = False
        self.py_types: dict[Any, Any] = {str: None}  # sqlalchemy-redshift's on_connect sets one

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def commit(self) -> None:
        assert not self.aborted, "COMMIT of an aborted transaction"

    def rollback(self) -> None:
        self.aborted = False

    def close(self) -> None:
        pass


class FakeCursor:
    def __init__(self, connection: FakeConnection) -> None:
        self.connection = connection
        self.server = connection.server
        self.description: list[tuple[Any, ...]] | None = None
        self.rowcount = -1
        self.rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: Any = None) -> None:
        params = tuple(params or ())
        self.server.sent.append(Sent(self.connection.number, sql, params))
        if self.connection.aborted:
            raise InternalError(
                "current transaction is aborted, commands ignored until end of transaction block"
            )
        try:
            self._answer(sql, params)
        except DatabaseError:
            self.connection.aborted = True
            raise

    def executemany(self, sql: str, seq: Any) -> None:
        for params in seq:  # as redshift_connector does: one statement per row
            self.execute(sql, params)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows.pop(0) if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self.rows = self.rows, []
        return rows

    def fetchmany(self, size: int = 1) -> list[tuple[Any, ...]]:
        rows, self.rows = self.rows[:size], self.rows[size:]
        return rows

    def close(self) -> None:
        pass

    def _result(self, names: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.description = [(n, None, None, None, None, None, None) for n in names]
        self.rows, self.rowcount = list(rows), len(rows)

    def _answer(self, sql: str, params: tuple[Any, ...]) -> None:
        server = self.server
        self.description, self.rows, self.rowcount = None, [], -1
        if "version()" in sql:
            self._result(["version"], [(VERSION,)])
        elif "current_schema()" in sql:
            self._result(["current_schema"], [("public",)])
        elif sql.startswith("show transaction isolation level"):
            self._result(["transaction_isolation"], [("serializable",)])
        elif "pg_backend_pid()" in sql:
            self._result(["pg_backend_pid", "getdate"], [(PID, NOW)])
        elif sql.startswith("COPY "):
            self._copy(sql)
        elif "pg_last_copy_count()" in sql:
            self._result(["pg_last_copy_count"], [(server.last_copy_count,)])
        elif "pg_last_copy_id()" in sql:
            self._result(["pg_last_copy_id"], [(server.last_copy_id,)])
        elif sql.startswith("ANALYZE "):
            if server.analyze_fails:
                raise ProgrammingError(server.analyze_fails)
        elif "FROM stl_" in sql and not server.stl:
            # Serverless: "You can't query STL, STV, SVCS, SVL ... system tables and views".
            relation = re.search(r"FROM (\w+)", sql).group(1)  # type: ignore[union-attr]
            raise ProgrammingError(f"permission denied for relation {relation}")
        elif "FROM sys_" in sql and not server.sys:
            raise ProgrammingError("permission denied for relation sys_query_history")
        elif "FROM stl_query" in sql:
            found = self._find(params, "stl_query")
            self._result(
                ["query_id", "elsewhere"],
                [(c.stl_query, 1 if c.concurrency_scaling else 0) for c in found],
            )
        elif "FROM sys_query_history" in sql:
            found = self._find(params, "sys_query")
            self._result(["query_id"], [(c.sys_query,) for c in found])
        elif "FROM stl_load_errors" in sql:
            self._errors(params[-1], "stl_query", raw=True)
        elif "FROM sys_load_error_detail" in sql:
            self._errors(params[-1], "sys_query", raw=False)
        elif sql.startswith("DELETE FROM staging_"):
            self.rowcount = 0
        elif sql.startswith("INSERT INTO load_errors"):
            self.rowcount = sql.count("), (") + 1
        else:
            raise AssertionError(f"the fake Redshift was not told how to answer: {sql}")

    def _copy(self, sql: str) -> None:
        server = self.server
        table = sql.split()[1]
        copy = server.next_copy_into.get(table, server.next_copy)
        if copy.stl_query is not None or copy.sys_query is not None:  # it began loading
            server.copies.append(
                LoggedCopy(sql, NOW + dt.timedelta(seconds=1), copy.stl_query, copy.sys_query,
                           copy.errors, concurrency_scaling=copy.concurrency_scaling)
            )  # fmt: skip
            if copy.stl_query is not None:
                server.last_copy_id = copy.stl_query
        if copy.fails:
            raise ProgrammingError(copy.fails)
        server.last_copy_count = copy.rows

    def _find(self, params: tuple[Any, ...], family: str) -> list[LoggedCopy]:
        session, since, pattern = params[:3]
        like = re.compile(
            "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern),
            re.DOTALL,
        )
        found = [
            c for c in self.server.copies
            if getattr(c, family) is not None and c.session == session and c.start >= since
            and like.fullmatch(c.text)
        ]  # fmt: skip
        return sorted(found, key=lambda c: c.start, reverse=True)[:1]

    def _errors(self, query_id: Any, family: str, *, raw: bool) -> None:
        rows = [
            (e.filename, e.line_number, e.colname, e.type, e.raw_line if raw else "",
             e.raw_field_value if raw else "", e.err_code, e.err_reason)
            for c in self.server.copies if getattr(c, family) == query_id
            for e in c.errors
        ]  # fmt: skip
        self._result(
            ["filename", "line_number", "colname", "type", "raw_line", "raw_field_value",
             "err_code", "err_reason"],
            rows,
        )  # fmt: skip


def reject(line: int, reason: str, raw: str = '{"ts": "x"}') -> Reject:
    return Reject(
        filename="s3://sparkify/log_data/2018-11-01-events.json",
        line_number=line,
        colname="ts",
        type="int8",
        raw_line=raw,
        raw_field_value="x",
        err_code=1207,
        err_reason=reason,
    )


OLD_REJECTS = [reject(3, "Invalid digit, Value 'x' (an older COPY's)")]
NEW_REJECTS = [reject(5, "Invalid digit, Value 'y'"), reject(9, "Invalid digit, Value 'z'")]


def older_copy(server: FakeRedshift, *, stl_query: int | None, sys_query: int | None) -> None:
    """An earlier COPY into staging_events in the same session, with a reject."""
    server.copies.append(
        LoggedCopy(
            "COPY staging_events FROM 's3://sparkify/log_data'",
            NOW - dt.timedelta(minutes=3),
            stl_query,
            sys_query,
            OLD_REJECTS,
        )
    )
    if stl_query is not None:
        server.last_copy_id = stl_query


@pytest.fixture
def server() -> FakeRedshift:
    return FakeRedshift()


@pytest.fixture
def engine(server: FakeRedshift) -> Iterator[Engine]:
    engine = server.engine()
    yield engine
    engine.dispose()


def run_copy(engine: Engine, **options: Any) -> CopyResult:
    """One COPY into staging_events inside a transaction, as the loader runs it."""
    copy_options = CopyOptions(
        iam_role_arn=ROLE, jsonpaths="s3://sparkify/log_json_path.json", region="us-west-2"
    )
    with engine.connect() as connection, connection.begin():
        return copy_into_redshift(
            connection, EVENTS, "s3://sparkify/log_data", replace(copy_options, **options)
        )


def failed_copy(engine: Engine, **options: Any) -> LoadError:
    with pytest.raises(LoadError) as caught:
        run_copy(engine, **options)
    return caught.value


def inline(sent: Sent) -> str:
    """The statement with its parameters written in, as sqlfluff reads it."""
    values = iter(sent.params)

    def literal(match: re.Match[str]) -> str:
        value = next(values)
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, dt.datetime):
            return f"'{value.isoformat(sep=' ')}'"
        return "'" + str(value).replace("'", "''") + "'"

    return re.sub(r"%s", literal, sent.sql).replace("%%", "%")


def assert_system_views_read_alone(server: FakeRedshift) -> None:
    """Every system-view read went over a connection other than the load's (1), and parses."""
    for sent in server.system_view_reads():
        assert sent.connection != 1, sent.sql
        parse_redshift(inline(sent))


# --- Item 2: a failed COPY is never blamed on an older one ---------------------------------


@pytest.mark.parametrize(
    "logged_in_sys",
    [pytest.param(False, id="not-logged"), pytest.param(True, id="logged-failed-in-SYS")],
)
def test_a_copy_that_failed_before_loading_gets_no_rejects_of_the_sessions_older_copy(
    server: FakeRedshift, engine: Engine, logged_in_sys: bool
) -> None:
    older_copy(server, stl_query=501, sys_query=9001)
    server.next_copy = NextCopy(
        fails="S3ServiceException:Access Denied,Status 403",
        sys_query=9002 if logged_in_sys else None,  # SYS may log the failed query, no errors
    )
    error = failed_copy(engine, max_error=10)
    assert error.rejects == ()
    assert "Access Denied" in str(error)
    assert "older COPY" not in str(error)
    assert server.last_copy_id == 501  # what pg_last_copy_id() would have blamed…
    assert not server.statements("pg_last_copy_id")  # …and it is never asked
    assert_system_views_read_alone(server)


def test_a_load_whose_events_copy_fails_before_loading_logs_only_the_songs_copys_rejects(
    server: FakeRedshift, engine: Engine
) -> None:
    """The loader's two COPYs in one session: the songs COPY skips two bad records, then the
    events COPY fails before loading. pg_last_copy_id() (and the session's newest COPY) is the
    songs COPY: its rejects must not be logged again as the events COPY's."""
    song_rejects = [
        Reject("s3://sparkify/song_data/A/A/A/TRAAA.json", 1, "year", "int4", '{"year": "x"}',
               "x", 1207, "Invalid digit, Value 'x'"),
        Reject("s3://sparkify/song_data/A/A/B/TRAAB.json", 1, "duration", "float8",
               '{"duration": "y"}', "y", 1208, "Invalid float, Value 'y'"),
    ]  # fmt: skip
    server.next_copy_into = {
        "staging_songs": NextCopy(stl_query=600, sys_query=9600, errors=song_rejects),
        "staging_events": NextCopy(fails="S3ServiceException:Access Denied,Status 403"),
    }
    options = StageOptions(
        song_data="s3://sparkify/song_data",
        log_data="s3://sparkify/log_data",
        log_jsonpath="s3://sparkify/log_json_path.json",
        max_error=5,
        iam_role_arn=ROLE,
        region="us-west-2",
    )
    log = RejectLog(engine)
    with pytest.raises(LoadError) as caught, engine.connect() as connection, connection.begin():
        stage(connection, options, reject_log=log)
    assert caught.value.rejects == ()
    assert "Access Denied" in str(caught.value)
    assert "Every reject" not in str(caught.value)  # nothing to point at
    (insert,) = server.statements("INSERT INTO load_errors")
    tables = {value for value in insert.params if str(value).startswith("staging_")}
    assert tables == {"staging_songs"}  # the songs' two rejects, once, under their own table
    assert insert.sql.count("), (") + 1 == 2
    assert_system_views_read_alone(server)


def test_a_copy_over_maxerror_gets_its_own_rejects_not_those_of_an_id_of_the_other_family(
    server: FakeRedshift, engine: Engine
) -> None:
    # The older COPY's SYS id is the new COPY's STL id: reading SYS_LOAD_ERROR_DETAIL by an STL
    # id (or STL_LOAD_ERRORS by a SYS id) would return the older COPY's reject.
    older_copy(server, stl_query=480, sys_query=502)
    server.next_copy = NextCopy(
        fails="Load into table 'staging_events' failed. Check 'stl_load_errors' …",
        stl_query=502,
        sys_query=9003,
        errors=NEW_REJECTS,
    )
    error = failed_copy(engine, max_error=1)
    assert list(error.rejects) == NEW_REJECTS  # from STL: with their raw line and value
    assert "Invalid digit, Value 'y'" in str(error)
    assert "older COPY" not in str(error)
    assert len(server.statements("FROM stl_query")) == 1
    assert not server.statements("FROM sys_")  # STL knew the COPY: SYS is not asked
    assert_system_views_read_alone(server)


def test_the_copy_is_found_by_its_session_its_start_and_its_text(
    server: FakeRedshift, engine: Engine
) -> None:
    server.next_copy = NextCopy(stl_query=510, sys_query=9010, errors=NEW_REJECTS)
    run_copy(engine, max_error=5)
    (lookup,) = server.statements("FROM stl_query")
    session, since, pattern = lookup.params[:3]
    assert (session, since) == (PID, NOW)  # pg_backend_pid() and GETDATE() before the COPY
    (copy,) = server.statements("COPY ")
    assert re.fullmatch(pattern.replace("%", ".*"), copy.sql, re.DOTALL), (pattern, copy.sql)
    mark = server.statements("pg_backend_pid()")
    assert server.sent.index(mark[0]) < server.sent.index(copy)


# --- Item 1: STL or SYS, as the server answers ---------------------------------------------


def test_on_a_provisioned_cluster_the_rejects_come_from_stl_with_their_raw_lines(
    server: FakeRedshift, engine: Engine
) -> None:
    server.next_copy = NextCopy(stl_query=520, sys_query=9020, errors=NEW_REJECTS, rows=40)
    result = run_copy(engine, max_error=5)
    assert result.rows == 40
    assert list(result.rejects) == NEW_REJECTS
    assert [(f.url, f.rejected) for f in result.files] == [(NEW_REJECTS[0].filename, 2)]
    assert result.warnings == ()
    assert_system_views_read_alone(server)


def test_on_serverless_stl_refuses_and_the_rejects_come_from_sys_without_raw_lines(
    engine: Engine, server: FakeRedshift
) -> None:
    server.stl = False
    server.next_copy = NextCopy(sys_query=9030, errors=NEW_REJECTS)
    result = run_copy(engine, max_error=5)
    assert [(r.line_number, r.err_reason) for r in result.rejects] == [
        (5, "Invalid digit, Value 'y'"),
        (9, "Invalid digit, Value 'z'"),
    ]
    assert {(r.raw_line, r.raw_field_value) for r in result.rejects} == {("", "")}
    # The STL probe failed on the second connection, which was rolled back before SYS was
    # asked (the fake refuses anything else on an aborted transaction): no warning.
    assert result.warnings == ()
    assert server.statements("FROM stl_query")
    assert server.statements("FROM sys_load_error_detail")
    assert_system_views_read_alone(server)


def test_on_serverless_a_failed_copy_is_blamed_on_its_own_rejects(
    engine: Engine, server: FakeRedshift
) -> None:
    server.stl = False
    older_copy(server, stl_query=None, sys_query=9040)
    server.next_copy = NextCopy(fails="Load into table failed", sys_query=9041, errors=NEW_REJECTS)
    error = failed_copy(engine, max_error=1)
    assert [r.line_number for r in error.rejects] == [5, 9]
    assert_system_views_read_alone(server)


def test_a_copy_run_on_a_concurrency_scaling_cluster_is_read_from_sys(
    engine: Engine, server: FakeRedshift
) -> None:
    # STL_QUERY lists it (concurrency_scaling_status 1); its errors are not in the main
    # cluster's STL_LOAD_ERRORS, so SYS is asked.
    server.next_copy = NextCopy(
        stl_query=530, sys_query=9050, errors=NEW_REJECTS, concurrency_scaling=True
    )
    result = run_copy(engine, max_error=5)
    assert [r.line_number for r in result.rejects] == [5, 9]
    assert server.statements("FROM sys_load_error_detail")
    assert not server.statements("FROM stl_load_errors")


def test_a_copy_stl_does_not_know_is_looked_up_in_sys(engine: Engine, server: FakeRedshift) -> None:
    # A Multi-AZ deployment's secondary: its queries are in the SYS views only.
    server.next_copy = NextCopy(stl_query=None, sys_query=9060, errors=NEW_REJECTS)
    result = run_copy(engine, max_error=5)
    assert [r.line_number for r in result.rejects] == [5, 9]


def test_when_no_system_view_can_be_read_the_copy_error_and_a_warning_say_so(
    engine: Engine, server: FakeRedshift
) -> None:
    server.stl = server.sys = False
    server.next_copy = NextCopy(sys_query=9070, errors=NEW_REJECTS)
    result = run_copy(engine, max_error=5)
    assert result.rejects == ()
    (warning,) = result.warnings
    assert "could not be read" in warning
    assert "load_errors" in warning
    server.next_copy = NextCopy(fails="Load into table failed", sys_query=9071)
    error = failed_copy(engine, max_error=5)
    assert "its rejects could not be read" in str(error)
    assert "Load into table failed" in str(error)


def test_a_successful_copy_with_maxerror_0_reads_no_system_view(
    engine: Engine, server: FakeRedshift
) -> None:
    server.next_copy = NextCopy(stl_query=540, sys_query=9080)
    result = run_copy(engine, max_error=0)
    assert result.rejects == ()
    assert not server.system_view_reads()


def test_the_host_name_does_not_choose_the_views(server: FakeRedshift) -> None:
    """A Serverless workgroup behind a VPC endpoint or a custom name: still read from SYS."""
    engine = sa.create_engine(
        "redshift+redshift_connector://awsuser@warehouse.internal.example:5439/dev",
        module=server.module(),
    )
    server.stl = False
    server.next_copy = NextCopy(sys_query=9090, errors=NEW_REJECTS)
    try:
        result = run_copy(engine, max_error=5)
    finally:
        engine.dispose()
    assert [r.line_number for r in result.rejects] == [5, 9]


# --- Item 9: statistics --------------------------------------------------------------------


def test_the_copy_runs_with_statupdate_off_and_an_analyze_of_its_own_follows(
    engine: Engine, server: FakeRedshift
) -> None:
    server.next_copy = NextCopy(stl_query=550, sys_query=9100)
    run_copy(engine)
    load = [s.sql.split()[0].upper() for s in server.sent if s.connection == 1]
    copy_at = load.index("COPY")
    (copy,) = server.statements("COPY ")
    assert "STATUPDATE OFF" in copy.sql
    assert "STATUPDATE ON" not in copy.sql
    (analyze,) = server.statements("ANALYZE ")
    assert analyze.sql == "ANALYZE staging_events"
    assert analyze.connection == 1
    assert server.sent.index(analyze) > server.sent.index(copy)
    assert copy_at < load.index("ANALYZE")


def test_no_analyze_when_statistics_are_not_wanted(engine: Engine, server: FakeRedshift) -> None:
    server.next_copy = NextCopy(stl_query=551, sys_query=9101)
    run_copy(engine, stat_update=False)
    assert not server.statements("ANALYZE ")


def test_an_analyze_refused_to_a_non_owner_says_who_may_run_it(
    engine: Engine, server: FakeRedshift
) -> None:
    server.next_copy = NextCopy(stl_query=552, sys_query=9102)
    server.analyze_fails = "skipping table --- only table or database owner can analyze it"
    error = failed_copy(engine)
    message = str(error)
    assert message.startswith("ANALYZE staging_events after its COPY failed on Redshift")
    assert "only table or database owner" in message
    assert "owner, a superuser or the ANALYZE privilege" in message


# --- Item 9: REGION ------------------------------------------------------------------------


def test_a_bucket_in_another_region_gets_region_on_the_copy(
    engine: Engine, server: FakeRedshift, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copy_redshift, "bucket_region", lambda bucket: "eu-west-1")
    server.next_copy = NextCopy(stl_query=560, sys_query=9110)
    run_copy(engine, region=None)
    (copy,) = server.statements("COPY ")
    assert "REGION 'eu-west-1'" in copy.sql


def test_a_bucket_in_the_clusters_region_gets_no_region(
    engine: Engine, server: FakeRedshift, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copy_redshift, "bucket_region", lambda bucket: "us-west-2")
    server.next_copy = NextCopy(stl_query=561, sys_query=9111)
    run_copy(engine, region=None)
    (copy,) = server.statements("COPY ")
    assert "REGION" not in copy.sql


def test_a_region_that_cannot_be_looked_up_is_explained_when_the_copy_fails(
    engine: Engine, server: FakeRedshift, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(bucket: str) -> str:
        raise SourceError("No usable AWS credentials to read s3://sparkify (NoCredentialsError)")

    monkeypatch.setattr(copy_redshift, "bucket_region", refused)
    server.next_copy = NextCopy(
        fails="S3ServiceException:The bucket you are attempting to access must be addressed "
        "using the specified endpoint.,Status 301"
    )
    error = failed_copy(engine, region=None)
    message = str(error)
    assert "must be addressed using the specified endpoint" in message
    assert "The region of bucket sparkify could not be looked up" in message
    assert "[S3] REGION in dwh.cfg" in message
    (copy,) = server.statements("COPY ")
    assert "REGION" not in copy.sql


def test_a_configured_region_is_not_looked_up(
    engine: Engine, server: FakeRedshift, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(bucket: str) -> str:
        raise AssertionError("looked up")

    monkeypatch.setattr(copy_redshift, "bucket_region", never)
    server.next_copy = NextCopy(stl_query=562, sys_query=9112)
    run_copy(engine, region="ap-south-1")
    (copy,) = server.statements("COPY ")
    assert "REGION 'ap-south-1'" in copy.sql


@pytest.mark.parametrize(
    ("url", "region"),
    [
        (f"redshift+redshift_connector://u@{HOST}:5439/dev", "us-west-2"),
        (
            "redshift+redshift_connector://u@wg.123456789012.eu-central-1.redshift-serverless"
            ".amazonaws.com:5439/dev",
            "eu-central-1",
        ),
        (
            "redshift+redshift_connector://u@c.x.cn-north-1.redshift.amazonaws.com.cn/dev",
            "cn-north-1",
        ),
        (
            "redshift+redshift_connector://u@warehouse.internal.example/dev?region=us-east-2",
            "us-east-2",
        ),
        (
            "redshift+redshift_connector://u@vpce-0a1b.redshift.us-east-1.vpce.amazonaws.com/dev",
            None,
        ),
    ],
)
def test_the_clusters_region_comes_from_the_configuration_or_its_endpoint(
    url: str, region: str | None
) -> None:
    assert copy_redshift.cluster_region(sa.engine.make_url(url)) == region


# --- Item 9: load_errors in multi-row INSERTs ----------------------------------------------


def test_load_errors_are_written_on_redshift_with_multi_row_inserts(
    engine: Engine, server: FakeRedshift
) -> None:
    log = RejectLog(engine)
    rejects = [reject(n, f"reason {n}", raw=f"it's line {n}") for n in range(2_600)]
    log.record("staging_events", rejects)
    inserts = server.statements("INSERT INTO load_errors")
    assert len(inserts) == 6  # 5 x 500 rows and 100: not 2,600 statements
    assert [s.sql.count("), (") + 1 for s in inserts] == [500] * 5 + [100]
    assert [len(s.params) for s in inserts] == [5_500] * 5 + [1_100]
    assert inserts[-1].params[-1] == "reason 2599"

    server.sent.clear()
    log.record("staging_events", rejects[:3])
    (small,) = server.statements("INSERT INTO load_errors")
    parse_redshift(inline(small))
