"""No AWS secret key or session token ever reaches the terminal or a log, even with every logger
at DEBUG: a load from moto's S3 server, whose every request carries the token.

Each test runs `sparkify-dw run` in a process of its own whose logging sends every record of
every logger (SQLAlchemy's echo included) to a file (`tests.helpers.sparkify(debug_log=…)`),
then looks for each secret, raw and URL-encoded, in stdout, stderr and that file; and checks the
file holds the DEBUG records it should, so that a silent logger cannot make a test pass.
The database password: tests/cli/test_secrets.py; the COPY text: tests/sql/test_copy_sql.py.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

import pytest

from sparkify_dw import sources
from tests.aws.conftest import Bucket
from tests.helpers import sparkify

pytestmark = pytest.mark.aws

AWS_SECRET = "SparkifyLeakTestSecret/7b3e9d1c5a+0f2e4d6"  # 40 characters, like a real one
AWS_TOKEN = "FwoGZXIvYXdzSparkifyLeakTestToken/9d8c7b6a5f4e3d2c1b0a+ZZ=="


# AWS keys: a load from S3 ----------------------------------------------------------------


@pytest.fixture
def aws_secrets(s3: Bucket, monkeypatch: pytest.MonkeyPatch, sample_dir: Path) -> Bucket:
    """A bucket with a few sample files; the secret key and a session token in the environment
    (the test server takes any)."""
    for path in sorted((sample_dir / "song_data").rglob("*.json"))[:3]:
        s3.put(f"song_data/{path.name}", path.read_bytes())
    for path in sorted((sample_dir / "log_data").rglob("*.json"))[:2]:
        s3.put(f"log_data/{path.name}", path.read_bytes())
    s3.put("log_json_path.json", (sample_dir / "log_json_path.json").read_bytes())
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", AWS_TOKEN)
    return s3


def test_a_load_from_s3_shows_and_logs_neither_the_secret_key_nor_the_session_token(
    aws_secrets: Bucket, tmp_path: Path
) -> None:
    run = sparkify(
        "run",
        "--db",
        f"duckdb:///{tmp_path / 'w.duckdb'}",
        "--song-data",
        aws_secrets.url("song_data"),
        "--log-data",
        aws_secrets.url("log_data"),
        "--log-jsonpath",
        aws_secrets.url("log_json_path.json"),
        cwd=tmp_path,
        debug_log=tmp_path / "debug.log",
    )
    assert run.returncode == 0, run.stderr
    assert "staging_songs: 3 rows from 3 file(s)" in run.stdout
    run.assert_never_shows(AWS_SECRET, AWS_TOKEN)
    run.assert_logged(
        "botocore.credentials INFO Found credentials in environment variables",
        "botocore.auth DEBUG CanonicalRequest:",
        "botocore.endpoint DEBUG Sending http request:",
        "botocore.parsers DEBUG Response body:",
        "urllib3.connectionpool DEBUG",
        "sqlalchemy.engine.Engine INFO",
        "alembic.runtime.migration INFO",
        # the token went to S3 in every request, masked in botocore's trace of it
        "x-amz-security-token:***",
        "'X-Amz-Security-Token': b'***'",
    )


def test_a_failed_load_from_s3_shows_and_logs_no_aws_secret(
    aws_secrets: Bucket, tmp_path: Path
) -> None:
    missing = f"s3://{aws_secrets.name}-gone/song_data"
    run = sparkify(
        "run", "--db", f"duckdb:///{tmp_path / 'w.duckdb'}", "--song-data", missing,
        "--log-data", aws_secrets.url("log_data"), cwd=tmp_path, debug_log=tmp_path / "debug.log",
    )  # fmt: skip
    line = run.error_line()
    assert line.startswith(f"error: S3 bucket {aws_secrets.name}-gone does not exist"), line
    run.assert_never_shows(AWS_SECRET, AWS_TOKEN)
    run.assert_logged("NoSuchBucket", "x-amz-security-token:***")


@pytest.mark.parametrize(
    "message",
    [
        "CanonicalRequest:\nGET\n/b\n\nhost:h\nx-amz-security-token:{token}\n\nhost;x-amz-date",
        "Sending http request: <AWSPreparedRequest headers={{'X-Amz-Security-Token': b'{token}'}}>",
        # S3's answer to a bad signature echoes the canonical request, logged as the body
        "Response body:\nb'<Error><CanonicalRequest>GET\\nx-amz-security-token:{token}\\n"
        "</CanonicalRequest></Error>'",
        "GET https://b.s3.amazonaws.com/k?X-Amz-Security-Token={token}&X-Amz-Date=20260101",
    ],
)
def test_botocore_wire_trace_has_the_session_token_masked(
    s3_env: str, caplog: pytest.LogCaptureFixture, message: str
) -> None:
    """The shapes botocore logs the token in, including those the test server never sends."""
    sources.s3_client()  # making the client puts the filter on botocore's loggers
    with caplog.at_level(logging.DEBUG):
        for name in ("botocore.auth", "botocore.endpoint", "botocore.parsers"):
            logging.getLogger(name).debug(message.format(token=AWS_TOKEN))
            logging.getLogger(name).debug("%s", message.format(token=quote(AWS_TOKEN, safe="")))
    records = [r for r in caplog.records if r.name.startswith("botocore.")]
    assert len(records) == 6
    for record in records:
        shown = record.getMessage()
        assert AWS_TOKEN not in shown
        assert quote(AWS_TOKEN, safe="") not in shown
        assert "-token:***" in shown or "-Token': b'***'" in shown or "-Token=***&" in shown
