"""What the library sends to Redshift, not only what it prints: every statement of a load, of
the checks and of the analytics queries, captured through a fake redshift_connector
(`tests/redshift_fake.py`) under a real engine of the project's Redshift dialect.

Three properties of what reaches the server (the driver's own `convert_paramstyle` applied):
- no bind parameter in a SELECT list (Redshift cannot type one: driver issue 59);
- no doubled `%` inside a string literal (redshift_connector leaves quoted text as it is);
- `sparkify-dw sql` prints exactly what is sent, once the parameters are filled in; the COPY is
  sent without parameters, byte for byte what is printed, however hostile its S3 keys.
And what cannot be escaped is refused: a malformed role ARN, REGION or bucket is one ConfigError.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redshift_connector
from sqlalchemy import Engine

from sparkify_dw.analytics import QUERIES
from sparkify_dw.analytics.registry import run_query
from sparkify_dw.backends import backend_for
from sparkify_dw.checks import CHECKS, run_checks
from sparkify_dw.config import Settings
from sparkify_dw.db import make_engine
from sparkify_dw.errors import ConfigError
from sparkify_dw.loader import load_with
from sparkify_dw.migrate import head_revision
from sparkify_dw.models import TABLES
from sparkify_dw.script import run_script, script_dialect, statement_sql
from tests.helpers import Run, parse_redshift
from tests.redshift_fake import (
    FakeRedshift,
    Sent,
    filled_in,
    parameters_in_select_lists,
    redshift_tokens,
    split_statements,
    string_values,
)

URL = "redshift+redshift_connector://awsuser:Sup3rS3cret@cluster.example:5439/dev"
ROLE = "arn:aws:iam::123456789012:role/dwhRole"
BUCKET = "s3://udacity-dend"


def _settings(**changes: Any) -> Settings:
    values: dict[str, Any] = {
        "db_url": URL,
        "song_data": f"{BUCKET}/song_data",
        "log_data": f"{BUCKET}/log_data",
        "log_jsonpath": f"{BUCKET}/log_json_path.json",
        "iam_role_arn": ROLE,
        "region": "us-west-2",
    }
    return Settings(**{**values, **changes})


@pytest.fixture
def redshift() -> Iterator[Callable[..., tuple[FakeRedshift, Engine]]]:
    """A fake redshift_connector and an engine made by make_engine on it (disposed after)."""
    engines: list[Engine] = []

    def make(url: str = URL, **fake_options: Any) -> tuple[FakeRedshift, Engine]:
        fake = FakeRedshift(**fake_options)
        engine = make_engine(url, module=fake)
        engines.append(engine)
        return fake, engine

    yield make
    for engine in engines:
        engine.dispose()


def _warehouse() -> dict[str, Any]:
    """What the fake's catalogue holds once a warehouse is there."""
    return {
        "tables": [t.name for t in TABLES.all] + ["alembic_version"],
        "revision": head_revision(),
    }


def assert_sound(sent: list[Sent], given: tuple[str, ...] = ()) -> None:
    """The properties every statement sent to Redshift must have (a `%%` in a literal is
    allowed only in a value `given` so, which the caller compares exactly)."""
    assert sent
    for call in sent:
        text = call.server_text
        assert not parameters_in_select_lists(text), f"a parameter in a SELECT list:\n{text}"
        doubled = [v for v in string_values(text) if "%%" in v and v not in given]
        assert not doubled, f"a doubled % in a literal ({doubled}):\n{text}"


def _is_read(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SELECT", "SHOW", "WITH"))


def _copies(sent: list[Sent]) -> list[Sent]:
    return [call for call in sent if call.operation.lstrip().startswith("COPY ")]


def _printed_copies(settings: Settings) -> list[str]:
    """The COPY statements of `sparkify-dw sql` for these settings, as printed."""
    script = run_script("redshift", settings)
    return [sql for sql in split_statements(script) if sql.startswith("COPY")]


def _one_statement(sql: str) -> None:
    """`sql` is one statement for Redshift (its literal rules: a backslash escapes) and for
    sqlfluff's `redshift` grammar (whose lexer does not know that rule)."""
    assert split_statements(sql) == [sql], sql
    tree = parse_redshift(sql)["file"]
    statements = [
        part for part in (tree if isinstance(tree, list) else [tree]) if "statement" in part
    ]
    assert len(statements) == 1, json.dumps(tree)[:2000]


# --- The fake and the rule ---------------------------------------------------------------------


def test_the_fake_stands_in_for_redshift_connector(redshift: Callable[..., Any]) -> None:
    fake, engine = redshift()
    assert FakeRedshift.paramstyle == redshift_connector.paramstyle == "format"
    assert engine.dialect.name == "redshift"
    assert engine.dialect.driver == "redshift_connector"
    assert engine.dialect.dbapi is fake
    assert engine.dialect.paramstyle == "format"
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() == 4242
    sent = [call.operation for call in fake.sent]
    assert "select pg_catalog.version()" in sent  # the dialect's initialization, captured too
    assert "select current_schema()" in sent


@pytest.mark.parametrize(
    ("operation", "parameters", "found"),
    [
        # Redshift cannot type these (driver issue 59) or take them at all (issue 24, LIMIT).
        ("SELECT %s AS table_name FROM users HAVING count(*) = %s", ("users", 0), ["$1"]),
        ("SELECT CASE WHEN a = %s THEN %s END AS d FROM t", (0, "Sunday"), ["$1", "$2"]),
        ("SELECT coalesce(a, %s) FROM t", ("",), ["$1"]),
        ("SELECT x FROM (SELECT nullif(a, %s) AS x FROM t) AS s", (0,), ["$1"]),
        ("SELECT a FROM t UNION ALL SELECT %s", ("b",), ["$1"]),
        ("INSERT INTO t (a) SELECT %s FROM u", ("x",), ["$1"]),
        ("SELECT a FROM t LIMIT %s", (10,), ["$1"]),
        # Typed by what is around them, or not parameters at all.
        ("SELECT a FROM t WHERE b = %s AND c LIKE %s", ("x", "%y"), []),
        ("SELECT a FROM t GROUP BY a HAVING count(*) > %s", (1,), []),
        ("SELECT (SELECT max(q) FROM v WHERE s = %s) AS m FROM t", (42,), []),
        ("SELECT EXTRACT(hour FROM a) FROM t WHERE b = %s", ("x",), []),
        ("INSERT INTO t (a, b) VALUES (%s, %s)", ("x", 1), []),
        ("SELECT '%%s', a FROM t -- %%s\nWHERE b = %s", ("x",), []),
    ],
)
def test_the_select_list_rule(
    operation: str, parameters: tuple[Any, ...], found: list[str]
) -> None:
    """The rule the properties below rest on, on statements as the driver rewrites them."""
    assert parameters_in_select_lists(Sent(operation, parameters).server_text) == found


def test_redshifts_literal_rules_are_what_the_tests_read_with() -> None:
    naive = "COPY t FROM 's3://b/it\\''s; DROP TABLE users; --' IAM_ROLE 'x'"
    assert len(split_statements(naive)) == 2  # PostgreSQL's quoting, read by Redshift
    escaped = "COPY t FROM 's3://b/it\\\\''s; DROP TABLE users; --' IAM_ROLE 'x'"
    assert split_statements(escaped) == [escaped]
    assert string_values(escaped)[0] == "s3://b/it\\'s; DROP TABLE users; --"


# --- The load ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["cluster.example", "wg.123.us-west-2.redshift-serverless.amazonaws.com"]
)
def test_a_load_sends_no_parameter_in_a_select_list_and_no_doubled_percent(
    redshift: Callable[..., Any], host: str
) -> None:
    fake, engine = redshift(URL.replace("cluster.example", host))
    # MAXERROR 5: the COPYs' rejects are looked up, STL first, then SYS (the fake knows neither
    # COPY), each query sound too.
    load_with(engine, _settings(max_error=5).stage_options())
    assert_sound(fake.sent)
    for view in ("stl_query", "sys_query_history"):
        assert any(f"FROM {view}" in call.operation for call in fake.sent), view
    # The merges' constants are inline (`nullif(year, 0)`), their filters still parameters.
    texts = [call.server_text for call in fake.sent]
    assert any("nullif(staging_songs.year, 0)" in text for text in texts)
    assert any("staging_events.page = $1" in text for text in texts)


def test_sql_prints_what_a_load_sends(redshift: Callable[..., Any]) -> None:
    """Every statement a load sends that is not a read, parameters filled in, is the printed
    script's statement, in the same order: the schema (as Alembic writes it offline: the same
    DDL, laid out differently), then the load byte for byte, its lock and COPYs included.

    The migration step takes the load lock too; the script prints the lock statements once,
    before the load (Alembic's offline script has no place for them)."""
    settings = _settings()
    fake, engine = redshift()
    load_with(engine, settings.stage_options())
    sent = [filled_in(call).strip() for call in fake.sent]
    # The load's own row in `loads` (the history: its values are the load's id and times) is
    # written around the load on a connection of its own; the script says so in a comment.
    history = [sql for sql in sent if sql.startswith(("INSERT INTO loads ", "UPDATE loads "))]
    assert [sql.split()[0] for sql in history] == ["INSERT", "UPDATE"]
    writes = [sql for sql in sent if not _is_read(sql) and sql not in history]
    printed = split_statements(run_script("redshift", settings))
    assert printed[0] == "BEGIN"  # Alembic's transaction around the migrations
    schema_end = printed.index("COMMIT")
    schema = printed[1:schema_end]
    load_end = printed.index("COMMIT", schema_end + 1)
    load = [sql for sql in printed[schema_end + 1 : load_end] if sql != "BEGIN"]
    assert writes[-len(load) :] == load
    dialect = script_dialect(URL)
    backend = backend_for(dialect)
    locking = [
        statement_sql(statement, dialect).strip().removesuffix(";")
        for statement in (
            backend.lock_setup_statement(dialect),
            backend.lock_statement(dialect, TABLES.loaded),
        )
        if statement is not None
    ]
    migration = [sql for sql in writes[: -len(load)] if sql not in locking]
    assert [" ".join(sql.split()) for sql in migration] == [" ".join(sql.split()) for sql in schema]
    copies = _copies(fake.sent)
    assert [call.parameters for call in copies] == [None, None]  # the driver sends them as is
    assert [call.operation for call in copies] == [sql for sql in load if sql.startswith("COPY")]


# --- The checks and the analytics --------------------------------------------------------------


def test_the_checks_send_their_constants_inline(redshift: Callable[..., Any]) -> None:
    """Every check's count and (the fake says each has one offending row) examples: sound, and
    as `sparkify-dw sql` would print them."""
    fake, engine = redshift(**_warehouse(), count=1)
    results = run_checks(engine)
    assert [r.name for r in results] == [c.name for c in CHECKS]
    assert_sound(fake.sent)
    dialect = script_dialect(URL)
    sent = [filled_in(call).strip() for call in fake.sent]
    for check in CHECKS:
        for statement in (check.count(), check.examples()):
            assert statement_sql(statement, dialect).strip().removesuffix(";") in sent
    not_empty = next(s for s in sent if "AS offending" in s and "HAVING count(*) = 0" in s)
    assert "SELECT 'songplays' AS table_name" in not_empty


def test_the_checks_of_a_loads_rows_are_sound_redshift_sql(redshift: Callable[..., Any]) -> None:
    """What `run` checks after a daily load (the rows its batch names) parses as Redshift SQL
    and reads the staged batch."""
    fake, engine = redshift(**_warehouse(), count=1)
    before = len(fake.sent)
    results = run_checks(engine, scope="load")
    assert results.scope == "load"
    sent = fake.sent[before:]
    assert_sound(sent)
    texts = [filled_in(call) for call in sent]
    # the plays of the batch's days (its staged plays' first and last ts, as constants) and
    # those naming a staged song
    scoped = [s for s in texts if "songplays.start_time >=" in s and "staging_songs" in s]
    assert len(scoped) >= 7  # no_null_keys, unique_plays, plays_have_*: count and examples
    assert all("1543622400000" in s for s in scoped)


def _run(fake: FakeRedshift, engine: Engine, name: str, **filters: Any) -> Sent:
    """The query `name` sent with these filters: the last statement of its run."""
    before = len(fake.sent)
    run_query(engine, name, **filters)
    assert len(fake.sent) > before
    return fake.sent[-1]


def test_the_analytics_queries_are_sent_as_printed(redshift: Callable[..., Any]) -> None:
    fake, engine = redshift(**_warehouse())
    sent = [_run(fake, engine, name) for name in QUERIES]
    assert_sound(sent)
    printed = split_statements(run_script("redshift", _settings()))[-len(QUERIES) :]
    assert [filled_in(call).strip() for call in sent] == printed


@pytest.mark.parametrize("name", list(QUERIES))
def test_an_analytics_querys_filters_stay_parameters_in_where(
    redshift: Callable[..., Any], name: str
) -> None:
    query = QUERIES[name]
    filters: dict[str, Any] = {
        "since": dt.date(2018, 11, 1),
        "until": dt.datetime(2018, 11, 30, 12, 0),
        "level": "free",
        "limit": 3,
    }
    filters = {k: v for k, v in filters.items() if k in query.filters}
    fake, engine = redshift(**_warehouse())
    call = _run(fake, engine, name, **filters)
    assert_sound([call])
    assert call.parameters, call.operation  # the filters: bound, typed by their comparison
    expected = statement_sql(query.statement(**filters), script_dialect(URL))
    assert filled_in(call).strip() == expected.strip().removesuffix(";")


# --- Hostile values in the COPY ----------------------------------------------------------------

HOSTILE = {
    "percent in a key": {"song_data": f"{BUCKET}/song%data/100%25"},
    "colon in a key": {"log_data": f"{BUCKET}/log_data/:2018/11"},
    "backslash quote in a key": {"song_data": f"{BUCKET}/it\\'s; DROP TABLE users; --"},
    "backslash quote in the JSONPaths": {
        "log_jsonpath": f"{BUCKET}/paths\\'; DROP TABLE users; --.json"
    },
    "all at once": {
        "song_data": f"{BUCKET}/%:2018\\\\'\"; --",
        "log_data": f"{BUCKET}/log_data/\\",
        "log_jsonpath": f"{BUCKET}/a'b\\'c%%d:e.json",
    },
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_key_is_sent_as_printed_and_read_as_given(
    redshift: Callable[..., Any], case: str
) -> None:
    settings = _settings(**HOSTILE[case])
    fake, engine = redshift()
    load_with(engine, settings.stage_options())
    assert_sound(fake.sent, (settings.song_data, settings.log_data, settings.log_jsonpath))
    copies = _copies(fake.sent)
    printed = _printed_copies(settings)
    assert [call.operation for call in copies] == printed  # byte for byte
    assert [call.server_text for call in copies] == printed  # the driver changes nothing
    songs, events = printed
    for sql in printed:
        _one_statement(sql)
    assert string_values(songs)[0] == settings.song_data
    assert string_values(events)[0] == settings.log_data
    assert string_values(events)[2] == settings.log_jsonpath  # FROM, CREDENTIALS, JSON AS


def test_sql_command_prints_the_copy_the_load_sends(
    redshift: Callable[..., Any], cli: Callable[..., Run], tmp_path: Path
) -> None:
    """`sparkify-dw sql --config dwh.cfg` with keys holding `%`, `:2018` and `\\'`."""
    config = tmp_path / "dwh.cfg"
    config.write_text(
        "[CLUSTER]\nHOST=cluster.example\nDB_NAME=dev\nDB_USER=awsuser\n"
        "DB_PASSWORD=Sup3rS3cret\nDB_PORT=5439\n\n"
        f"[IAM_ROLE]\nARN='{ROLE}'\n\n"
        "[S3]\nLOG_DATA='s3://udacity-dend/log_data/:2018/11'\n"
        "LOG_JSONPATH='s3://udacity-dend/it\\'s%.json'\n"
        "SONG_DATA='s3://udacity-dend/song%data'\nREGION=us-west-2\n"
    )
    run = cli("sql", "--dialect", "redshift", "--config", str(config))
    assert run.returncode == 0, run.stderr
    printed = [sql for sql in split_statements(run.stdout) if sql.startswith("COPY")]
    fake, engine = redshift()
    load_with(engine, Settings.resolve(config_file=config).stage_options())
    assert [call.operation for call in _copies(fake.sent)] == printed
    assert "s3://udacity-dend/it\\\\''s%.json" in printed[1]


# --- What cannot be escaped is refused ---------------------------------------------------------

REFUSED = [
    ({"iam_role_arn": f"{ROLE}'; DROP TABLE users; --"}, "IAM role ARN"),
    ({"iam_role_arn": f"{ROLE}\\"}, "IAM role ARN"),
    ({"iam_role_arn": f"{ROLE}\nDROP TABLE users"}, "IAM role ARN"),
    ({"iam_role_arn": "arn:aws:iam::12345:role/dwhRole"}, "IAM role ARN"),
    ({"iam_role_arn": "arn:aws:iam::123456789012:user/dwhRole"}, "IAM role ARN"),
    ({"region": "us-west-2'; DROP TABLE users; --"}, "REGION"),
    ({"region": "us-west-2\\"}, "REGION"),
    ({"region": "US West"}, "REGION"),
    ({"song_data": "s3://Udacity_DEND/song_data"}, "S3 location of staging_songs"),
    ({"song_data": "s3://192.168.0.1/song_data"}, "S3 location of staging_songs"),
    ({"song_data": "s3://ab/song_data"}, "S3 location of staging_songs"),
    ({"log_data": f"{BUCKET}/log_data\nDROP TABLE users; --"}, "control character"),
    ({"log_jsonpath": f"{BUCKET}/"}, "JSONPaths file"),
    ({"log_jsonpath": "s3://bad..bucket/paths.json"}, "JSONPaths file"),
]


@pytest.mark.parametrize(("changes", "named"), REFUSED)
def test_a_malformed_value_is_one_config_error_before_anything_is_sent(
    redshift: Callable[..., Any], changes: dict[str, str], named: str
) -> None:
    settings = _settings(**changes)
    with pytest.raises(ConfigError) as printing:
        run_script("redshift", settings)
    fake, engine = redshift()
    with pytest.raises(ConfigError) as loading:
        load_with(engine, settings.stage_options())
    for error in (printing.value, loading.value):
        message = str(error)
        assert named in message
        assert "\n" not in message
    assert fake.sent == []  # refused before the migration, the lock and the first COPY


def test_a_malformed_role_from_dwh_cfg_is_one_error_line(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    config = tmp_path / "dwh.cfg"
    config.write_text(
        "[CLUSTER]\nHOST=cluster.example\nDB_NAME=dev\nDB_USER=awsuser\nDB_PASSWORD=pw\n\n"
        f"[IAM_ROLE]\nARN={ROLE}\\'; DROP TABLE users; --\n\n"
        "[S3]\nLOG_DATA=s3://udacity-dend/log_data\nLOG_JSONPATH=s3://udacity-dend/p.json\n"
        "SONG_DATA=s3://udacity-dend/song_data\n"
    )
    run = cli("sql", "--dialect", "redshift", "--config", str(config))
    run.error_line("IAM role ARN", "DROP TABLE users")


@pytest.mark.parametrize(
    "changes",
    [
        {"iam_role_arn": "arn:aws:iam::123456789012:role/service-role/my.role@x+y=z,w_v-1"},
        {"iam_role_arn": "arn:aws-us-gov:iam::123456789012:role/dwhRole"},
        {"iam_role_arn": f"{ROLE},arn:aws:iam::210987654321:role/other-account"},  # a chain
        {"region": "us-gov-west-1"},
        {"region": "cn-north-1"},
        {"region": None},
        {"song_data": "s3://my.bucket-01/song_data/"},
    ],
)
def test_well_formed_values_are_accepted(
    redshift: Callable[..., Any], changes: dict[str, Any]
) -> None:
    settings = _settings(**changes)
    fake, engine = redshift()
    load_with(engine, settings.stage_options())
    copies = _copies(fake.sent)
    assert [call.operation for call in copies] == _printed_copies(settings)


# --- Local locations in the scripts ------------------------------------------------------------

NEWLINE = "/data/song_data\nDROP TABLE users; --"


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql", "redshift"])
def test_a_newline_in_a_local_location_stays_in_its_comment(dialect: str) -> None:
    settings = Settings(
        song_data=NEWLINE,
        log_data="/data/log\rdata",
        log_jsonpath="/data/paths\n.json",
        iam_role_arn=ROLE,
    )
    script = run_script(dialect, settings)
    assert "-- staging_songs: " in script
    assert "/data/song_data\\nDROP TABLE users; --" in script  # shown, escaped
    where = {t.kind for t in redshift_tokens(script) if "DROP TABLE users" in t.text}
    assert where <= {"comment", "string"}, where  # in a comment, or an example COPY's literal
    if dialect == "redshift":  # the COPY is shown for an example bucket, one statement each
        for sql in (s for s in split_statements(script) if s.startswith("COPY")):
            _one_statement(sql)
