"""The manifests the file ledger writes for Redshift: exactly the objects a load stages.

Redshift's COPY reads every object under a prefix; to stage only the objects the ledger chose
(ledger.py), the library writes a manifest of them under the configured `manifest_prefix`
(`[S3] MANIFEST_PREFIX`, `--manifest-prefix`), COPYs with MANIFEST, and removes it. The name
is fixed per table (`<prefix>/<table>.manifest`): loads are serialised by the load lock, so two
never share it, and `sparkify-dw sql` prints the very COPY a load sends. Redshift requires the
manifest in the region of the data ("REGION": a manifest file … must be located in the
specified region, https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-source-s3.html).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from sparkify_dw.errors import ConfigError
from sparkify_dw.sources import SourceObject, is_s3, s3_client, s3_errors, split_key

logger = logging.getLogger(__name__)


def manifest_url(prefix: str, table: str) -> str:
    """Where the manifest of `table`'s COPY goes under `prefix` (an s3:// URL)."""
    if not is_s3(prefix):
        raise ConfigError(
            f"The manifest prefix must be an s3:// URL the loader may write, not {prefix!r}"
        )
    return f"{prefix.rstrip('/')}/{table}.manifest"


def manifest_body(objects: Sequence[SourceObject]) -> str:
    """Redshift's manifest format, each object mandatory (it was listed a moment ago)."""
    entries = [
        {"url": obj.url, "mandatory": True, "meta": {"content_length": obj.size}} for obj in objects
    ]
    return json.dumps({"entries": entries}, indent=1)


def write_manifest(url: str, objects: Sequence[SourceObject]) -> None:
    bucket, key = split_key(url)
    with s3_errors(url):
        s3_client().put_object(Bucket=bucket, Key=key, Body=manifest_body(objects).encode())


def remove_manifest(url: str) -> None:
    """Remove the manifest; a failure is logged, not raised (the load's outcome stands)."""
    bucket, key = split_key(url)
    try:
        with s3_errors(url):
            s3_client().delete_object(Bucket=bucket, Key=key)
    except Exception as exc:
        logger.warning("The manifest %s could not be removed: %s", url, exc)
