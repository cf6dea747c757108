"""The COPY the library sends to Redshift: its text, its options, and no secret in sight."""

from __future__ import annotations

import pytest
from sqlalchemy_redshift.commands import CopyCommand
from sqlalchemy_redshift.dialect import RedshiftDialect_redshift_connector

from sparkify_dw.copy import CopyOptions
from sparkify_dw.copy.redshift import (
    STL_LOAD_ERRORS,
    SYS_LOAD_ERROR_DETAIL,
    CopyMark,
    ErrorView,
    copy_command,
    copy_sql,
)
from sparkify_dw.errors import LoadError
from sparkify_dw.models import StagingEvent, StagingSong
from tests.helpers import parse_redshift, secret_forms

DIALECT = RedshiftDialect_redshift_connector()
ROLE = "arn:aws:iam::123456789012:role/myRedshiftRole"


def _sql(table: object, location: str, **options: object) -> str:
    command = copy_command(table, location, CopyOptions(iam_role_arn=ROLE, **options))  # type: ignore[arg-type]
    return " ".join(copy_sql(command, DIALECT).split())


def test_copy_of_the_songs_uses_json_auto() -> None:
    sql = _sql(StagingSong.__table__, "s3://udacity-dend/song_data", region="us-west-2")
    assert sql == (
        "COPY staging_songs FROM 's3://udacity-dend/song_data' "
        f"WITH CREDENTIALS AS 'aws_iam_role={ROLE}' FORMAT AS JSON AS 'auto' "
        "COMPUPDATE OFF MAXERROR AS 0 STATUPDATE OFF REGION 'us-west-2'"
    )
    parse_redshift(sql)


def test_copy_of_the_events_maps_them_through_the_jsonpaths_file() -> None:
    sql = _sql(
        StagingEvent.__table__,
        "s3://udacity-dend/log_data",
        jsonpaths="s3://udacity-dend/log_json_path.json",
        max_error=10,
        truncate_columns=True,
        blanks_as_null=True,
        empty_as_null=True,
        compression="gzip",
    )
    assert "COPY staging_events FROM 's3://udacity-dend/log_data'" in sql
    assert "FORMAT AS JSON AS 's3://udacity-dend/log_json_path.json'" in sql
    for option in ("MAXERROR AS 10", "TRUNCATECOLUMNS", "BLANKSASNULL", "EMPTYASNULL", "GZIP"):
        assert option in sql
    parse_redshift(sql)


def test_max_error_is_redshifts_zero_by_default_not_sqlalchemy_redshifts_100000() -> None:
    assert "MAXERROR AS 0" in _sql(StagingSong.__table__, "s3://sparkify-in/song_data")


def test_secrets_are_masked_in_the_text_shown_to_people() -> None:
    command = CopyCommand(
        StagingSong.__table__,
        "s3://b/song_data",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        session_token="FQoGZXIvYXdzEXAMPLETOKEN",
    )
    shown = copy_sql(command, DIALECT)
    assert "wJalrXUtnFEMI" not in shown
    assert "FQoGZXIvYXdz" not in shown
    assert "aws_secret_access_key=***" in shown
    assert "wJalrXUtnFEMI" in copy_sql(command, DIALECT, mask=False)  # what is sent


@pytest.mark.parametrize(
    ("location", "options", "message"),
    [
        ("/local/song_data", {"iam_role_arn": ROLE}, "reads from S3"),
        ("s3://b/song_data", {}, "needs an IAM role"),
        ("s3://b/log_data", {"iam_role_arn": ROLE, "jsonpaths": "/tmp/p.json"}, "JSONPaths"),
    ],
)
def test_what_redshift_cannot_do_is_a_clear_error(
    location: str, options: dict[str, str], message: str
) -> None:
    with pytest.raises(LoadError, match=message):
        copy_command(StagingEvent.__table__, location, CopyOptions(**options))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("view", "log", "reads"),
    [
        (STL_LOAD_ERRORS, "stl_query", "raw_line"),
        (SYS_LOAD_ERROR_DETAIL, "sys_query_history", "error_message"),
    ],
    ids=["STL", "SYS"],
)
def test_each_family_finds_the_copy_and_its_errors_with_redshift_sql(
    view: ErrorView, log: str, reads: str
) -> None:
    """Both families' queries, as Redshift gets them (tests/unit/test_redshift_rejects.py runs
    them against a fake Redshift)."""
    import datetime as dt

    mark = CopyMark(1073840810, dt.datetime(2024, 11, 30, 12, 0, 0), "COPY staging_events")
    find, errors = (
        " ".join(str(q.compile(dialect=DIALECT, compile_kwargs={"literal_binds": True})).split())
        for q in (view.find_copy(mark), view.select(12058149))
    )
    assert f"FROM {log}" in find
    assert "LIMIT 1" in find
    assert "'2024-11-30 12:00:00'" in find
    assert f"FROM {view.name}" in errors
    assert reads in errors
    for sql in (find, errors):
        parse_redshift(sql.replace("%%", "%"))


# No secret in the COPY --------------------------------------------------------------------

# Distinctive, and with characters a URL must encode, so that an encoded leak shows too.
AWS_SECRET = "SparkifyLeakTestSecret/7b3e9d1c5a+0f2e4d6"  # 40 characters, like a real one
AWS_TOKEN = "FwoGZXIvYXdzSparkifyLeakTestToken/9d8c7b6a5f4e3d2c1b0a+ZZ=="


def test_the_copy_sent_to_redshift_carries_no_aws_key_of_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The library's COPY authorizes with the IAM role only: the text it sends (and that
    SQLAlchemy's echo logs) holds no key, whatever boto3 has in its environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASPARKIFYLEAKTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", AWS_TOKEN)
    for table, options in (
        (StagingSong.__table__, CopyOptions(iam_role_arn=ROLE, region="us-west-2")),
        (
            StagingEvent.__table__,
            CopyOptions(iam_role_arn=ROLE, jsonpaths="s3://sparkify-in/paths.json"),
        ),
    ):
        command = copy_command(table, "s3://sparkify-in/data", options)  # type: ignore[arg-type]
        sent = copy_sql(command, DIALECT, mask=False)
        assert f"CREDENTIALS AS 'aws_iam_role={ROLE}'" in sent
        for secret in ("AKIASPARKIFYLEAKTEST", AWS_SECRET, AWS_TOKEN):
            assert secret not in sent
        assert copy_sql(command, DIALECT) == sent  # nothing there to mask


@pytest.mark.parametrize("token", [None, AWS_TOKEN])
def test_copy_sql_masks_key_credentials_in_the_text_shown(token: str | None) -> None:
    """A COPY built with keys (sqlalchemy-redshift allows it; the library does not) shows
    neither the secret key nor the token; the access key id, an identifier, stays."""
    command = CopyCommand(
        StagingSong.__table__,
        "s3://b/song_data",
        access_key_id="AKIASPARKIFYLEAKTEST",
        secret_access_key=AWS_SECRET,
        session_token=token,
    )
    sent = copy_sql(command, DIALECT, mask=False)
    assert AWS_SECRET in sent  # the secret is in the statement itself…
    shown = " ".join(copy_sql(command, DIALECT).split())
    for secret in (AWS_SECRET, AWS_TOKEN):  # …and never in what is shown
        for form in secret_forms(secret):
            assert form not in shown
    expected = "aws_access_key_id=AKIASPARKIFYLEAKTEST;aws_secret_access_key=***"
    assert f"CREDENTIALS AS '{expected}{';token=***' if token else ''}'" in shown


def test_the_script_analyzes_each_staging_table_after_its_copy() -> None:
    """The COPY leaves statistics to an ANALYZE of its own (STATUPDATE ON needs the owner)."""
    from sparkify_dw.config import Settings
    from sparkify_dw.script import run_script

    script = " ".join(run_script("redshift", Settings(iam_role_arn=ROLE)).split())
    order = [
        script.index(statement)
        for statement in (
            "COPY staging_songs FROM",
            "ANALYZE staging_songs;",
            "COPY staging_events FROM",
            "ANALYZE staging_events;",
        )
    ]
    assert order == sorted(order)
    assert script.count("STATUPDATE OFF;") == 2
    assert "STATUPDATE ON;" not in script
