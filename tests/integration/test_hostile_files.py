"""Files a COPY must survive: each problem is one reject or one clear error, never a crash, a
hang, or memory that grows with a line's length."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

from sparkify_dw import CopyOptions, StagingEvent, copy_into
from sparkify_dw.errors import SourceError

EVENTS = StagingEvent.__table__
JSONPATHS = str(Path(__file__).resolve().parents[2] / "sparkify_dw/sample_data/log_json_path.json")
HUGE = 40 * 1024 * 1024  # ten times Redshift's 4 MiB limit on one JSON record


def _good(ts: int) -> str:
    return json.dumps({"ts": ts, "artist": "fine", "page": "Home", "sessionId": 1})


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_a_line_over_the_record_limit_is_one_reject_and_is_never_held_whole(
    connection: Connection, tmp_path: Path, compressed: bool
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    body = f'{_good(1)}\n{{"artist": "{"x" * HUGE}"}}\n{_good(2)}\n'.encode()
    if compressed:
        (logs / "a.json.gz").write_bytes(gzip.compress(body, compresslevel=1))
    else:
        (logs / "a.json").write_bytes(body)
    del body
    options = CopyOptions(
        jsonpaths=JSONPATHS, max_error=1, compression="gzip" if compressed else None
    )
    tracemalloc.start()
    try:
        with connection.begin():
            result = copy_into(connection, EVENTS, str(logs), options)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.rows == 2
    [reject] = result.rejects
    assert (reject.line_number, reject.err_code) == (2, 1216)
    assert "record larger than 4194304 bytes" in reject.err_reason
    assert len(reject.raw_line) == 1024
    if compressed:  # streamed: what Python held stays near the limit, not the line's size
        assert peak < HUGE / 2, f"peak {peak:,} bytes"


def test_a_corrupt_gzip_is_one_error_naming_the_file(
    connection: Connection, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    data = bytearray(gzip.compress("".join(f"{_good(n)}\n" for n in range(5000)).encode()))
    for i in range(200, 400):
        data[i] ^= 0xFF  # deflate data that does not decode
    (logs / "a.json.gz").write_bytes(bytes(data))
    with pytest.raises(SourceError, match=r"Cannot read .*a\.json\.gz as gzip"), connection.begin():
        copy_into(
            connection, EVENTS, str(logs), CopyOptions(jsonpaths=JSONPATHS, compression="gzip")
        )
