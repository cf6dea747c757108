"""The COPY the library sends to Redshift: its text, its options, and no secret in sight."""

from __future__ import annotations

import json

import pytest
import sqlfluff
from sqlalchemy_redshift.dialect import RedshiftDialect_redshift_connector

from sparkify_dw.copy import CopyOptions
from sparkify_dw.copy.redshift import copy_command, copy_sql
from sparkify_dw.errors import LoadError
from sparkify_dw.models import StagingEvent, StagingSong

DIALECT = RedshiftDialect_redshift_connector()
ROLE = "arn:aws:iam::123456789012:role/myRedshiftRole"


def _sql(table: object, location: str, **options: object) -> str:
    command = copy_command(table, location, CopyOptions(iam_role_arn=ROLE, **options))  # type: ignore[arg-type]
    return " ".join(copy_sql(command, DIALECT).split())


def _parses_as_redshift(sql: str) -> None:
    tree = sqlfluff.parse(f"{sql};", dialect="redshift")
    assert "unparsable" not in json.dumps(tree), sql


def test_copy_of_the_songs_uses_json_auto() -> None:
    sql = _sql(StagingSong.__table__, "s3://udacity-dend/song_data", region="us-west-2")
    assert sql == (
        "COPY staging_songs FROM 's3://udacity-dend/song_data' "
        f"WITH CREDENTIALS AS 'aws_iam_role={ROLE}' FORMAT AS JSON AS 'auto' "
        "COMPUPDATE OFF MAXERROR AS 0 STATUPDATE ON REGION 'us-west-2'"
    )
    _parses_as_redshift(sql)


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
    _parses_as_redshift(sql)


def test_max_error_is_redshifts_zero_by_default_not_sqlalchemy_redshifts_100000() -> None:
    assert "MAXERROR AS 0" in _sql(StagingSong.__table__, "s3://b/song_data")


def test_secrets_are_masked_in_the_text_shown_to_people() -> None:
    from sqlalchemy_redshift.commands import CopyCommand

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
    ("host", "view", "reads"),
    [
        ("sparkify.abc.us-west-2.redshift.amazonaws.com", "stl_load_errors", "raw_line"),
        ("wg.123.us-west-2.redshift-serverless.amazonaws.com", "sys_load_error_detail",
         "error_message"),
    ],
)  # fmt: skip
def test_rejects_are_read_from_the_system_view_of_the_deployment(
    host: str, view: str, reads: str
) -> None:
    import sqlalchemy as sa

    from sparkify_dw.copy.redshift import error_view

    chosen = error_view(host)
    for query in (
        chosen.select(sa.func.pg_last_copy_id()),
        chosen.select(chosen.last_query(42).scalar_subquery()),
    ):
        sql = " ".join(
            str(query.compile(dialect=DIALECT, compile_kwargs={"literal_binds": True})).split()
        )
        assert f"FROM {view}" in sql
        assert reads in sql
        _parses_as_redshift(sql)
