"""No credential ever reaches the terminal or a log, even with every logger at DEBUG.

The credentials: a database password (in a --db URL, SPARKIFY_DB_URL or dwh.cfg's [CLUSTER]
DB_PASSWORD) and the AWS secret key and session token that boto3 reads from the environment.
Each test runs `sparkify-dw run` in a process of its own whose logging sends every record of
every logger (SQLAlchemy's echo included) to a file, then looks for each secret, raw and
URL-encoded, in stdout, stderr and that file; and checks the file holds the DEBUG records it
should, so that a silent logger cannot make a test pass. Each secret is in play, not merely
absent: the password is handed to the driver (and sent, to the fake server), the token is sent
to S3 with every request.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy_redshift.commands import CopyCommand
from sqlalchemy_redshift.dialect import RedshiftDialect_redshift_connector

from sparkify_dw import sources
from sparkify_dw.copy import CopyOptions
from sparkify_dw.copy.redshift import copy_command, copy_sql
from sparkify_dw.models import StagingEvent, StagingSong
from tests.integration.conftest import Bucket

# Distinctive, and with characters a URL must encode, so that an encoded leak shows too.
DB_PASSWORD = "Pw-9f2c/S3cret:x@y%z#"
AWS_SECRET = "SparkifyLeakTestSecret/7b3e9d1c5a+0f2e4d6"  # 40 characters, like a real one
AWS_TOKEN = "FwoGZXIvYXdzSparkifyLeakTestToken/9d8c7b6a5f4e3d2c1b0a+ZZ=="
ROLE = "arn:aws:iam::123456789012:role/myRedshiftRole"

# Every record of every logger goes to the file; the loggers that stay quiet unless asked are
# turned up by name, after the import (SQLAlchemy sets its own logger to WARNING on import).
WRAPPER = """
import logging, sys

log_file, *args = sys.argv[1:]
handler = logging.FileHandler(log_file, mode="w", encoding="utf-8")
handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
logging.getLogger().addHandler(handler)
logging.captureWarnings(True)

import sparkify_dw.cli

for name in ("", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "botocore", "boto3",
             "urllib3", "redshift_connector", "alembic", "psycopg"):
    logging.getLogger(name).setLevel(logging.DEBUG)
sys.argv = ["sparkify-dw", *args]
sparkify_dw.cli.main()
"""


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    log: str

    def assert_never_shows(self, *secrets: str) -> None:
        for secret in secrets:
            for form in _forms(secret):
                for where, text in (("stdout", self.stdout), ("stderr", self.stderr),
                                    ("the DEBUG log", self.log)):  # fmt: skip
                    assert form not in text, f"{form!r} in {where}:\n{_around(text, form)}"
                    # a secret the terminal wrapped over two lines is a secret shown too
                    assert form not in "".join(text.split()), f"{form!r} in {where}, wrapped"

    def assert_logged(self, *fragments: str) -> None:
        """The log is the full DEBUG trace, not an empty file."""
        for fragment in fragments:
            assert fragment in self.log, f"{fragment!r} not logged; the log:\n{self.log[:3000]}"


def _forms(secret: str) -> set[str]:
    """The secret as it is, percent-encoded, and as SQLAlchemy writes it in a URL."""
    in_url = URL.create("x", username="u", password=secret, host="h")
    rendered = in_url.render_as_string(hide_password=False)
    return {secret, quote(secret, safe=""), quote_plus(secret), rendered[len("x://u:") : -2]}


def _around(text: str, fragment: str) -> str:
    at = text.index(fragment)
    return text[max(0, at - 500) : at + 200]


def sparkify_at_debug(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """`sparkify-dw run args…` in a new process, every logger at DEBUG into a file."""
    log_file = cwd / "debug.log"
    environ = {k: v for k, v in os.environ.items() if k != "SPARKIFY_DB_URL"}
    environ.update(env or {})
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(log_file), "run", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    return Run(result.returncode, result.stdout, result.stderr, log)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _url(driver: str, host: str, port: int, database: str, user: str = "awsuser") -> str:
    url = URL.create(driver, user, DB_PASSWORD, host, port, database)
    return url.render_as_string(hide_password=False)


def _one_error_line(run: Run, start: str) -> str:
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    (line,) = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: {start}"), line
    return line


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
    run = sparkify_at_debug(
        "--db",
        f"duckdb:///{tmp_path / 'w.duckdb'}",
        "--song-data",
        aws_secrets.url("song_data"),
        "--log-data",
        aws_secrets.url("log_data"),
        "--log-jsonpath",
        aws_secrets.url("log_json_path.json"),
        cwd=tmp_path,
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
    run = sparkify_at_debug(
        "--db", f"duckdb:///{tmp_path / 'w.duckdb'}", "--song-data", missing, cwd=tmp_path
    )
    _one_error_line(run, f"S3 bucket {aws_secrets.name}-gone does not exist")
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


# The database password: PostgreSQL --------------------------------------------------------


class FakePostgres:
    """A server that asks for the password in clear and refuses it, as PostgreSQL does when the
    password is wrong (the test server trusts every local connection, so never does)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.passwords: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # closed
                return
            with conn, contextlib.suppress(OSError, struct.error):
                self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        while True:
            length, code = struct.unpack("!ii", _read(conn, 8))
            _read(conn, length - 8)
            if code not in (80877103, 80877104):  # SSLRequest, GSSENCRequest: no
                break  # the startup message
            conn.sendall(b"N")
        conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
        kind, (length,) = _read(conn, 1), struct.unpack("!i", _read(conn, 4))
        payload = _read(conn, length - 4)
        if kind == b"p":
            self.passwords.append(payload.rstrip(b"\0"))
        fields = b'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "awsuser"\0\0'
        conn.sendall(b"E" + struct.pack("!i", 4 + len(fields)) + fields)

    def close(self) -> None:
        self.listener.close()


def _read(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


@pytest.fixture
def fake_postgres() -> Iterator[FakePostgres]:
    server = FakePostgres()
    yield server
    server.close()


def test_a_wrong_postgresql_password_is_refused_without_showing_it(
    fake_postgres: FakePostgres, tmp_path: Path
) -> None:
    db = _url("postgresql+psycopg", "127.0.0.1", fake_postgres.port, "sparkify")
    run = sparkify_at_debug("--db", db, cwd=tmp_path)
    line = _one_error_line(
        run, f"Cannot connect to postgresql+psycopg://awsuser:***@127.0.0.1:{fake_postgres.port}"
    )
    assert "password authentication failed" in line
    assert fake_postgres.passwords  # the driver did send it…
    assert set(fake_postgres.passwords) == {DB_PASSWORD.encode()}  # …and nothing else
    run.assert_never_shows(DB_PASSWORD)
    run.assert_logged("sqlalchemy.pool.impl.QueuePool")


def test_an_unreachable_postgresql_server_is_named_without_the_password(tmp_path: Path) -> None:
    db = _url("postgresql+psycopg", "127.0.0.1", _closed_port(), "sparkify")
    run = sparkify_at_debug("--db", db, cwd=tmp_path)
    _one_error_line(run, "Cannot connect to postgresql+psycopg://awsuser:***@127.0.0.1:")
    run.assert_never_shows(DB_PASSWORD)
    run.assert_logged("sqlalchemy.pool.impl.QueuePool")


@pytest.mark.postgres
def test_a_load_into_postgresql_shows_and_logs_no_password(
    postgres_url: str, tmp_path: Path
) -> None:
    """The test server trusts local connections, so it takes the URL's password and loads."""
    db = sa.make_url(postgres_url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
    run = sparkify_at_debug("--db", db, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Loaded into postgresql+psycopg://postgres:***@" in " ".join(run.stdout.split())
    run.assert_never_shows(DB_PASSWORD)
    run.assert_logged("sqlalchemy.engine.Engine INFO INSERT INTO", "sqlalchemy.pool")

    missing = sa.make_url(db).set(database=f"{sa.make_url(db).database}_gone")
    failed = sparkify_at_debug("--db", missing.render_as_string(hide_password=False), cwd=tmp_path)
    line = _one_error_line(failed, "Cannot connect to postgresql+psycopg://postgres:***@")
    assert "does not exist" in line
    failed.assert_never_shows(DB_PASSWORD)


# The database password: Redshift ----------------------------------------------------------


def _dwh_cfg(folder: Path, host: str, port: int) -> Path:
    config = folder / "dwh.cfg"
    config.write_text(
        f"[CLUSTER]\nHOST='{host}'\nDB_NAME='dev'\nDB_USER='awsuser'\n"
        f"DB_PASSWORD='{DB_PASSWORD}'\nDB_PORT='{port}'\n\n[IAM_ROLE]\nARN='{ROLE}'\n",
        encoding="utf-8",
    )
    return config


@pytest.mark.parametrize("given", ["--db", "--config", "SPARKIFY_DB_URL"])
@pytest.mark.parametrize("host", ["127.0.0.1", "sparkify-dwh.invalid"])
def test_an_unreachable_redshift_cluster_is_named_without_the_password(
    tmp_path: Path, given: str, host: str
) -> None:
    port = _closed_port() if host == "127.0.0.1" else 5439
    db = _url("redshift+redshift_connector", host, port, "dev")
    args, env = {
        "--db": (["--db", db], {}),
        "--config": (["--config", str(_dwh_cfg(tmp_path, host, port))], {}),
        "SPARKIFY_DB_URL": ([], {"SPARKIFY_DB_URL": db}),
    }[given]
    run = sparkify_at_debug(*args, cwd=tmp_path, env=env)
    _one_error_line(
        run, f"Cannot connect to redshift+redshift_connector://awsuser:***@{host}:{port}/dev"
    )
    assert f"Loading into redshift+redshift_connector://awsuser:***@{host}" in run.stderr
    run.assert_never_shows(DB_PASSWORD)
    # redshift_connector logged its connection arguments (the password among them, masked)
    run.assert_logged(
        "redshift_connector DEBUG User provided connection arguments", "'password': '***'"
    )


# The COPY sent to Redshift ----------------------------------------------------------------

DIALECT = RedshiftDialect_redshift_connector()


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
        (StagingEvent.__table__, CopyOptions(iam_role_arn=ROLE, jsonpaths="s3://b/paths.json")),
    ):
        command = copy_command(table, "s3://b/data", options)  # type: ignore[arg-type]
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
        for form in _forms(secret):
            assert form not in shown
    expected = "aws_access_key_id=AKIASPARKIFYLEAKTEST;aws_secret_access_key=***"
    assert f"CREDENTIALS AS '{expected}{';token=***' if token else ''}'" in shown
