"""AWS for the tests of tests/aws: moto's real server on 127.0.0.1, and a fresh bucket per test.

Each xdist worker starts its own server (session scope). A test that asks for `s3` gets an
environment that boto3 resolves to that server (AWS_ENDPOINT_URL, dummy keys, us-west-2) and
to nothing on the machine (no profile, no config files, no instance metadata).
"""

from __future__ import annotations

import json
import logging
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import boto3
import pytest

from sparkify_dw import sources

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REGION: Final = "us-west-2"
ACCESS_KEY = "AKIATESTSPARKIFY0000"
SECRET_KEY = "sparkify-test-secret-3f9c1d2e7b"

# Settings that would route boto3 elsewhere than the test server, or change its behaviour.
FOREIGN_ENV = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL_S3",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_RETRY_MODE",
    "AWS_MAX_ATTEMPTS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_REGION",
]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's server mode in a thread of this worker, on a free port of 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request
    _cache_moto_module_list()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _cache_moto_module_list() -> None:
    """moto's dispatcher lists its own package folder (~180 stat calls) on every request, under
    a lock; the list never changes while the server runs, and caching it takes ~30% off each
    request. The reference data is ~2,000 requests per load."""
    import moto.backends

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules


def admin_client(endpoint: str) -> S3Client:
    """A client for setting the server up, independent of the environment under test."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


@dataclass(frozen=True)
class Bucket:
    name: str
    client: S3Client
    endpoint: str

    def url(self, key: str = "") -> str:
        return f"s3://{self.name}/{key}"

    def put(self, key: str, body: bytes | str) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.client.put_object(Bucket=self.name, Key=key, Body=data)
        return self.url(key)

    def upload(self, folder: Path, prefix: str) -> str:
        """Every file below `folder` to `prefix/…` over HTTP, on a thread pool."""
        files = _files(folder, prefix)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda item: self.put(item[0], item[1].read_bytes()), files))
        return self.url(prefix)

    def seed(self, folder: Path, prefix: str) -> str:
        """The same as upload, written straight into the store of this process's server.

        Over HTTP, moto serves ~200 requests a second here (a new connection and thread per
        request, sharing this process's GIL), so 1,943 files take 10-15 s; this takes 0.2 s.
        Only the setup takes the shortcut: what the tests read still goes over HTTP.
        """
        try:
            from moto.core.models import DEFAULT_ACCOUNT_ID
            from moto.s3.models import s3_backends

            store = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
            for key, path in _files(folder, prefix):
                store.put_object(self.name, key, path.read_bytes())
        except (ImportError, KeyError, AttributeError, TypeError):  # another moto: HTTP
            return self.upload(folder, prefix)
        return self.url(prefix)


def _files(folder: Path, prefix: str) -> list[tuple[str, Path]]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return [(f"{prefix}/{p.relative_to(folder).as_posix()}", p) for p in files]


def new_bucket(endpoint: str) -> Bucket:
    client = admin_client(endpoint)
    name = f"sparkify-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return Bucket(name, client, endpoint)


@pytest.fixture
def s3_env(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """boto3's environment pointed at the test server; the library's cached client forgotten."""
    nowhere = tmp_path_factory.mktemp("aws") / "absent"
    for name in FOREIGN_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(nowhere))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    sources.reset_s3_client()
    yield moto_endpoint
    sources.reset_s3_client()


@pytest.fixture
def s3(s3_env: str) -> Bucket:
    """A fresh, empty bucket on the test server, with boto3's environment pointing there."""
    return new_bucket(s3_env)


@pytest.fixture(scope="session")
def sample_bucket(moto_endpoint: str, sample_dir: Path) -> Bucket:
    """The bundled sample, uploaded once per worker (song_data/, log_data/, the JSONPaths)."""
    return _upload_dataset(moto_endpoint, sample_dir, seed=False)


@pytest.fixture(scope="session")
def reference_bucket(moto_endpoint: str, reference_dir: Path) -> Bucket:
    """The real Sparkify data (1,943 songs, 30 days of logs), seeded once per worker."""
    return _upload_dataset(moto_endpoint, reference_dir, seed=True)


def _upload_dataset(endpoint: str, folder: Path, *, seed: bool) -> Bucket:
    bucket = new_bucket(endpoint)
    put = bucket.seed if seed else bucket.upload
    put(folder / "song_data", "song_data")
    put(folder / "log_data", "log_data")
    bucket.put("log_json_path.json", (folder / "log_json_path.json").read_bytes())
    return bucket


def set_moto_auth(endpoint: str, enabled: bool) -> None:
    """Make the server check every request's signature and IAM policy (or stop checking)."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=b"0" if enabled else b"inf",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response)["status"] == "ok"
