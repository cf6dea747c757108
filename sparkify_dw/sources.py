"""Where the source files are: list them, read them (ahead, in order). No SQL here.

A location is a local path or an `s3://bucket/prefix`; which objects it names follows Redshift:
- `s3://bucket/prefix`: every object whose key starts with the prefix (`log_data` also names
  `log_data_old/x.json`), in key order; zero-byte "folder" keys ending in `/` are skipped;
- an existing local folder: every file below it, recursively (hidden files such as .DS_Store
  skipped); an existing local file: that file;
- any other local path: the prefix rule, every file whose path starts with it
  (`…/log_data/2018/11/2018-11-0` names the first nine days);
- with `manifest=True`, the location is a Redshift manifest (`{"entries": [{"url": …,
  "mandatory": true}]}`, local or on S3) and names its entries in its order: a file listed
  twice is read twice, a missing mandatory entry is an error, a missing optional one skipped.
Naming no object at all is an error, never an empty load. `read_objects` reads a list of
objects ahead on a thread pool, in order, holding at most a byte budget in memory.

S3 goes through boto3 with its own credential chain, region and endpoint settings
(AWS_PROFILE, AWS_ENDPOINT_URL, …), one client per process. Every failure is a SourceError
with one line that names the object and never carries a credential. botocore's DEBUG wire trace
logs the session token in clear (the x-amz-security-token header): making the client masks it
there (`aws.mask_session_tokens`); botocore never logs the secret key itself.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import stat
import threading
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sparkify_dw.aws import botocore_errors, client_config, error_code
from sparkify_dw.aws import mask_session_tokens as mask_session_tokens
from sparkify_dw.errors import SourceError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from botocore.exceptions import ClientError
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client

MiB = 1024 * 1024
SMALL_OBJECT_BYTES = 16 * MiB  # read whole into memory; larger objects are streamed
PREFETCH_BYTES = 64 * MiB  # read_objects' default budget for objects read ahead
MAX_ATTEMPTS = 3  # in all, when the user configures no retries of their own
POOL_CONNECTIONS = 32

# S3 error codes (ClientError) by what they mean to the user.
_REFUSED = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "TokenRefreshRequired",
    "InvalidClientTokenId",
}
_DENIED = {"AccessDenied", "403", "AllAccessDisabled", "AccountProblem"}
_MISSING = {"NoSuchKey", "404", "NotFound"}


@dataclass(frozen=True)
class SourceObject:
    """One object to load: `url` (a local path or s3://bucket/key) names it in reports.

    `modified` (UTC, naive) and, on S3, `etag` come from the listing, for the file ledger
    (ledger.py): a local file's content hash is computed there, only when it needs one."""

    url: str
    size: int
    modified: dt.datetime | None = None
    etag: str | None = None

    def open(self) -> BinaryIO:
        """The content: objects up to SMALL_OBJECT_BYTES from S3 in memory, else a stream."""
        if is_s3(self.url):
            return _open_s3(self.url)
        try:
            return open(self.url, "rb")
        except OSError as exc:
            raise SourceError(f"Cannot read {self.url}: {exc.strerror}") from None


def is_s3(location: str) -> bool:
    return location.startswith("s3://")


def list_objects(location: str, *, manifest: bool = False) -> list[SourceObject]:
    """The objects a location (or the manifest at it) names; a clear error when there are none."""
    if manifest:
        return _manifest_objects(location)
    objects = _list_s3(location) if is_s3(location) else _list_local(location)
    if not objects:
        kind = "objects" if is_s3(location) else "files"
        raise SourceError(f"No {kind} found at {location}")
    return objects


def text_object(location: str) -> SourceObject:
    """The one object a small text file's location names: on S3 and on disk the exact key or
    file, never a prefix (`log_json_path.json` must not pick up `log_json_path.json.bak`)."""
    if is_s3(location):
        return SourceObject(url=location, size=0)
    found = _stat_local(location)
    if found is None:
        raise SourceError(f"No such file: {location}")
    return found


def read_text(location: str) -> str:
    """A small text file (a JSONPaths file, a manifest) in full."""
    if is_s3(location):
        stream = _open_s3(location, gone=f"No such S3 object: {location}")
    else:
        stream = text_object(location).open()
    with stream:
        try:
            return stream.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(f"{location} is not UTF-8 text: {exc.reason}") from None


def read_objects(
    objects: Iterable[SourceObject],
    *,
    max_workers: int = 8,
    max_prefetch_bytes: int = PREFETCH_BYTES,
) -> Generator[tuple[SourceObject, BinaryIO], None, None]:
    """Each object with its content, in the input order, read ahead on `max_workers` threads.

    Objects up to SMALL_OBJECT_BYTES are read ahead into memory while what is held stays within
    `max_prefetch_bytes` (one object at a time when a single one is larger); bigger objects are
    opened as streams when their turn comes. Close each stream you are given.
    """
    if max_workers < 1 or max_prefetch_bytes < 0:
        raise ValueError("max_workers must be at least 1 and max_prefetch_bytes not negative")
    with ThreadPoolExecutor(max_workers, thread_name_prefix="sparkify-read") as pool:
        ahead = _ReadAhead(iter(objects), pool, 4 * max_workers, max_prefetch_bytes)
        try:
            yield from ahead
        finally:
            ahead.cancel()


class _ReadAhead:
    """The queue behind read_objects: futures in input order, within a byte budget."""

    def __init__(
        self,
        objects: Iterator[SourceObject],
        pool: ThreadPoolExecutor,
        max_ahead: int,
        budget: int,
    ) -> None:
        self.objects, self.pool, self.max_ahead, self.budget = objects, pool, max_ahead, budget
        self.upcoming = next(objects, None)
        self.queue: deque[tuple[SourceObject, Future[BinaryIO] | None]] = deque()
        self.held = 0  # bytes read ahead (or being read) and not yet handed back

    def __iter__(self) -> Iterator[tuple[SourceObject, BinaryIO]]:
        while self._fill():
            obj, future = self.queue.popleft()
            yield obj, (obj.open() if future is None else future.result())
            if future is not None:
                self.held -= obj.size  # the caller is done with it

    def _fill(self) -> bool:
        while self.upcoming is not None and len(self.queue) < self.max_ahead:
            obj = self.upcoming
            if obj.size > SMALL_OBJECT_BYTES:
                self.queue.append((obj, None))
            elif self.held + obj.size <= self.budget or not self.queue:
                self.held += obj.size
                self.queue.append((obj, self.pool.submit(_fetch, obj)))
            else:
                break
            self.upcoming = next(self.objects, None)
        return bool(self.queue)

    def cancel(self) -> None:
        for _, future in self.queue:
            if future is not None:
                future.cancel()


def _fetch(obj: SourceObject) -> BinaryIO:
    stream = obj.open()
    if isinstance(stream, io.BytesIO) or is_s3(obj.url):
        return stream
    with stream:
        try:
            return io.BytesIO(stream.read())
        except OSError as exc:
            raise SourceError(f"Cannot read {obj.url}: {exc.strerror}") from None


# Local files ------------------------------------------------------------------------------


def _list_local(location: str) -> list[SourceObject]:
    # Resolved once, not per file (a tenth of staging 20,000 small files went to resolve()).
    try:
        path = Path(location).expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop: RuntimeError before Python 3.13
        raise SourceError(f"Cannot resolve {location}: {exc}") from None
    if path.is_file():
        files = [str(path)]
    elif path.is_dir():
        files = _walk(str(path))
    else:
        parent = path.parent
        if not parent.is_dir():
            raise SourceError(f"No such file or folder: {location}")
        files = [f for f in _walk(str(parent)) if f.startswith(str(path))]
    return [_regular_file(f) for f in files]


def _regular_file(path: str) -> SourceObject:
    """The regular file at `path` (through symlinks), or one clear error naming what it is.

    A FIFO would hang the load waiting for a writer, a socket or device cannot be read as data,
    and a dangling or looping link names nothing: each is an error, never a silent skip.
    """
    try:
        info = os.stat(path)  # follows symlinks
    except OSError as exc:
        what = "a dangling or looping link" if os.path.islink(path) else "unreadable"
        raise SourceError(f"Cannot read {path}: {what} ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(f"Cannot read {path}: {_kind(info.st_mode)}, not a regular file")
    return SourceObject(url=path, size=info.st_size, modified=_utc(info.st_mtime_ns))


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a folder" if stat.S_ISDIR(mode) else "a special file"


def _walk(folder: str) -> list[str]:
    """The files under `folder` (not hidden ones), in path order: by their parts, as Paths sort
    (strings, not Paths: 20,000 Paths cost a tenth of a second to make and sort)."""
    files: list[str] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        files.extend(os.path.join(root, name) for name in names if not name.startswith("."))
    return sorted(files, key=lambda f: f.split(os.sep))


def _stat_local(url: str) -> SourceObject | None:
    path = Path(url).expanduser()
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_dir():
        raise SourceError(f"{url} is a folder, not a file")
    found = _regular_file(str(path))
    return SourceObject(url=str(path.resolve()), size=found.size, modified=found.modified)


def _utc(mtime_ns: int) -> dt.datetime:
    """A file's modification time as a naive UTC datetime (microseconds: what the ledger's
    TIMESTAMP column keeps on every engine)."""
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=mtime_ns // 1000)


def _naive_utc(value: object) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _etag(value: Any) -> str | None:
    """S3's ETag without its quotes (`"9b2cf535f27731c974343645a3985328"`)."""
    return str(value).strip('"') if value else None


# Manifests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    url: str
    mandatory: bool


def _manifest_objects(location: str) -> list[SourceObject]:
    entries = _parse_manifest(read_text(location), location)
    if is_s3(location):
        # As Redshift: a manifest on S3 names S3 objects. A local path in it would otherwise be
        # read from this machine, and its content could end up in load_errors.raw_line.
        for entry in entries:
            if not is_s3(entry.url):
                raise SourceError(
                    f"Manifest {location} lists {entry.url!r}: a manifest on S3 may only list "
                    "s3:// URLs"
                )
    urls = list(dict.fromkeys(e.url for e in entries))
    with ThreadPoolExecutor(min(16, len(urls)), thread_name_prefix="sparkify-stat") as pool:
        found = dict(zip(urls, pool.map(_stat, urls), strict=True))
    objects = []
    for entry in entries:
        obj = found[entry.url]
        if obj is None and entry.mandatory:
            raise SourceError(f"Manifest {location}: mandatory file {entry.url} does not exist")
        if obj is not None:
            objects.append(obj)
    if not objects:
        raise SourceError(f"No objects found: every file in manifest {location} is missing")
    return objects


def _stat(url: str) -> SourceObject | None:
    """The object at exactly `url`, or None when there is none."""
    if not is_s3(url):
        return _stat_local(url)
    bucket, key = _split_key(url)
    try:
        with _s3_errors(url):
            head = s3_client().head_object(Bucket=bucket, Key=key)
    except _Missing:
        return None
    return SourceObject(
        url=url,
        size=head["ContentLength"],
        modified=_naive_utc(head.get("LastModified")),
        etag=_etag(head.get("ETag")),
    )


def _parse_manifest(text: str, location: str) -> list[_Entry]:
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"Manifest {location} is not valid JSON: {exc.msg} (line {exc.lineno})"
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("entries"), list):
        raise SourceError(f'Manifest {location} must be a JSON object with an "entries" list')
    if not manifest["entries"]:
        raise SourceError(f"Manifest {location} lists no files")
    return [_entry(item, n, location) for n, item in enumerate(manifest["entries"], start=1)]


def _entry(item: Any, number: int, location: str) -> _Entry:
    where = f"Manifest {location}, entry {number}"
    if not isinstance(item, dict):
        raise SourceError(f'{where}: expected an object like {{"url": "s3://…"}}')
    url, mandatory, meta = item.get("url"), item.get("mandatory", False), item.get("meta", {})
    if not isinstance(url, str) or not url:
        raise SourceError(f'{where}: "url" must be a non-empty string')
    if not isinstance(mandatory, bool):
        raise SourceError(f'{where}: "mandatory" must be true or false')
    length = meta.get("content_length", 0) if isinstance(meta, dict) else None
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        raise SourceError(f'{where}: "meta" must be an object with a byte count "content_length"')
    return _Entry(url, mandatory)


# S3 ---------------------------------------------------------------------------------------

_client_lock = threading.Lock()
_client: S3Client | None = None


def s3_client() -> S3Client:
    """The process's S3 client, made on first use from the environment boto3 reads."""
    global _client
    with _client_lock:
        if _client is None:
            _client = _new_client()
        return _client


def reset_s3_client() -> None:
    """Forget the client, so the next use reads the environment again (tests, new profile)."""
    global _client
    with _client_lock:
        _client = None


def _new_client() -> S3Client:
    import boto3
    import botocore.session

    mask_session_tokens()
    with _s3_errors("S3"):
        core = botocore.session.get_session()
        config = client_config(
            core, max_attempts=MAX_ATTEMPTS, max_pool_connections=POOL_CONNECTIONS
        )
        try:
            return boto3.session.Session(botocore_session=core).client("s3", config=config)
        except ValueError as exc:  # e.g. a malformed AWS_ENDPOINT_URL
            raise SourceError(f"Cannot set up the S3 client: {exc}") from None


def _split(url: str) -> tuple[str, str]:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise SourceError(f"Malformed S3 URL {url!r}: expected s3://bucket/key")
    return bucket, key


def _split_key(url: str) -> tuple[str, str]:
    bucket, key = _split(url)
    if not key:
        raise SourceError(f"{url} names a bucket, not an object: expected s3://bucket/key")
    return bucket, key


def bucket_of(url: str) -> str:
    """The bucket of an s3:// URL."""
    return _split(url)[0]


def bucket_region(bucket: str) -> str:
    """The region a bucket is in, from HeadBucket's `x-amz-bucket-region` header, which S3
    sends "whether access to the bucket is authorized or not" (AWS recommends HeadBucket over
    GetBucketLocation for this: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html).
    A SourceError (one line, no credential) when S3 cannot be asked or does not say."""
    from botocore.exceptions import ClientError

    url = f"s3://{bucket}"
    with _s3_errors(url, f"S3 bucket {bucket} does not exist"):
        try:
            answer: Any = s3_client().head_bucket(Bucket=bucket)
        except ClientError as exc:
            region = _region_header(exc.response)
            if region is None:
                raise
            return region
    region = answer.get("BucketRegion") or _region_header(answer)
    if not region:
        raise SourceError(f"S3 did not say which region bucket {bucket} is in")
    return str(region)


def _region_header(answer: Any) -> str | None:
    headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    region = headers.get("x-amz-bucket-region")
    return str(region) if region else None


def _list_s3(location: str) -> list[SourceObject]:
    bucket, prefix = _split(location)
    pages = s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    objects = []
    with _s3_errors(location):
        for page in pages:
            for item in page.get("Contents", []):
                key, size = item["Key"], item.get("Size", 0)
                if not (key.endswith("/") and size == 0):  # a console "folder"
                    objects.append(
                        SourceObject(
                            url=f"s3://{bucket}/{key}",
                            size=size,
                            modified=_naive_utc(item.get("LastModified")),
                            etag=_etag(item.get("ETag")),
                        )
                    )
    return sorted(objects, key=lambda o: o.url)  # key order, also for directory buckets


def _open_s3(url: str, gone: str | None = None) -> BinaryIO:
    bucket, key = _split_key(url)
    with _s3_errors(url, gone or f"{url} was listed but no longer exists"):
        response = s3_client().get_object(Bucket=bucket, Key=key)
    if response["ContentLength"] > SMALL_OBJECT_BYTES:
        return io.BufferedReader(_S3Stream(response["Body"], url), buffer_size=MiB)
    body = response["Body"]
    # Not `with body as …`: StreamingBody's __enter__ hands out urllib3's raw stream, whose
    # errors (a connection cut mid-object) botocore's wrapper would otherwise translate.
    with _s3_errors(url), closing(body):
        return io.BytesIO(body.read())


class _S3Stream(io.RawIOBase):
    """A get_object body whose read failures are SourceErrors."""

    def __init__(self, body: StreamingBody, url: str) -> None:
        self.body, self.url = body, url

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        with _s3_errors(self.url):
            data = self.body.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.body.close()
        super().close()


class _Missing(SourceError):
    """No object at that key (a SourceError with the caller's words for it)."""


@contextmanager
def _s3_errors(url: str, gone: str | None = None) -> Iterator[None]:
    """Turn botocore's exceptions into one-line SourceErrors that carry no credentials."""
    from botocore.exceptions import BotoCoreError, HTTPClientError, ParamValidationError

    try:
        with botocore_errors(
            SourceError,
            f"read {url}",
            client_error=lambda exc: _client_error(exc, url, gone),
            endpoint=lambda: f"the S3 endpoint {_endpoint()}",
        ):
            yield
    except HTTPClientError as exc:  # a read timeout, a connection dropped mid-object
        raise SourceError(
            f"The connection to S3 broke while reading {url} ({type(exc).__name__})"
        ) from None
    except ParamValidationError as exc:
        detail = str(exc).splitlines()[-1].split(": ")[0]  # e.g. Invalid bucket name "a_b"
        raise SourceError(f"Invalid S3 location {url}: {detail}") from None
    except BotoCoreError as exc:
        raise SourceError(f"Cannot read {url}: {str(exc).splitlines()[0]}") from None


def _client_error(exc: ClientError, url: str, gone: str | None) -> SourceError:
    code = error_code(exc)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == "NoSuchBucket":
        return SourceError(f"S3 bucket {_split(url)[0]} does not exist (reading {url})")
    if code in _MISSING:
        return _Missing(gone or f"No such S3 object: {url}")
    if code in _REFUSED:
        return SourceError(
            f"S3 refused the AWS credentials ({code}) reading {url}: check AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if code in _DENIED:
        return SourceError(f"Access denied to {url}: the AWS credentials in use may not read it")
    return SourceError(f"S3 refused to read {url}: {code or 'error'} (HTTP {status})")


def _endpoint() -> str:
    endpoint = _client.meta.endpoint_url if _client is not None else "S3"
    scheme, _, rest = endpoint.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}" if rest else endpoint  # no user:password@


# For the modules that write to S3 (manifests.py): the same key split and error mapping.
split_key = _split_key
s3_errors = _s3_errors
