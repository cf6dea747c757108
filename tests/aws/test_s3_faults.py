"""A connection that breaks in the middle of an object is one clear error, never a traceback.

A small HTTP server on loopback plays S3: it lists one object and, asked for it, promises its
whole length and closes the connection after part of it. botocore's stream wrapper must stay
between the library and the socket, so what the user sees is one SourceError naming the object,
both for an object read whole (up to 16 MiB) and for one streamed, and through a whole COPY.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sparkify_dw import (
    CopyOptions,
    SourceError,
    StagingEvent,
    copy_into,
    make_engine,
    sources,
    upgrade,
)

LINE = b'{"ts": 1541106106796, "sessionId": 1, "page": "Home", "artist": "x"}\n'


class _CutS3(BaseHTTPRequestHandler):
    size = 100_000  # what the object is said to hold; a tenth of it is sent

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if "list-type=2" in self.path:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                "<Name>cut</Name><Prefix>logs/</Prefix><KeyCount>1</KeyCount>"
                "<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
                f"<Contents><Key>logs/a.json</Key><Size>{self.size}</Size>"
                "<LastModified>2026-11-30T00:00:00.000Z</LastModified>"
                '<ETag>"0"</ETag><StorageClass>STANDARD</StorageClass></Contents>'
                "</ListBucketResult>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(self.size))
        self.end_headers()
        sent = LINE * (self.size // 10 // len(LINE))
        self.wfile.write(sent)
        self.wfile.flush()
        self.connection.shutdown(2)  # the connection drops mid-object
        self.close_connection = True

    do_HEAD = do_GET


@pytest.fixture
def cut_s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[type[_CutS3]]:
    handler = type("Handler", (_CutS3,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    nowhere = tmp_path / "absent"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(nowhere))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore retries a broken GET: once is enough
    sources.reset_s3_client()
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()
        sources.reset_s3_client()


def _read_all(obj: sources.SourceObject) -> None:
    with obj.open() as stream:
        while stream.read(1 << 20):
            pass


@pytest.mark.parametrize("size", [100_000, 40 * 1024 * 1024], ids=["whole", "streamed"])
def test_a_connection_cut_mid_object_is_one_source_error(cut_s3: type[_CutS3], size: int) -> None:
    cut_s3.size = size
    obj = sources.SourceObject("s3://cut/logs/a.json", size)
    with pytest.raises(SourceError) as info:
        _read_all(obj)
    message = str(info.value)
    assert "s3://cut/logs/a.json" in message
    assert "\n" not in message
    assert "urllib3" not in message


def test_a_copy_whose_object_is_cut_fails_with_one_line_and_loads_nothing(
    cut_s3: type[_CutS3], tmp_path: Path, sample_dir: Path
) -> None:
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    try:
        with engine.connect() as connection:
            with connection.begin():
                upgrade(connection)
            with (
                pytest.raises(SourceError, match=r"s3://cut/logs/a\.json"),
                connection.begin(),
            ):
                copy_into(
                    connection,
                    StagingEvent.__table__,
                    "s3://cut/logs/",
                    CopyOptions(jsonpaths=str(sample_dir / "log_json_path.json")),
                )
            with connection.begin():
                assert (
                    connection.exec_driver_sql("SELECT count(*) FROM staging_events").scalar() == 0
                )
    finally:
        engine.dispose()
