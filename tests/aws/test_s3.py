"""S3 sources against moto's real server: which objects, manifests, reading ahead, errors, and
the whole pipeline loaded from a bucket ending exactly where loading from disk does."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import boto3
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from sparkify_dw import CopyOptions, StagingEvent, copy_into, load, sources
from sparkify_dw.errors import SourceError
from sparkify_dw.sources import SourceObject, list_objects, read_objects, read_text
from tests.aws.conftest import ACCESS_KEY, REGION, SECRET_KEY, Bucket, set_moto_auth
from tests.helpers import closed_port
from tests.oracle import actual_tables, expected_tables

pytestmark = pytest.mark.aws

# Which objects ---------------------------------------------------------------------------


def test_a_prefix_names_every_key_that_starts_with_it_in_key_order(s3: Bucket) -> None:
    for key, body in [
        ("log_data/2018/11/b.json", "{}\n{}"),
        ("log_data/2018/11/a.json", "{}"),
        ("log_data/", ""),  # folder markers, as the S3 console makes them
        ("log_data/2018/", ""),
        ("log_data_old/x.json", "{}"),
        ("log_data.bak", "{}"),
        ("log_json_path.json", "{}"),
        ("song_data/A/TR1.json", "{}"),
    ]:
        s3.put(key, body)
    found = [(o.url.removeprefix(s3.url()), o.size) for o in list_objects(s3.url("log_data"))]
    assert found == [
        ("log_data.bak", 2),
        ("log_data/2018/11/a.json", 2),
        ("log_data/2018/11/b.json", 5),
        ("log_data_old/x.json", 2),
    ]
    assert [o.url for o in list_objects(s3.url("log_data/"))] == [
        s3.url("log_data/2018/11/a.json"),
        s3.url("log_data/2018/11/b.json"),
    ]
    assert len(list_objects(f"s3://{s3.name}")) == 6  # the whole bucket, markers skipped


def test_no_objects_under_a_prefix_is_an_error_not_an_empty_load(s3: Bucket) -> None:
    s3.put("log_data/", "")
    with pytest.raises(SourceError, match=r"^No objects found at s3://.*/log_data$"):
        list_objects(s3.url("log_data"))
    with pytest.raises(SourceError, match="No objects found"):
        list_objects(s3.url("song_data/"))


def test_open_and_read_text_give_the_exact_object(
    s3: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.put("jsonpaths.json", '{"jsonpaths": ["$.a"]}')
    s3.put("jsonpaths.json.bak", "old")
    assert read_text(s3.url("jsonpaths.json")) == '{"jsonpaths": ["$.a"]}'
    with pytest.raises(SourceError, match=r"No such S3 object: s3://.*/jsonpaths$"):
        read_text(s3.url("jsonpaths"))

    big = bytes(range(256)) * 40
    s3.put("big.bin", big)
    monkeypatch.setattr(sources, "SMALL_OBJECT_BYTES", 1000)  # streamed, not held in memory
    (obj,) = list_objects(s3.url("big.bin"))
    with obj.open() as stream:
        assert stream.read(10) == big[:10]
        assert stream.read() == big[10:]


# Manifests -------------------------------------------------------------------------------


def _manifest(s3: Bucket, entries: list[dict[str, object]]) -> str:
    return s3.put("load.manifest", json.dumps({"entries": entries}))


def test_a_manifest_names_its_entries_in_order_and_twice_when_listed_twice(
    s3: Bucket, tmp_path: Path
) -> None:
    a, b = s3.put("data/a.json", "{}"), s3.put("data/b.json", "{}\n{}")
    location = _manifest(
        s3,
        [
            {"url": b, "mandatory": True, "meta": {"content_length": 5}},
            {"url": a},
            {"url": b, "mandatory": False},
        ],
    )
    objects = list_objects(location, manifest=True)
    assert [(o.url, o.size) for o in objects] == [(b, 5), (a, 2), (b, 5)]

    on_disk = tmp_path / "local.manifest"  # a manifest may also be a local file
    on_disk.write_text(json.dumps({"entries": [{"url": a, "mandatory": True}]}))
    assert [(o.url, o.size) for o in list_objects(str(on_disk), manifest=True)] == [(a, 2)]


def test_a_manifest_on_s3_may_list_only_s3_objects(s3: Bucket, tmp_path: Path) -> None:
    # Redshift reads a manifest's entries from S3; a local path in one would be read from this
    # machine and its content could land in load_errors.raw_line.
    a = s3.put("data/a.json", "{}")
    secret = tmp_path / "secret.json"
    secret.write_text('{"password": "S3cret"}')
    location = _manifest(s3, [{"url": a}, {"url": str(secret), "mandatory": False}])
    with pytest.raises(SourceError, match="may only list s3:// URLs") as raised:
        list_objects(location, manifest=True)
    assert str(secret) in str(raised.value)


def test_a_missing_mandatory_entry_fails_and_a_missing_optional_one_is_skipped(
    s3: Bucket,
) -> None:
    there, gone = s3.put("data/there.json", "{}"), s3.url("data/gone.json")
    optional = _manifest(s3, [{"url": gone, "mandatory": False}, {"url": there}])
    assert [o.url for o in list_objects(optional, manifest=True)] == [there]

    mandatory = _manifest(s3, [{"url": there}, {"url": gone, "mandatory": True}])
    with pytest.raises(SourceError, match=f"mandatory file {gone} does not exist"):
        list_objects(mandatory, manifest=True)

    nothing = _manifest(s3, [{"url": gone}])
    with pytest.raises(SourceError, match="No objects found: every file in manifest"):
        list_objects(nothing, manifest=True)
    with pytest.raises(SourceError, match=r"No such S3 object: .*/no\.manifest"):
        list_objects(s3.url("no.manifest"), manifest=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"entries": [', r"is not valid JSON: .* \(line 1\)"),
        ('[{"url": "s3://b/k"}]', 'must be a JSON object with an "entries" list'),
        ('{"files": []}', 'must be a JSON object with an "entries" list'),
        ('{"entries": []}', "lists no files"),
        ('{"entries": ["s3://b/k"]}', r"entry 1: expected an object"),
        ('{"entries": [{"url": "s3://b/k"}, {"mandatory": true}]}', 'entry 2: "url" must be'),
        ('{"entries": [{"url": "s3://b/k", "mandatory": "yes"}]}', '"mandatory" must be true'),
        ('{"entries": [{"url": "s3://b/k", "meta": {"content_length": "5"}}]}', "byte count"),
    ],
)
def test_a_malformed_manifest_is_a_clear_error(s3: Bucket, text: str, message: str) -> None:
    location = s3.put("bad.manifest", text)
    with pytest.raises(SourceError, match=rf"^Manifest {location}.*{message}"):
        list_objects(location, manifest=True)


# Reading ---------------------------------------------------------------------------------


def test_gzip_objects_copy_as_their_plain_files_do(
    s3: Bucket, sample_dir: Path, connection: Connection
) -> None:
    days = sorted((sample_dir / "log_data").rglob("*.json"))[:3]
    for day in days:
        s3.put(f"gz/{day.name}.gz", gzip.compress(day.read_bytes()))
    jsonpaths = s3.put("paths.json", (sample_dir / "log_json_path.json").read_bytes())
    result = copy_into(
        connection,
        StagingEvent.__table__,  # type: ignore[arg-type]
        s3.url("gz/"),
        CopyOptions(jsonpaths=jsonpaths, compression="gzip"),
    )
    lines = sum(1 for d in days for line in d.read_text().splitlines() if line.strip())
    assert (result.rows, result.rejects) == (lines, ())
    assert [f.url for f in result.files] == [s3.url(f"gz/{d.name}.gz") for d in days]


def test_read_objects_yields_everything_in_input_order_on_any_budget(
    s3: Bucket, tmp_path: Path
) -> None:
    bodies = {}
    for i in range(12):
        bodies[s3.put(f"parts/{i:02d}.json", f"{i}\n" * (i + 1))] = f"{i}\n" * (i + 1)
    local = tmp_path / "local.json"
    local.write_text("local")
    bodies[str(local.resolve())] = "local"
    parts, (first, *_) = list_objects(s3.url("parts/")), list_objects(str(local))
    objects = [*parts[::-1], first, parts[0], parts[0]]  # reversed, a local file, a repeat
    for budget in (0, 1, 10, 10_000):
        got = [(o, s.read().decode()) for o, s in read_objects(objects, max_prefetch_bytes=budget)]
        assert [o for o, _ in got] == objects
        assert [text for _, text in got] == [bodies[o.url] for o in objects]


def test_read_objects_holds_no_more_than_its_budget(
    s3: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(16):
        s3.put(f"parts/{i:02d}", bytes(1000))
    objects = list_objects(s3.url("parts/"))
    real_fetch, lock = sources._fetch, threading.Lock()
    held, peak = 0, 0

    def counting_fetch(obj: SourceObject) -> BinaryIO:
        nonlocal held, peak
        with lock:
            held += obj.size
            peak = max(peak, held)
        time.sleep(0.005)  # let the other workers start theirs
        return real_fetch(obj)

    monkeypatch.setattr(sources, "_fetch", counting_fetch)
    for budget, most in ((1, 1000), (3000, 3000), (100_000, 16_000)):
        held, peak = 0, 0
        for obj, stream in read_objects(objects, max_workers=4, max_prefetch_bytes=budget):
            assert stream.read() == bytes(1000)
            with lock:
                held -= obj.size
        assert peak <= most
    assert peak > 1000, "a generous budget should read ahead"


def test_read_objects_streams_large_objects_instead_of_holding_them(
    s3: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.put("mix/1-small", b"s" * 10)
    s3.put("mix/2-large", b"L" * 5000)
    s3.put("mix/3-small", b"t" * 10)
    monkeypatch.setattr(sources, "SMALL_OBJECT_BYTES", 100)
    fetched: list[str] = []
    real_fetch = sources._fetch

    def recording_fetch(obj: SourceObject) -> BinaryIO:
        fetched.append(obj.url)
        return real_fetch(obj)

    monkeypatch.setattr(sources, "_fetch", recording_fetch)
    got = [(o.url[-7:], s.read()) for o, s in read_objects(list_objects(s3.url("mix/")))]
    assert got == [("1-small", b"s" * 10), ("2-large", b"L" * 5000), ("3-small", b"t" * 10)]
    assert fetched == [s3.url("mix/1-small"), s3.url("mix/3-small")]


def test_a_key_gone_between_listing_and_reading_is_a_clear_error(s3: Bucket) -> None:
    s3.put("logs/a.json", "{}")
    s3.put("logs/b.json", "{}")
    objects = list_objects(s3.url("logs/"))
    s3.client.delete_object(Bucket=s3.name, Key="logs/b.json")
    reader = read_objects(objects)
    assert next(reader)[1].read() == b"{}"
    with pytest.raises(
        SourceError, match=r"^s3://.*/logs/b\.json was listed but no longer exists$"
    ):
        next(reader)
    with pytest.raises(SourceError, match="was listed but no longer exists"):
        objects[1].open()


# Errors ----------------------------------------------------------------------------------


def test_an_unreachable_endpoint_fails_fast_and_clearly(
    s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    sources.reset_s3_client()
    start = time.monotonic()
    with pytest.raises(SourceError, match=f"^Cannot reach the S3 endpoint {endpoint} ") as err:
        list_objects("s3://sparkify-any/log_data")
    assert time.monotonic() - start < 5
    assert "\n" not in str(err.value)


def test_no_credentials_anywhere_is_a_clear_error(
    s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    sources.reset_s3_client()
    with pytest.raises(SourceError, match="No usable AWS credentials to read s3://"):
        list_objects("s3://sparkify-any/log_data")
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    sources.reset_s3_client()
    with pytest.raises(SourceError, match=r"profile \(no-such-profile\) could not be found"):
        list_objects("s3://sparkify-any/log_data")


def test_a_bucket_that_does_not_exist_is_named(s3_env: str) -> None:
    with pytest.raises(SourceError, match=r"^S3 bucket sparkify-nowhere does not exist"):
        list_objects("s3://sparkify-nowhere/log_data")
    with pytest.raises(SourceError, match="Malformed S3 URL"):
        list_objects("s3:///log_data")
    with pytest.raises(SourceError, match=r'Invalid S3 location .*: Invalid bucket name "a b"$'):
        list_objects("s3://a b/log_data")
    with pytest.raises(SourceError, match="names a bucket, not an object"):
        read_text("s3://sparkify-any/")


@pytest.fixture
def iam_keys(s3: Bucket) -> Iterator[dict[str, tuple[str, str]]]:
    """IAM users on the server, then signature and policy checks on; off again afterwards."""
    iam = boto3.client(
        "iam",
        endpoint_url=s3.endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    keys = {}
    for user, actions in (("reader", ["s3:*"]), ("outsider", ["sqs:*"])):
        iam.create_user(UserName=f"{user}-{s3.name}")
        key = iam.create_access_key(UserName=f"{user}-{s3.name}")["AccessKey"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
        iam.put_user_policy(
            UserName=f"{user}-{s3.name}", PolicyName="p", PolicyDocument=json.dumps(policy)
        )
        keys[user] = (key["AccessKeyId"], key["SecretAccessKey"])
    set_moto_auth(s3.endpoint, enabled=True)
    try:
        yield keys
    finally:
        set_moto_auth(s3.endpoint, enabled=False)


def _with_keys(monkeypatch: pytest.MonkeyPatch, key_id: str, secret: str) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    sources.reset_s3_client()


def test_credentials_the_server_refuses_are_a_clear_error_without_the_secret(
    s3: Bucket, iam_keys: dict[str, tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    key_id, secret = iam_keys["reader"]
    _with_keys(monkeypatch, key_id, secret)
    location = s3.url("log_data")
    with pytest.raises(SourceError, match="No objects found"):  # the right keys get through
        list_objects(location)

    wrong_secret = f"{secret[:-4]}XXXX"
    cases = [
        (key_id, wrong_secret, r"S3 refused the AWS credentials \(SignatureDoesNotMatch\)"),
        ("AKIANOSUCHKEY0000000", secret, r"S3 refused the AWS credentials \(InvalidAccessKeyId\)"),
        (*iam_keys["outsider"], "Access denied to s3://"),
    ]
    for case_key, case_secret, message in cases:
        _with_keys(monkeypatch, case_key, case_secret)
        with pytest.raises(SourceError, match=message) as err:
            list_objects(location)
        text = str(err.value)
        assert case_secret not in text
        assert secret not in text
        assert wrong_secret not in text
        assert case_key not in text
        assert "\n" not in text


def test_the_users_retry_settings_win_over_the_librarys(
    s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    retries = sources.s3_client().meta.config.retries  # type: ignore[attr-defined]
    assert retries == {"mode": "standard", "total_max_attempts": 3}
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "7")
    sources.reset_s3_client()
    retries = sources.s3_client().meta.config.retries  # type: ignore[attr-defined]
    assert retries == {"mode": "standard", "total_max_attempts": 7}
    assert sources.s3_client() is sources.s3_client()


# The whole pipeline from S3 --------------------------------------------------------------


def _staging(connection: Connection) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: sorted(
            (tuple(r) for r in connection.execute(sa.text(f"SELECT * FROM {table}"))), key=repr
        )
        for table in ("staging_events", "staging_songs")
    }


def _loads_from_s3_as_from_disk(engine: Engine, bucket: Bucket, folder: Path) -> None:
    report = load(
        engine,
        song_data=bucket.url("song_data"),
        log_data=bucket.url("log_data"),
        log_jsonpath=bucket.url("log_json_path.json"),
    )
    assert all(f.url.startswith(bucket.url()) for c in report.copies for f in c.files)
    with engine.connect() as connection:
        from_s3, staged_from_s3 = actual_tables(connection), _staging(connection)
    assert from_s3 == expected_tables(folder / "song_data", folder / "log_data")

    load(
        engine,
        song_data=str(folder / "song_data"),
        log_data=str(folder / "log_data"),
        log_jsonpath=str(folder / "log_json_path.json"),
    )
    with engine.connect() as connection:
        assert _staging(connection) == staged_from_s3  # the same records, value for value
        assert actual_tables(connection) == from_s3  # and the disk load added nothing


def test_the_sample_loads_from_s3_as_from_disk(
    engine: Engine, sample_bucket: Bucket, sample_dir: Path, s3_env: str
) -> None:
    _loads_from_s3_as_from_disk(engine, sample_bucket, sample_dir)


@pytest.mark.slow
@pytest.mark.reference
def test_the_reference_data_loads_from_s3_as_from_disk(
    engine: Engine, reference_bucket: Bucket, reference_dir: Path, s3_env: str
) -> None:
    _loads_from_s3_as_from_disk(engine, reference_bucket, reference_dir)


def test_an_s3_prefix_with_no_object_is_refused_before_a_duckdb_file_is_made(
    s3: Bucket, tmp_path: Path, sample_dir: Path
) -> None:
    s3.put("log_data/", "")  # a console "folder" only: no object to load
    db = tmp_path / "w.duckdb"
    engine = sa.create_engine(f"duckdb:///{db}")
    try:
        with pytest.raises(SourceError, match=f"No objects found at {s3.url('log_data')}"):
            load(
                engine,
                song_data=str(sample_dir / "song_data"),
                log_data=s3.url("log_data"),
                log_jsonpath=str(sample_dir / "log_json_path.json"),
            )
    finally:
        engine.dispose()
    assert not db.exists()
