"""sparkify_dw.cluster against moto in this process (`moto.mock_aws`): IAM, EC2 and Redshift.

moto makes clusters 'available' at once and deletes them at once, never raises Redshift's quota
errors and does not know which node types exist: those answers are given by botocore's Stubber
(the real error shapes), or by setting a moto cluster's state, and each test says so.
"""

from __future__ import annotations

import functools
import json
import logging
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID, set_initial_no_auth_action_count

from sparkify_dw import aws as aws_plumbing
from sparkify_dw import cluster as cl
from sparkify_dw.cluster import (
    Clients,
    ClusterError,
    cluster_status,
    create_cluster,
    delete_cluster,
)
from sparkify_dw.dwhcfg import config_values, read_config_file, write_dwh_config
from tests.unit.test_cluster_settings import CIDR, ORIGINAL, PASSWORD, REGION, one_line, spec

pytestmark = pytest.mark.aws

S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clients]:
    """A fresh moto account, with AWS's managed policy AmazonS3ReadOnlyAccess in IAM."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    _fast_moto(monkeypatch)
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        session = _session()  # Clients.connect with the service models loaded once
        yield Clients(
            iam=session.client("iam", region_name=REGION),
            ec2=session.client("ec2", region_name=REGION),
            redshift=session.client("redshift", region_name=REGION),
        )


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id="AKIATESTSPARKIFY0000", aws_secret_access_key="unit-test-secret"
    )


def _fast_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Speed only: moto's EC2 loads ~2,600 AMIs (MOTO_EC2_LOAD_DEFAULT_AMIS=false skips them)
    and its IAM ~1,300 AWS managed policies per account; keep only the one used, moto's own
    data for it. Takes ~1 s off each test."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    import moto.iam.models

    monkeypatch.setattr(moto.iam.models, "aws_managed_policies_data", _s3_read_only_data())


@functools.cache
def _s3_read_only_data() -> str:
    import moto.iam.models

    everything = json.loads(moto.iam.models.aws_managed_policies_data)
    return json.dumps({"AmazonS3ReadOnlyAccess": everything["AmazonS3ReadOnlyAccess"]})


# create ------------------------------------------------------------------------------------


def test_create_makes_the_role_the_rule_and_an_encrypted_cluster(aws: Clients) -> None:
    result = create_cluster(spec(), PASSWORD, clients=aws)

    assert result.changed
    assert all(step.changed for step in result.steps), result.steps
    cluster = aws.redshift.describe_clusters(ClusterIdentifier="sparkify")["Clusters"][0]
    assert cluster["NodeType"] == "dc2.large"
    assert cluster["NumberOfNodes"] == 4
    assert cluster["Encrypted"] is True
    assert cluster["PubliclyAccessible"] is True
    assert cluster["DBName"] == "dev"
    assert cluster["MasterUsername"] == "awsuser"
    assert cluster["Endpoint"]["Port"] == 5439
    assert [r["IamRoleArn"] for r in cluster["IamRoles"]] == [result.role_arn]

    role = aws.iam.get_role(RoleName="myRedshiftRole")["Role"]
    assert role["Arn"] == result.role_arn
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "redshift.amazonaws.com"}
    attached = aws.iam.list_attached_role_policies(RoleName="myRedshiftRole")
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [S3_READ_ONLY]

    (group_id,) = [g["VpcSecurityGroupId"] for g in cluster["VpcSecurityGroups"]]
    group = aws.ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    assert group["GroupName"] == "sparkify-dw-sparkify"
    default_vpc = aws.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])
    assert group["VpcId"] == default_vpc["Vpcs"][0]["VpcId"]
    assert _open_to(aws, group_id) == [(5439, 5439, CIDR)]

    status = result.status
    assert status.host == cluster["Endpoint"]["Address"]
    assert (status.port, status.nodes, status.node_type) == (5439, 4, "dc2.large")
    assert status.role_arns == (result.role_arn,)
    assert [rule.source for rule in status.ingress] == [CIDR]


def _open_to(aws: Clients, group_id: str) -> list[tuple[int, int, str]]:
    group = aws.ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    return sorted(
        (p["FromPort"], p["ToPort"], r["CidrIp"])
        for p in group["IpPermissions"]
        for r in p.get("IpRanges", [])
    )


def test_create_again_finds_everything_and_changes_nothing(aws: Clients) -> None:
    first = create_cluster(spec(), PASSWORD, clients=aws)
    again = create_cluster(spec(), PASSWORD, clients=aws)

    assert not again.changed, again.steps
    assert again.role_arn == first.role_arn
    # (moto's CreateCluster answers 'creating', its DescribeClusters 'available')
    assert replace(again.status, state="creating") == first.status
    assert len(aws.redshift.describe_clusters()["Clusters"]) == 1
    assert len(aws.iam.list_roles()["Roles"]) == 1
    groups = aws.ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["sparkify-dw-sparkify"]}]
    )["SecurityGroups"]
    assert len(groups) == 1
    assert _open_to(aws, groups[0]["GroupId"]) == [(5439, 5439, CIDR)]


def test_create_again_with_another_cidr_adds_only_that_rule(aws: Clients) -> None:
    create_cluster(spec(), PASSWORD, clients=aws)
    again = create_cluster(spec(cidr="198.51.100.7/32"), PASSWORD, clients=aws)

    assert [step.what for step in again.steps if step.changed] == [
        f"Port 5439 open to 198.51.100.7/32 ({again.status.security_groups[0]}): rule added"
    ]
    assert _open_to(aws, again.status.security_groups[0]) == [
        (5439, 5439, "198.51.100.7/32"),
        (5439, 5439, CIDR),
    ]


def test_a_rule_that_already_covers_the_cidr_is_kept(aws: Clients) -> None:
    create_cluster(spec(cidr="203.0.0.0/16"), PASSWORD, clients=aws)
    again = create_cluster(spec(cidr="203.0.113.0/24"), PASSWORD, clients=aws)
    assert not again.changed


def test_a_single_node_ra3_cluster(aws: Clients) -> None:
    result = create_cluster(spec(node_type="ra3.xlplus", nodes=1), PASSWORD, clients=aws)
    cluster = aws.redshift.describe_clusters(ClusterIdentifier="sparkify")["Clusters"][0]
    assert (cluster["NodeType"], cluster["NumberOfNodes"]) == ("ra3.xlplus", 1)
    assert result.status.cluster_type == "single-node"
    assert not create_cluster(spec(node_type="ra3.xlplus", nodes=1), PASSWORD, clients=aws).changed


def test_an_ipv6_cidr_gets_an_ipv6_rule(aws: Clients) -> None:
    result = create_cluster(spec(cidr="2001:db8::/32"), PASSWORD, clients=aws)
    assert [rule.source for rule in result.status.ingress] == ["2001:db8::/32"]


def test_wait_shows_progress_and_returns_the_available_cluster(aws: Clients) -> None:
    messages: list[str] = []

    def progress(message: str) -> Any:
        messages.append(message)
        from contextlib import nullcontext

        return nullcontext()

    result = create_cluster(spec(), PASSWORD, clients=aws, wait=True, progress=progress)
    assert result.status.state == "available"
    assert messages == ["Waiting for cluster sparkify to be available (usually 5-15 minutes)"]


# someone else's cluster ---------------------------------------------------------------------


def _hand_made_cluster(aws: Clients, **changes: Any) -> None:
    aws.redshift.create_cluster(
        **{
            "ClusterIdentifier": "sparkify",
            "NodeType": "ra3.xlplus",
            "ClusterType": "multi-node",
            "NumberOfNodes": 2,
            "MasterUsername": "admin",
            "MasterUserPassword": "Other0ne!",
            "DBName": "dev",
            "Encrypted": True,
            **changes,
        }
    )


def test_an_identifier_taken_by_another_cluster_is_an_error_and_nothing_is_made(
    aws: Clients,
) -> None:
    _hand_made_cluster(aws)
    with pytest.raises(ClusterError) as exc:
        create_cluster(spec(), PASSWORD, clients=aws)
    message = one_line(exc)
    assert "Cluster 'sparkify' already exists in us-west-2 and is not the one asked for" in message
    assert "node type ra3.xlplus (not dc2.large)" in message
    assert "2 nodes (not 4)" in message
    assert "IAM roles none (not myRedshiftRole)" in message
    assert "user admin (not awsuser)" in message
    assert aws.iam.list_roles()["Roles"] == []  # checked before anything was made
    groups = aws.ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["sparkify-dw-sparkify"]}]
    )
    assert groups["SecurityGroups"] == []


def test_a_cluster_in_state_deleting_is_an_error(aws: Clients) -> None:
    create_cluster(spec(), PASSWORD, clients=aws)
    # moto deletes a cluster at once; Redshift keeps it 'deleting' for minutes: set that state.
    from moto.redshift.models import redshift_backends

    redshift_backends[DEFAULT_ACCOUNT_ID][REGION].clusters["sparkify"].status = "deleting"
    with pytest.raises(ClusterError) as exc:
        create_cluster(spec(), PASSWORD, clients=aws)
    assert "already exists in us-west-2 in state 'deleting'" in one_line(exc)


def test_waiting_for_a_cluster_that_is_being_deleted_fails_clearly(aws: Clients) -> None:
    create_cluster(spec(), PASSWORD, clients=aws)
    from moto.redshift.models import redshift_backends

    redshift_backends[DEFAULT_ACCOUNT_ID][REGION].clusters["sparkify"].status = "deleting"
    with pytest.raises(ClusterError) as exc:
        cl.wait_until_available("sparkify", clients=aws, delay=0, attempts=2)
    assert "will not become available: it is 'deleting'" in one_line(exc)


def test_waiting_too_long_says_so(aws: Clients) -> None:
    create_cluster(spec(), PASSWORD, clients=aws)
    from moto.redshift.models import redshift_backends

    redshift_backends[DEFAULT_ACCOUNT_ID][REGION].clusters["sparkify"].status = "creating"
    with pytest.raises(ClusterError) as exc:
        cl.wait_until_available("sparkify", clients=aws, delay=0, attempts=2)
    assert "is still 'creating' after" in one_line(exc)


def test_a_role_that_does_not_trust_redshift_is_an_error(aws: Clients) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    aws.iam.create_role(RoleName="myRedshiftRole", AssumeRolePolicyDocument=json.dumps(trust))
    with pytest.raises(ClusterError) as exc:
        create_cluster(spec(), PASSWORD, clients=aws)
    assert "does not let Redshift assume it" in one_line(exc)


def test_a_region_without_a_default_vpc_is_an_error(aws: Clients) -> None:
    ec2 = aws.ec2
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    vpc_filter = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    for subnet in ec2.describe_subnets(Filters=vpc_filter)["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    attached = [{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}]
    for gateway in ec2.describe_internet_gateways(Filters=attached)["InternetGateways"]:
        ec2.detach_internet_gateway(
            InternetGatewayId=gateway["InternetGatewayId"], VpcId=vpc["VpcId"]
        )
    ec2.delete_vpc(VpcId=vpc["VpcId"])
    with pytest.raises(ClusterError) as exc:
        create_cluster(spec(), PASSWORD, clients=aws)
    assert "No default VPC in us-west-2: create one with `aws ec2 create-default-vpc" in (
        one_line(exc)
    )


# errors AWS gives ----------------------------------------------------------------------------


def test_quota_exceeded_is_one_line_that_says_what_was_made(aws: Clients) -> None:
    # moto never raises ClusterQuotaExceeded: Redshift's answer comes from botocore's Stubber.
    stubber = Stubber(aws.redshift)
    stubber.add_client_error(
        "describe_clusters", "ClusterNotFound", "Cluster sparkify not found.", 404
    )
    stubber.add_client_error(
        "create_cluster",
        "ClusterQuotaExceeded",
        "The request would exceed the allowed number of clusters for this account.",
        400,
    )
    with stubber, pytest.raises(ClusterError) as exc:
        create_cluster(spec(), PASSWORD, clients=aws)
    message = one_line(exc)
    assert message.startswith("AWS quota exceeded, cannot create Redshift cluster sparkify")
    assert "ClusterQuotaExceeded" in message
    assert "made so far: IAM role myRedshiftRole, Security group sparkify-dw-sparkify (sg-" in (
        message
    )
    assert message.endswith("(`sparkify-dw cluster delete --yes` removes them)")


def test_a_node_type_the_region_does_not_offer_is_one_line(aws: Clients) -> None:
    # moto accepts any node type; Redshift's refusal comes from the Stubber.
    stubber = Stubber(aws.redshift)
    stubber.add_client_error("describe_clusters", "ClusterNotFound", "not found", 404)
    stubber.add_client_error(
        "create_cluster",
        "InvalidParameterValue",
        "Invalid node type: ra3.large\n(not offered in this region)",
        400,
    )
    with stubber, pytest.raises(ClusterError) as exc:
        create_cluster(spec(node_type="ra3.large", nodes=2), PASSWORD, clients=aws)
    message = one_line(exc)
    assert "AWS refused to create Redshift cluster sparkify (2 x ra3.large)" in message
    assert "InvalidParameterValue: Invalid node type: ra3.large (not offered in this region)" in (
        message
    )


def test_a_password_in_an_aws_message_is_masked(aws: Clients) -> None:
    stubber = Stubber(aws.redshift)
    stubber.add_client_error("describe_clusters", "ClusterNotFound", "not found", 404)
    stubber.add_client_error(
        "create_cluster", "InvalidParameterValue", f"bad password {PASSWORD}", 400
    )
    with stubber, pytest.raises(ClusterError) as exc:
        create_cluster(spec(), PASSWORD, clients=aws)
    assert "bad password ***" in one_line(exc)


def test_access_denied_is_one_line_naming_what_was_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    _fast_moto(monkeypatch)

    @set_initial_no_auth_action_count(4)  # moto checks IAM policies after the setup's 4 calls
    @mock_aws(config={"iam": {"load_aws_managed_policies": True}})
    def attempt() -> str:
        iam = boto3.client("iam", region_name=REGION)
        iam.create_user(UserName="analyst")
        read_only = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["redshift:Describe*", "ec2:Describe*", "iam:Get*", "iam:List*"],
                    "Resource": "*",
                }
            ],
        }
        iam.put_user_policy(
            UserName="analyst", PolicyName="read-only", PolicyDocument=json.dumps(read_only)
        )
        key = iam.create_access_key(UserName="analyst")["AccessKey"]
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        with pytest.raises(ClusterError) as exc:
            create_cluster(spec(), PASSWORD, region=REGION)
        assert key["SecretAccessKey"] not in str(exc.value)
        return one_line(exc)

    message = attempt()
    assert message.startswith(
        "Access denied: the AWS credentials in use may not create IAM role myRedshiftRole"
    )
    assert "iam:CreateRole" in message


def test_no_credentials_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ClusterError) as exc:
        cluster_status("sparkify", region=REGION)
    assert one_line(exc).startswith(
        "No usable AWS credentials to look up Redshift cluster sparkify (NoCredentialsError)"
    )


def test_no_region_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent"))
    with pytest.raises(ClusterError) as exc:
        cluster_status("sparkify")
    assert "No AWS region" in one_line(exc)


def test_the_password_is_masked_in_botocores_debug_log(
    aws: Clients, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        create_cluster(spec(), PASSWORD, clients=aws)
    assert "MasterUserPassword" in caplog.text  # the request was logged, with the value masked
    for form in (PASSWORD, "Sparkify%232018pw"):
        assert form not in caplog.text
    for logger in aws_plumbing._BOTOCORE_LOGGERS:  # the masking filter is gone afterwards
        assert not logging.getLogger(logger).filters or all(
            not isinstance(f, aws_plumbing._MaskSecret) for f in logging.getLogger(logger).filters
        )


# status ------------------------------------------------------------------------------------


def test_status_of_a_missing_cluster_is_an_error(aws: Clients) -> None:
    with pytest.raises(ClusterError) as exc:
        cluster_status("nothing-here", clients=aws)
    assert "No Redshift cluster 'nothing-here' in us-west-2" in one_line(exc)


# delete ------------------------------------------------------------------------------------


def test_delete_leaves_no_cluster_no_rule_no_group_and_no_role(aws: Clients) -> None:
    made = create_cluster(spec(), PASSWORD, clients=aws)
    result = delete_cluster("sparkify", clients=aws)

    assert [step.changed for step in result.steps] == [True, True, True, True], result.steps
    assert aws.redshift.describe_clusters()["Clusters"] == []
    assert aws.iam.list_roles()["Roles"] == []
    groups = aws.ec2.describe_security_groups(GroupIds=[])["SecurityGroups"]
    assert made.status.security_groups[0] not in [g["GroupId"] for g in groups]
    snapshots = aws.redshift.describe_cluster_snapshots(SnapshotType="manual")["Snapshots"]
    assert snapshots == []

    again = delete_cluster("sparkify", clients=aws)  # safe to repeat
    assert not again.changed


def test_delete_with_a_final_snapshot_and_keep_role(aws: Clients) -> None:
    create_cluster(spec(), PASSWORD, clients=aws)
    result = delete_cluster(
        "sparkify", final_snapshot="sparkify-final", keep_role=True, clients=aws
    )

    assert "final snapshot sparkify-final" in result.steps[0].what
    snapshots = aws.redshift.describe_cluster_snapshots(SnapshotIdentifier="sparkify-final")
    assert snapshots["Snapshots"][0]["ClusterIdentifier"] == "sparkify"
    role = aws.iam.get_role(RoleName="myRedshiftRole")["Role"]
    attached = aws.iam.list_attached_role_policies(RoleName=role["RoleName"])
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [S3_READ_ONLY]


def test_delete_keeps_a_role_it_did_not_create_and_one_another_cluster_uses(
    aws: Clients,
) -> None:
    trust = json.dumps(cl.TRUST_POLICY)
    aws.iam.create_role(RoleName="myRedshiftRole", AssumeRolePolicyDocument=trust)
    create_cluster(spec(), PASSWORD, clients=aws)
    result = delete_cluster("sparkify", clients=aws)
    assert "IAM role myRedshiftRole: kept (sparkify-dw did not create it)" in [
        step.what for step in result.steps
    ]
    aws.iam.get_role(RoleName="myRedshiftRole")

    create_cluster(spec(identifier="one", role_name="shared"), PASSWORD, clients=aws)
    create_cluster(spec(identifier="two", role_name="shared"), PASSWORD, clients=aws)
    result = delete_cluster("one", role_name="shared", clients=aws)
    assert "IAM role shared: kept (cluster two uses it)" in [step.what for step in result.steps]
    result = delete_cluster("two", role_name="shared", clients=aws)
    assert "IAM role shared: deleted (its policies detached)" in [
        step.what for step in result.steps
    ]


def test_a_group_still_in_use_is_kept_with_a_hint(
    aws: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto deletes a cluster at once, so its group is never still in use: give EC2's answer.
    create_cluster(spec(), PASSWORD, clients=aws)

    def in_use(**kwargs: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "DependencyViolation", "Message": "resource has a dependent"}},
            "DeleteSecurityGroup",
        )

    monkeypatch.setattr(aws.ec2, "delete_security_group", in_use)
    result = delete_cluster("sparkify", clients=aws)
    assert "run the same delete again in a few minutes (or add --wait)" in result.steps[-1].what
    monkeypatch.undo()
    again = delete_cluster("sparkify", clients=aws)
    assert [step.what.split(":")[-1] for step in again.steps if step.changed] == [" deleted"]


def test_delete_can_wait_until_the_cluster_is_gone(aws: Clients) -> None:
    create_cluster(spec(), PASSWORD, clients=aws)
    messages: list[str] = []

    def progress(message: str) -> Any:
        from contextlib import nullcontext

        messages.append(message)
        return nullcontext()

    delete_cluster("sparkify", clients=aws, wait=True, progress=progress)
    assert messages == ["Waiting for cluster sparkify to be deleted (usually a few minutes)"]


# dwh.cfg ---------------------------------------------------------------------------------


def test_the_written_config_is_what_run_reads(aws: Clients, tmp_path: Path) -> None:
    result = create_cluster(spec(), PASSWORD, clients=aws)
    config = tmp_path / "dwh.cfg"
    config.write_text(ORIGINAL)

    assert write_dwh_config(config, config_values(result.status, result.role_arn))
    read = read_config_file(config)
    host = result.status.host
    assert read["db_url"] == f"redshift+redshift_connector://awsuser:Kept1234@{host}:5439/dev"
    assert read["iam_role_arn"] == result.role_arn
    assert read["log_data"] == "s3://udacity-dend/log_data"
    assert "# Sparkify's settings" in config.read_text()
    assert not write_dwh_config(config, config_values(result.status, result.role_arn))


def test_a_saved_password_makes_the_file_private(aws: Clients, tmp_path: Path) -> None:
    result = create_cluster(spec(), PASSWORD, clients=aws)
    config = tmp_path / "dwh.cfg"
    write_dwh_config(config, config_values(result.status, result.role_arn))
    assert "DB_PASSWORD" not in config.read_text()

    write_dwh_config(config, config_values(result.status, result.role_arn, PASSWORD))
    assert stat.S_IMODE(config.stat().st_mode) & 0o077 == 0
    url = read_config_file(config)["db_url"]
    assert url.startswith("redshift+redshift_connector://awsuser:Sparkify%232018pw@")
