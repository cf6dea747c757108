"""make_engine on Redshift: the exact arguments redshift_connector.connect receives.

No cluster is contacted: `redshift_connector.connect` is replaced by a function that records its
keyword arguments and refuses, and the engine is asked for a connection. What it records is what
a real connection would get: the dialect's `create_connect_args` with make_engine's
`connect_args` laid over them, through SQLAlchemy's pool and make_engine's `do_connect` hook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redshift_connector
from botocore.exceptions import NoCredentialsError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from sparkify_dw.config import Settings
from sparkify_dw.db import check_connection, make_engine
from sparkify_dw.errors import ConfigError, DatabaseError
from sparkify_dw.urls import redact_url

HOST = "sparkify.abc123.us-west-2.redshift.amazonaws.com"
BASE = f"redshift+redshift_connector://awsuser:S3cret!Pw@{HOST}:5439/dev"
IAM = f"redshift+redshift_connector://awsuser@{HOST}:5439/dev"
# sqlalchemy-redshift's own defaults, sent with every connection.
DIALECT = {"application_name": "sqlalchemy-redshift"}
TARGET = {"host": HOST, "port": 5439, "database": "dev", "user": "awsuser"}
SSL_ON = {"ssl": True, "sslmode": "verify-full"}


class Refused(redshift_connector.InterfaceError):
    """Raised instead of connecting."""


def connect_kwargs(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def fake_connect(*args: Any, **kwargs: Any) -> None:
        assert args == ()
        seen.update(kwargs)
        raise Refused

    monkeypatch.setattr(redshift_connector, "connect", fake_connect)
    with pytest.raises(DBAPIError) as caught:
        engine.connect()
    assert isinstance(caught.value.orig, Refused)
    engine.dispose()
    return seen


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(BASE, {**TARGET, **SSL_ON, "password": "S3cret!Pw"}, id="password"),
        pytest.param(
            f"{IAM}?iam=true&cluster_identifier=sparkify&db_user=loader&region=us-west-2",
            {
                **TARGET,
                **SSL_ON,
                "iam": True,
                "cluster_identifier": "sparkify",
                "db_user": "loader",
                "region": "us-west-2",
            },
            id="iam",
        ),
        pytest.param(
            # db_user defaults to the URL's user; credentials from a named AWS profile.
            f"{IAM}?iam=True&cluster_identifier=sparkify&profile=analytics",
            {
                **TARGET,
                **SSL_ON,
                "iam": True,
                "cluster_identifier": "sparkify",
                "profile": "analytics",
                "db_user": "awsuser",
            },
            id="iam-profile",
        ),
        pytest.param(
            f"{IAM}?iam=1&cluster_identifier=sparkify&db_user=loader&auto_create=yes"
            "&db_groups=loaders,readers&timeout=30&access_key_id=AKIAEXAMPLE"
            "&secret_access_key=wJalr/SECRET&session_token=TOKEN%2Bxyz",
            {
                **TARGET,
                **SSL_ON,
                "iam": True,
                "cluster_identifier": "sparkify",
                "db_user": "loader",
                "auto_create": True,
                "db_groups": ["loaders", "readers"],
                "timeout": 30,
                "access_key_id": "AKIAEXAMPLE",
                "secret_access_key": "wJalr/SECRET",
                "session_token": "TOKEN+xyz",
            },
            id="iam-keys",
        ),
        pytest.param(
            f"{BASE}?sslmode=verify-full",
            {**TARGET, **SSL_ON, "password": "S3cret!Pw"},
            id="verify-full",
        ),
        pytest.param(
            f"{BASE}?sslmode=verify-ca",
            {**TARGET, "ssl": True, "sslmode": "verify-ca", "password": "S3cret!Pw"},
            id="verify-ca",
        ),
        pytest.param(
            # The dialect alone would send the string 'false', which is truthy.
            f"{BASE}?ssl=false",
            {**TARGET, "ssl": False, "sslmode": "verify-full", "password": "S3cret!Pw"},
            id="ssl-off",
        ),
    ],
)
def test_the_engine_passes_redshift_connector_typed_arguments_with_ssl_on(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: dict[str, Any]
) -> None:
    kwargs = connect_kwargs(make_engine(url), monkeypatch)
    assert kwargs == {**DIALECT, **expected}


DWH_CFG = f"""\
[CLUSTER]
HOST='{HOST}'
DB_NAME='dev'
DB_USER='awsuser'
DB_PASSWORD='S3cret!Pw'
DB_PORT='5439'
{{extra}}
[IAM_ROLE]
ARN='arn:aws:iam::123456789012:role/myRedshiftRole'
"""


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param("", {**TARGET, **SSL_ON, "password": "S3cret!Pw"}, id="password"),
        pytest.param(
            "SSLMODE=verify-ca\n",
            {**TARGET, "ssl": True, "sslmode": "verify-ca", "password": "S3cret!Pw"},
            id="sslmode",
        ),
        pytest.param(
            # IAM: temporary credentials for DB_USER; the password is neither used nor kept.
            "IAM=true\nCLUSTER_IDENTIFIER='sparkify'\nREGION=us-west-2\nPROFILE=analytics\n",
            {
                **TARGET,
                **SSL_ON,
                "iam": True,
                "cluster_identifier": "sparkify",
                "region": "us-west-2",
                "profile": "analytics",
                "db_user": "awsuser",
            },
            id="iam",
        ),
        pytest.param("IAM=false\n", {**TARGET, **SSL_ON, "password": "S3cret!Pw"}, id="iam-false"),
    ],
)
def test_the_cluster_section_of_dwh_cfg_connects_with_a_password_or_iam(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str, expected: dict[str, Any]
) -> None:
    path = tmp_path / "dwh.cfg"
    path.write_text(DWH_CFG.format(extra=extra))
    settings = Settings.resolve(config_file=path, environ={})
    kwargs = connect_kwargs(make_engine(settings.db_url), monkeypatch)
    assert kwargs == {**DIALECT, **expected}
    if "iam" in expected:
        assert "S3cret" not in settings.db_url


SECRETS = ("S3cret", "wJalr", "TOKEN", "AKIAEXAMPLE")


def test_no_secret_shows_in_redact_url_the_engine_or_settings(tmp_path: Path) -> None:
    url = (
        f"{BASE}?iam=true&cluster_identifier=sparkify&access_key_id=AKIAEXAMPLE"
        "&secret_access_key=wJalr/SECRET&session_token=TOKEN%2Bxyz"
    )
    settings = Settings.resolve(db_url=url, environ={})
    engine = make_engine(url)
    shown = [redact_url(url), repr(settings), str(settings), repr(engine), str(engine.url)]
    for text in shown:
        for secret in SECRETS:
            assert secret not in text, text
    assert redact_url(url) == (
        f"redshift+redshift_connector://awsuser:***@{HOST}:5439/dev?access_key_id=***"
        "&cluster_identifier=sparkify&iam=true&secret_access_key=***&session_token=***"
    )  # SQLAlchemy renders the query sorted by key
    # Only secrets are masked, in any URL (DuckDB's S3 settings too).
    assert redact_url("duckdb:///w.duckdb?s3_secret_access_key=wJalr&s3_region=eu") == (
        "duckdb:///w.duckdb?s3_region=eu&s3_secret_access_key=***"
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?sslmode=require", "sslmode must be one of verify-ca, verify-full, not 'require'"),
        ("?iam=maybe", "iam must be true or false, not 'maybe'"),
        ("?iam=true&ssl=false", "IAM authentication (iam=true) needs SSL"),
        ("?timeout=soon", "timeout must be a number"),
        ("?region=a&region=b", "'region' is given more than once"),
    ],
)
def test_bad_redshift_options_are_one_clear_error(query: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_engine(BASE + query)
    assert message in str(caught.value)
    assert "S3cret" not in str(caught.value)


def test_a_bad_iam_flag_in_dwh_cfg_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dwh.cfg"
    path.write_text(DWH_CFG.format(extra="IAM=sometimes\n"))
    with pytest.raises(ConfigError, match=r"dwh\.cfg: \[CLUSTER\] IAM must be true or false"):
        Settings.resolve(config_file=path, environ={})


def test_an_iam_failure_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    # With iam=true redshift_connector calls boto3 first and lets botocore's errors through;
    # SQLAlchemy wraps only DB-API errors, so check_connection would not catch them.
    def no_credentials(**kwargs: Any) -> None:
        raise NoCredentialsError

    monkeypatch.setattr(redshift_connector, "connect", no_credentials)
    engine = make_engine(f"{IAM}?iam=true&cluster_identifier=sparkify&secret_access_key=wJalr")
    with pytest.raises(DatabaseError) as caught:
        check_connection(engine)
    assert str(caught.value) == (
        f"Cannot connect to {IAM}?cluster_identifier=sparkify&iam=true: "
        "NoCredentialsError: Unable to locate credentials"
    )
