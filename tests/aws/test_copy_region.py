"""REGION on Redshift's COPY: the bucket's region looked up with boto3 (moto's server) when none
is configured, and added when it is not the cluster's; what to do when it cannot be looked up.

"If the Amazon S3 buckets that hold the data files don't reside in the same AWS Region as your
cluster, you must use the REGION parameter" (COPY from Amazon S3, Redshift's Developer Guide).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber
from sqlalchemy.engine import URL, make_url
from sqlalchemy_redshift.dialect import RedshiftDialect_redshift_connector

from sparkify_dw import sources
from sparkify_dw.copy import CopyOptions
from sparkify_dw.copy.redshift import copy_command, copy_sql, with_bucket_region
from sparkify_dw.errors import SourceError
from sparkify_dw.models import StagingEvent
from sparkify_dw.sources import bucket_region
from tests.aws.conftest import ACCESS_KEY, SECRET_KEY, Bucket, set_moto_auth
from tests.helpers import parse_redshift

pytestmark = pytest.mark.aws

ROLE = "arn:aws:iam::123456789012:role/dwhRole"
CLUSTER = make_url(
    "redshift+redshift_connector://u@sparkify.abc123.us-west-2.redshift.amazonaws.com/dev"
)


def bucket_in(endpoint: str, region: str) -> Bucket:
    """A new bucket in `region` on the test server (the s3 fixture's is in us-west-2)."""
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,  # S3 creates a bucket in the region of the endpoint it is sent to
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    name = f"sparkify-{uuid.uuid4().hex[:16]}"
    if region == "us-east-1":  # S3 refuses a LocationConstraint of us-east-1
        client.create_bucket(Bucket=name)
    else:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    return Bucket(name, client, endpoint)


@pytest.fixture
def eu_bucket(s3_env: str) -> Bucket:
    return bucket_in(s3_env, "eu-west-1")


def options(bucket: Bucket, **more: object) -> CopyOptions:
    return CopyOptions(iam_role_arn=ROLE, jsonpaths=bucket.url("log_json_path.json"), **more)  # type: ignore[arg-type]


def looked_up(url: URL, bucket: Bucket, **more: object) -> tuple[CopyOptions, str | None]:
    return with_bucket_region(url, bucket.url("log_data"), options(bucket, **more))


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1", "ap-southeast-2"])
def test_the_buckets_region_is_looked_up_with_boto3(s3_env: str, region: str) -> None:
    assert bucket_region(bucket_in(s3_env, region).name) == region


def test_a_bucket_in_another_region_than_the_cluster_gets_region_on_the_copy(
    eu_bucket: Bucket,
) -> None:
    found, note = looked_up(CLUSTER, eu_bucket)
    assert (found.region, note) == ("eu-west-1", None)
    sql = copy_sql(
        copy_command(StagingEvent.__table__, eu_bucket.url("log_data"), found),  # type: ignore[arg-type]
        RedshiftDialect_redshift_connector(),
    )
    assert "REGION 'eu-west-1'" in sql
    parse_redshift(sql)


def test_a_bucket_in_the_clusters_region_gets_no_region(s3: Bucket) -> None:
    found, note = looked_up(CLUSTER, s3)  # both in us-west-2
    assert (found.region, note) == (None, None)


def test_a_cluster_whose_region_is_unknown_gets_the_buckets_region(s3: Bucket) -> None:
    behind_a_name = make_url("redshift+redshift_connector://u@warehouse.internal.example/dev")
    found, _ = looked_up(behind_a_name, s3)
    assert found.region == "us-west-2"
    from_config = behind_a_name.update_query_dict({"region": "us-west-2"})  # [CLUSTER] REGION
    assert looked_up(from_config, s3)[0].region is None


def test_a_configured_region_is_kept_and_nothing_is_looked_up(
    eu_bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "s3_client", lambda: pytest.fail("looked up"))
    found, note = looked_up(CLUSTER, eu_bucket, region="eu-west-1")
    assert (found.region, note) == ("eu-west-1", None)


def test_data_and_jsonpaths_in_buckets_of_different_regions_are_explained(
    eu_bucket: Bucket, s3: Bucket
) -> None:
    found, note = with_bucket_region(
        CLUSTER,
        eu_bucket.url("log_data"),
        CopyOptions(iam_role_arn=ROLE, jsonpaths=s3.url("log_json_path.json")),
    )
    assert found.region is None
    assert note is not None
    assert f"{eu_bucket.name} in eu-west-1" in note
    assert f"{s3.name} in us-west-2" in note


@pytest.fixture
def refusing(s3_env: str) -> Iterator[None]:
    """The server checks signatures: the test's keys are no IAM user's, every call is refused."""
    set_moto_auth(s3_env, enabled=True)
    try:
        yield
    finally:
        set_moto_auth(s3_env, enabled=False)


def test_a_region_that_cannot_be_looked_up_says_how_to_set_it(
    eu_bucket: Bucket, refusing: None
) -> None:
    with pytest.raises(SourceError) as refused:
        bucket_region(eu_bucket.name)
    assert "\n" not in str(refused.value)
    found, note = looked_up(CLUSTER, eu_bucket)
    assert found.region is None  # the COPY goes without REGION, and if it fails:
    assert note is not None
    assert f"The region of bucket {eu_bucket.name} could not be looked up" in note
    assert "[S3] REGION in dwh.cfg" in note
    assert SECRET_KEY not in note


def test_a_refusal_that_names_the_region_is_enough(s3_env: str) -> None:
    """S3 names the bucket's region in HeadBucket's answer even when it refuses the request."""
    client = sources.s3_client()
    with Stubber(client) as stub:
        stub.add_client_error(
            "head_bucket",
            service_error_code="403",
            http_status_code=403,
            response_meta={"HTTPHeaders": {"x-amz-bucket-region": "sa-east-1"}},
        )
        assert bucket_region("someone-elses-bucket") == "sa-east-1"
        stub.add_client_error("head_bucket", service_error_code="404", http_status_code=404)
        with pytest.raises(SourceError, match="S3 bucket no-such-bucket does not exist"):
            bucket_region("no-such-bucket")
