"""No database password ever reaches the terminal or a log, even with every logger at DEBUG: in
a --db URL, SPARKIFY_DB_URL or dwh.cfg's [CLUSTER] DB_PASSWORD, for PostgreSQL and Redshift.

Each test runs `sparkify-dw run` in a process of its own whose logging sends every record of
every logger (SQLAlchemy's echo included) to a file (`tests.helpers.sparkify(debug_log=…)`),
then looks for each secret, raw and URL-encoded, in stdout, stderr and that file; and checks the
file holds the DEBUG records it should, so that a silent logger cannot make a test pass.
The password is in play, not merely absent: it is handed to the driver (and sent, to the fake
server). The AWS keys: tests/aws/test_secrets.py.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from tests.helpers import Run, closed_port, sparkify

# Distinctive, and with characters a URL must encode, so that an encoded leak shows too.
DB_PASSWORD = "Pw-9f2c/S3cret:x@y%z#"
ROLE = "arn:aws:iam::123456789012:role/myRedshiftRole"


def sparkify_run_at_debug(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """`sparkify-dw run args…` in a new process, every logger at DEBUG into cwd/debug.log."""
    return sparkify("run", *args, cwd=cwd, env=env, debug_log=cwd / "debug.log")


def _error_line_starting(run: Run, start: str) -> str:
    line = run.error_line()
    assert line.startswith(f"error: {start}"), line
    return line


def _url(driver: str, host: str, port: int, database: str, user: str = "awsuser") -> str:
    url = URL.create(driver, user, DB_PASSWORD, host, port, database)
    return url.render_as_string(hide_password=False)


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
    run = sparkify_run_at_debug("--db", db, cwd=tmp_path)
    line = _error_line_starting(
        run, f"Cannot connect to postgresql+psycopg://awsuser:***@127.0.0.1:{fake_postgres.port}"
    )
    assert "password authentication failed" in line
    assert fake_postgres.passwords  # the driver did send it…
    assert set(fake_postgres.passwords) == {DB_PASSWORD.encode()}  # …and nothing else
    run.assert_never_shows(DB_PASSWORD)
    run.assert_logged("sqlalchemy.pool.impl.QueuePool")


def test_an_unreachable_postgresql_server_is_named_without_the_password(tmp_path: Path) -> None:
    db = _url("postgresql+psycopg", "127.0.0.1", closed_port(), "sparkify")
    run = sparkify_run_at_debug("--db", db, cwd=tmp_path)
    _error_line_starting(run, "Cannot connect to postgresql+psycopg://awsuser:***@127.0.0.1:")
    run.assert_never_shows(DB_PASSWORD)
    run.assert_logged("sqlalchemy.pool.impl.QueuePool")


@pytest.mark.postgres
def test_a_load_into_postgresql_shows_and_logs_no_password(
    postgres_url: str, tmp_path: Path
) -> None:
    """The test server trusts local connections, so it takes the URL's password and loads."""
    db = sa.make_url(postgres_url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
    run = sparkify_run_at_debug("--db", db, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Loaded into postgresql+psycopg://postgres:***@" in " ".join(run.stdout.split())
    run.assert_never_shows(DB_PASSWORD)
    run.assert_logged("sqlalchemy.engine.Engine INFO INSERT INTO", "sqlalchemy.pool")

    missing = sa.make_url(db).set(database=f"{sa.make_url(db).database}_gone")
    failed = sparkify_run_at_debug(
        "--db", missing.render_as_string(hide_password=False), cwd=tmp_path
    )
    line = _error_line_starting(failed, "Cannot connect to postgresql+psycopg://postgres:***@")
    assert "does not exist" in line
    failed.assert_never_shows(DB_PASSWORD)


# The database password: Redshift ----------------------------------------------------------


def _dwh_cfg(folder: Path, host: str, port: int) -> Path:
    config = folder / "dwh.cfg"
    config.write_text(
        f"[CLUSTER]\nHOST='{host}'\nDB_NAME='dev'\nDB_USER='awsuser'\n"
        f"DB_PASSWORD='{DB_PASSWORD}'\nDB_PORT='{port}'\n\n{_S3_AND_ROLE}",
        encoding="utf-8",
    )
    return config


# A load Redshift could run (S3 sources, a role): what is left to fail is the connection.
_S3_AND_ROLE = (
    "[S3]\nSONG_DATA='s3://udacity-dend/song_data'\nLOG_DATA='s3://udacity-dend/log_data'\n"
    f"LOG_JSONPATH='s3://udacity-dend/log_json_path.json'\n\n[IAM_ROLE]\nARN='{ROLE}'\n"
)


def _s3_cfg(folder: Path) -> Path:
    config = folder / "s3.cfg"
    config.write_text(_S3_AND_ROLE, encoding="utf-8")
    return config


@pytest.mark.parametrize("given", ["--db", "--config", "SPARKIFY_DB_URL"])
@pytest.mark.parametrize("host", ["127.0.0.1", "sparkify-dwh.invalid"])
def test_an_unreachable_redshift_cluster_is_named_without_the_password(
    tmp_path: Path, given: str, host: str
) -> None:
    port = closed_port() if host == "127.0.0.1" else 5439
    db = _url("redshift+redshift_connector", host, port, "dev")
    args, env = {
        "--db": (["--db", db, "--config", str(_s3_cfg(tmp_path))], {}),
        "--config": (["--config", str(_dwh_cfg(tmp_path, host, port))], {}),
        "SPARKIFY_DB_URL": (["--config", str(_s3_cfg(tmp_path))], {"SPARKIFY_DB_URL": db}),
    }[given]
    run = sparkify_run_at_debug(*args, cwd=tmp_path, env=env)
    _error_line_starting(
        run, f"Cannot connect to redshift+redshift_connector://awsuser:***@{host}:{port}/dev"
    )
    assert f"Loading into redshift+redshift_connector://awsuser:***@{host}" in run.stderr
    run.assert_never_shows(DB_PASSWORD)
    # redshift_connector logged its connection arguments (the password among them, masked)
    run.assert_logged(
        "redshift_connector DEBUG User provided connection arguments", "'password': '***'"
    )
