"""`sparkify-dw cluster create|status|delete` against moto's server on 127.0.0.1.

The command runs as a user runs it (its own process, or `main()` in this one), with boto3
pointed at the server by AWS_ENDPOINT_URL (the `s3_env` fixture of conftest.py). The server runs
in this process, so MOTO_ACCOUNT_ID set here gives these tests an account of their own, whose
IAM has AWS's managed policies (AmazonS3ReadOnlyAccess) loaded; names are unique per test.

What moto cannot do, and so is not tested here: a cluster that takes minutes to become
available (moto's are 'available' at once, so `--wait` returns after one look), Redshift's
quota and node-type errors (tests/aws/test_cluster.py gives those answers with botocore's
Stubber), and Redshift Serverless (moto has no redshift-serverless API).
"""

from __future__ import annotations

import json
import stat
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from typer.testing import CliRunner

from sparkify_dw.cli import cluster as cluster_cli
from sparkify_dw.cluster import PASSWORD_ENV, ClusterError
from sparkify_dw.dwhcfg import read_config_file
from sparkify_dw.schemas import load_schema
from tests.aws.conftest import ACCESS_KEY, REGION, SECRET_KEY, set_moto_auth
from tests.helpers import Run, sparkify

pytestmark = pytest.mark.aws

ACCOUNT = "210987654321"
PASSWORD = "Sparkify#2018:pw%x"  # with characters a URL encodes, so an encoded leak shows too
TOKEN = "FwoGZXIvYXdzSparkifyClusterTestToken/9d8c7b6a5f+ZZ=="
CIDR = "203.0.113.0/24"
S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
SECRETS = (PASSWORD, SECRET_KEY, TOKEN)  # Run.assert_never_shows also looks for encoded forms


@pytest.fixture
def aws_env(s3_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 pointed at the test server, in an account of its own; the password in the env."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # speed only: no AMIs needed
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    monkeypatch.delenv("SPARKIFY_DB_URL", raising=False)
    return s3_env


def admin(endpoint: str, service: str) -> Any:
    """A client for checking what the command did, independent of its environment."""
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


def names() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return f"sparkify-{suffix}", f"sparkify-role-{suffix}"


def one_line_error(run: Run, *fragments: str) -> str:
    """The command's one `error:` line, alone on stderr, holding each fragment; no secret."""
    line = run.error_line(*fragments, alone=True)
    run.assert_never_shows(*SECRETS)
    return line


# The whole path ----------------------------------------------------------------------------


@pytest.mark.slow
def test_create_again_status_and_delete_as_a_user_runs_them(aws_env: str, tmp_path: Path) -> None:
    identifier, role = names()
    create = ("cluster", "create", "--identifier", identifier, "--role-name", role)
    made = sparkify(*create, "--cidr", CIDR, "--wait", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert f"Waiting for cluster {identifier} to be available" in made.stderr
    assert f"Cluster {identifier} is available at {identifier}." in made.stdout

    redshift, iam, ec2 = (admin(aws_env, s) for s in ("redshift", "iam", "ec2"))
    (cluster,) = redshift.describe_clusters(ClusterIdentifier=identifier)["Clusters"]
    assert (cluster["NodeType"], cluster["NumberOfNodes"]) == ("dc2.large", 4)
    assert cluster["Encrypted"] is True
    role_arn = iam.get_role(RoleName=role)["Role"]["Arn"]
    assert [r["IamRoleArn"] for r in cluster["IamRoles"]] == [role_arn]
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [S3_READ_ONLY]
    (group_id,) = [g["VpcSecurityGroupId"] for g in cluster["VpcSecurityGroups"]]
    assert _open_to(ec2, group_id) == [("tcp", 5439, 5439, CIDR)]

    host = cluster["Endpoint"]["Address"]
    config = tmp_path / "dwh.cfg"
    text = config.read_text()
    assert f"HOST={host}\n" in text
    assert f"ARN={role_arn}\n" in text
    assert "DB_PASSWORD" not in text
    settings = read_config_file(config, environ={})  # no password in the file itself
    assert settings["db_url"] == f"redshift+redshift_connector://awsuser@{host}:5439/dev"
    assert settings["iam_role_arn"] == role_arn

    again = sparkify(*create, "--cidr", CIDR, "--wait", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"Nothing to change: cluster {identifier}" in again.stdout
    assert "+ " not in again.stdout
    assert f"Unchanged: {config.name}" in again.stdout
    assert config.read_text() == text
    assert len(redshift.describe_clusters(ClusterIdentifier=identifier)["Clusters"]) == 1
    assert _open_to(ec2, group_id) == [("tcp", 5439, 5439, CIDR)]

    status = sparkify("cluster", "status", "--identifier", identifier, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert f"endpoint   {host}:5439" in lines
    assert "state      available" in lines
    assert "nodes      4 x dc2.large (multi-node)" in lines
    assert f"IAM role   {role_arn}" in lines
    assert any(line.startswith(f"ingress    {group_id}: tcp 5439 from {CIDR}") for line in lines)

    refused = sparkify("cluster", "delete", "--identifier", identifier, cwd=tmp_path)
    one_line_error(refused, "without --yes")
    assert len(redshift.describe_clusters(ClusterIdentifier=identifier)["Clusters"]) == 1

    delete = ("cluster", "delete", "--identifier", identifier, "--role-name", role, "--yes")
    deleted = sparkify(*delete, cwd=tmp_path)
    assert deleted.returncode == 0, deleted.stderr
    assert identifier not in [
        c["ClusterIdentifier"] for c in redshift.describe_clusters()["Clusters"]
    ]
    assert role not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert group_id not in [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]]

    twice = sparkify(*delete, cwd=tmp_path)
    assert twice.returncode == 0, twice.stderr
    assert f"Nothing to delete: no cluster {identifier}" in twice.stdout
    for run in (made, again, status, deleted, twice):
        run.assert_never_shows(*SECRETS)


def _open_to(ec2: Any, group_id: str) -> list[tuple[str, int, int, str]]:
    group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    return [
        (p["IpProtocol"], p["FromPort"], p["ToPort"], r["CidrIp"])
        for p in group["IpPermissions"]
        for r in p.get("IpRanges", [])
    ]


def test_no_secret_in_the_output_or_the_debug_log(aws_env: str, tmp_path: Path) -> None:
    identifier, role = names()
    made = sparkify(
        "cluster",
        "create",
        "--identifier",
        identifier,
        "--role-name",
        role,
        "--cidr",
        CIDR,
        "--save-password",
        cwd=tmp_path,
        env={"AWS_SESSION_TOKEN": TOKEN},
        debug_log=tmp_path / "debug.log",
    )
    assert made.returncode == 0, made.stderr
    made.assert_logged("CreateCluster", "MasterUserPassword")  # DEBUG, the request's parameters
    assert "X-Amz-Security-Token" in made.log or "x-amz-security-token" in made.log
    made.assert_never_shows(*SECRETS)

    config = tmp_path / "dwh.cfg"  # asked for: the password is in the file, for its owner only
    assert f"DB_PASSWORD={PASSWORD}\n" in config.read_text()
    assert stat.S_IMODE(config.stat().st_mode) & 0o077 == 0
    deleted = sparkify(
        "cluster", "delete", "--identifier", identifier, "--role-name", role, "--yes",
        cwd=tmp_path,
    )  # fmt: skip
    assert deleted.returncode == 0, deleted.stderr


# Other shapes, in this process ----------------------------------------------------------


def test_a_prompted_password_and_a_single_node_ra3_cluster(
    aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identifier, role = names()
    monkeypatch.delenv(PASSWORD_ENV)
    monkeypatch.setattr(cluster_cli, "_stdin_is_terminal", lambda: True)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cluster_cli.cluster_app,
        [
            *("create", "--identifier", identifier, "--role-name", role, "--cidr", CIDR),
            *("--nodes", "1", "--node-type", "ra3.xlplus"),
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Master password for the database user" in result.output
    Run(result.exit_code, result.output, "").assert_never_shows(*SECRETS)

    status = CliRunner().invoke(cluster_cli.cluster_app, ["status", "--identifier", identifier])
    assert "nodes      1 x ra3.xlplus (single-node)" in status.output.splitlines()
    cluster = admin(aws_env, "redshift").describe_clusters(ClusterIdentifier=identifier)
    assert cluster["Clusters"][0]["NumberOfNodes"] == 1
    CliRunner().invoke(
        cluster_cli.cluster_app,
        ["delete", "--identifier", identifier, "--role-name", role, "--yes"],
    )


@pytest.mark.parametrize(
    ("args", "env", "fragments"),
    [
        (("--node-type", "dc3.large"), {}, ("Unknown node type 'dc3.large'",)),
        ((), {PASSWORD_ENV: "sparkify"}, ("breaks Redshift's rules", "an uppercase letter")),
        ((), {PASSWORD_ENV: "Spark ify2018"}, ("printable ASCII other than",)),
        ((), {PASSWORD_ENV: ""}, ("No password: set SPARKIFY_DB_PASSWORD",)),
        (("--cidr", "203.0.113.9/24"), {}, ("did you mean 203.0.113.0/24?",)),
    ],
)
def test_mistakes_are_one_line_before_any_aws_call(
    aws_env: str,
    args: tuple[str, ...],
    env: dict[str, str],
    fragments: tuple[str, ...],
    cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing answers there
    identifier, _ = names()
    cidr = () if "--cidr" in args else ("--cidr", CIDR)
    run = cli("cluster", "create", "--identifier", identifier, *cidr, *args)
    one_line_error(run, *fragments)
    assert "Spark ify2018" not in run.stdout + run.stderr


def test_an_identifier_taken_by_another_cluster(aws_env: str, cli: Callable[..., Run]) -> None:
    identifier, role = names()
    admin(aws_env, "redshift").create_cluster(
        ClusterIdentifier=identifier,
        NodeType="ra3.4xlarge",
        ClusterType="multi-node",
        NumberOfNodes=2,
        MasterUsername="awsuser",
        MasterUserPassword="Someone3lse",
        Encrypted=True,
    )
    run = cli("cluster", "create", "--identifier", identifier, "--role-name", role, "--cidr", CIDR)
    one_line_error(
        run,
        f"Cluster '{identifier}' already exists in {REGION} and is not the one asked for",
        "node type ra3.4xlarge (not dc2.large)",
        "2 nodes (not 4)",
        f"(not {role})",
    )
    assert role not in [r["RoleName"] for r in admin(aws_env, "iam").list_roles()["Roles"]]


def test_status_and_delete_of_a_cluster_that_does_not_exist(
    aws_env: str, cli: Callable[..., Run]
) -> None:
    identifier, role = names()
    status = cli("cluster", "status", "--identifier", identifier)
    one_line_error(status, f"No Redshift cluster '{identifier}' in {REGION}")
    deleted = cli("cluster", "delete", "--identifier", identifier, "--role-name", role, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert f"Nothing to delete: no cluster {identifier}" in deleted.stdout


@pytest.mark.parametrize(
    ("unset", "fragments"),
    [
        (
            ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
            ("No usable AWS credentials", "set AWS_PROFILE or AWS_ACCESS_KEY_ID"),
        ),
        (("AWS_DEFAULT_REGION",), ("No AWS region", "pass --region or set AWS_DEFAULT_REGION")),
    ],
)
def test_no_credentials_or_no_region(
    aws_env: str,
    unset: tuple[str, ...],
    fragments: tuple[str, ...],
    cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in unset:
        monkeypatch.delenv(name)
    identifier, _ = names()
    for command in (("create", "--cidr", CIDR), ("status",), ("delete", "--yes")):
        one_line_error(cli("cluster", *command, "--identifier", identifier), *fragments)


def test_access_denied(
    aws_env: str, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto's server checks IAM policies once asked to (reset-auth): a user who may only look."""
    iam = admin(aws_env, "iam")
    user = f"analyst-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user,
        PolicyName="look-only",
        PolicyDocument=(
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
            '["redshift:Describe*", "ec2:Describe*", "iam:Get*", "iam:List*"], "Resource": "*"}]}'
        ),
    )
    key = iam.create_access_key(UserName=user)["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    identifier, role = names()
    create = ("cluster", "create", "--identifier", identifier, "--role-name", role)
    set_moto_auth(aws_env, enabled=True)
    try:
        denied = cli(*create, "--cidr", CIDR)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-key")
        refused = cli(*create, "--cidr", CIDR)
    finally:
        set_moto_auth(aws_env, enabled=False)
    one_line_error(refused, "AWS refused the credentials (SignatureDoesNotMatch)")
    line = one_line_error(
        denied,
        f"Access denied: the AWS credentials in use may not create IAM role {role}",
        "iam:CreateRole",
    )
    assert key["SecretAccessKey"] not in line


def test_ctrl_c_says_what_goes_on(
    aws_env: str, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cluster_cli, "create_cluster", interrupted)
    run = cli("cluster", "create", "--cidr", CIDR)
    assert run.returncode == 130
    assert "interrupted: cluster sparkify goes on being created if it was asked for" in run.stderr
    assert "rolled back" not in run.stderr
    assert run.stderr.count("interrupted:") == 1, run.stderr  # not main()'s line as well


def test_an_abandoned_password_prompt_is_one_line_and_no_aws_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-D at the hidden prompt: typer raises its own Abort, which must become a ClusterError
    # (one line), before any AWS call (no credentials are set up here).
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.setattr(cluster_cli, "_stdin_is_terminal", lambda: True)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cluster_cli.cluster_app, ["create", "--cidr", CIDR], input="")
    assert isinstance(result.exception, ClusterError), result.output
    assert str(result.exception) == (f"No password: set {PASSWORD_ENV} or type it at the prompt")


def test_status_as_json_follows_its_schema_and_a_missing_cluster_prints_none(
    aws_env: str, cli: Callable[..., Run]
) -> None:
    """`cluster status --format json` (issue 16), validated against the shipped schema."""
    identifier, role = names()
    made = cli("cluster", "create", "--identifier", identifier, "--role-name", role, "--cidr", CIDR)
    assert made.returncode == 0, made.stderr
    try:
        status = cli("cluster", "status", "--identifier", identifier, "--format", "json")
        assert status.returncode == 0, status.stderr
        found = json.loads(status.stdout)  # the whole of stdout: one document
        jsonschema.Draft202012Validator(load_schema("cluster-status")).validate(found)
        role_arn = admin(aws_env, "iam").get_role(RoleName=role)["Role"]["Arn"]
        assert (found["identifier"], found["region"], found["state"]) == (
            identifier, REGION, "available",
        )  # fmt: skip
        assert (found["nodes"], found["node_type"], found["cluster_type"]) == (
            4, "dc2.large", "multi-node",
        )  # fmt: skip
        assert found["port"] == 5439
        assert found["host"].startswith(f"{identifier}.")
        assert found["role_arns"] == [role_arn]
        (group,) = found["security_groups"]
        rules = [(r["group_id"], r["protocol"], r["from_port"], r["to_port"], r["source"])
                 for r in found["ingress"]]  # fmt: skip
        assert (group, "tcp", 5439, 5439, CIDR) in rules
        status.assert_never_shows(*SECRETS)
    finally:
        cli("cluster", "delete", "--identifier", identifier, "--role-name", role, "--yes")

    other, _ = names()
    missing = cli("cluster", "status", "--identifier", other, "--format", "json")
    one_line_error(missing, f"No Redshift cluster '{other}' in {REGION}")
    assert missing.stdout == ""
