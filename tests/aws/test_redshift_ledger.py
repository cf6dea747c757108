"""The file ledger on Redshift: with a manifest prefix, a load lists the S3 sources (moto's
server on loopback), COPYs exactly the objects the ledger does not hold through a manifest it
writes and removes, and records them; what it sends is captured by the fake redshift_connector
(tests/redshift_fake.py) and must parse as Redshift SQL (sqlfluff's grammar) and pass the
project's Redshift rules. Without a manifest prefix the COPY reads the location as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from sparkify_dw.config import Settings
from sparkify_dw.db import make_engine
from sparkify_dw.loader import load_with
from sparkify_dw.script import run_script
from tests.aws.conftest import Bucket
from tests.helpers import parse_redshift
from tests.redshift_fake import FakeRedshift, filled_in, split_statements

pytestmark = pytest.mark.aws

URL = "redshift+redshift_connector://awsuser:Sup3rS3cret@cluster.example:5439/dev"
ROLE = "arn:aws:iam::123456789012:role/dwhRole"


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def _fake(engines: list[Engine], **options: Any) -> tuple[FakeRedshift, Engine]:
    fake = FakeRedshift(**options)
    engine = make_engine(URL, module=fake)
    engines.append(engine)
    return fake, engine


def _settings(bucket: Bucket, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "db_url": URL,
        "song_data": bucket.url("song_data"),
        "log_data": bucket.url("log_data"),
        "log_jsonpath": bucket.url("log_json_path.json"),
        "iam_role_arn": ROLE,
        "region": "us-west-2",
        "manifest_prefix": bucket.url("manifests/"),
    }
    return Settings(**{**values, **changes})


@pytest.fixture
def sources(s3: Bucket, sample_dir: Path) -> Bucket:
    s3.seed(sample_dir / "song_data", "song_data")
    s3.seed(sample_dir / "log_data", "log_data")
    s3.put("log_json_path.json", (sample_dir / "log_json_path.json").read_bytes())
    return s3


def _keys(bucket: Bucket, prefix: str) -> list[str]:
    listed = bucket.client.list_objects_v2(Bucket=bucket.name, Prefix=prefix)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_a_redshift_load_copies_a_manifest_of_the_new_objects_and_records_them(
    sources: Bucket, engines: list[Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    written: dict[str, Any] = {}
    import sparkify_dw.copy.redshift as redshift_copy

    real_write = redshift_copy.write_manifest

    def keep(url: str, objects: Any) -> None:
        real_write(url, objects)
        bucket, key = url.removeprefix("s3://").split("/", 1)
        body = sources.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        written[url] = json.loads(body)

    monkeypatch.setattr(redshift_copy, "write_manifest", keep)
    settings = _settings(sources)
    fake, engine = _fake(engines)
    report = load_with(engine, settings.stage_options())

    songs = _keys(sources, "song_data/")
    logs = _keys(sources, "log_data/")
    assert [(s.new, s.skipped) for s in report.sources] == [(len(songs), 0), (len(logs), 0)]
    manifests = {
        sources.url("manifests/staging_songs.manifest"): songs,
        sources.url("manifests/staging_events.manifest"): logs,
    }
    for url, keys in manifests.items():
        entries = written[url]["entries"]
        assert [e["url"] for e in entries] == [sources.url(k) for k in keys]
        assert all(e["mandatory"] for e in entries)
    assert _keys(sources, "manifests/") == []  # removed after the COPY

    sent = [filled_in(call).strip() for call in fake.sent]
    copies = [sql for sql in sent if sql.upper().startswith("COPY ")]
    assert len(copies) == 2
    for copy, url in zip(copies, manifests, strict=True):
        assert f"FROM '{url}'" in copy
        assert " MANIFEST" in copy.upper()
    # the ledger's writes: Redshift SQL, every listed object once, with its ETag
    inserts = [sql for sql in sent if sql.startswith("INSERT INTO loaded_files")]
    assert inserts
    recorded = " ".join(inserts)
    for key in songs + logs:
        assert f"'{sources.url(key)}'" in recorded
    assert "'etag:" in recorded
    for sql in inserts:
        parse_redshift(sql)

    # the script prints the same COPY from the manifest
    printed = split_statements(run_script("redshift", settings))
    for copy in copies:
        assert copy in printed


def test_a_second_redshift_load_over_recorded_objects_copies_nothing(
    sources: Bucket, engines: list[Engine]
) -> None:
    settings = _settings(sources)
    listed = sources.client.list_objects_v2(Bucket=sources.name)["Contents"]
    ledger = [
        (sources.url(item["Key"]), item["Size"], "etag:" + item["ETag"].strip('"'), None)
        for item in listed
    ]
    fake, engine = _fake(engines, ledger=ledger)
    report = load_with(engine, settings.stage_options())
    assert [s.new for s in report.sources] == [0, 0]
    assert report.files_skipped == len(listed) - 1  # all but the JSONPaths file
    sent = [filled_in(call).strip() for call in fake.sent]
    assert not [sql for sql in sent if sql.upper().startswith("COPY ")]
    assert not [sql for sql in sent if sql.startswith("INSERT INTO loaded_files")]


def test_without_a_manifest_prefix_redshift_reads_the_whole_location(
    sources: Bucket, engines: list[Engine]
) -> None:
    settings = _settings(sources, manifest_prefix=None)
    fake, engine = _fake(engines)
    report = load_with(engine, settings.stage_options())
    assert report.sources == ()
    sent = [filled_in(call).strip() for call in fake.sent]
    copies = [sql for sql in sent if sql.upper().startswith("COPY ")]
    assert f"FROM '{sources.url('song_data')}'" in copies[0]
    assert not [sql for sql in sent if "loaded_files" in sql and sql.startswith("INSERT")]
