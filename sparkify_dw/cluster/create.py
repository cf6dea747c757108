"""`create_cluster`: the IAM role, the security group and its ingress rule, and the cluster,
each found or made (`_ensure_*`); an existing cluster that is not the one asked for is an error,
never changed. The master password goes only into CreateCluster, masked in botocore's log."""

from __future__ import annotations

import ipaddress
import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sparkify_dw.aws import error_code, masking
from sparkify_dw.cluster.clients import Clients, aws_errors
from sparkify_dw.cluster.spec import (
    CLUSTER_TAG_KEY,
    OWNER_KEY,
    OWNER_VALUE,
    PORT,
    ClusterError,
    ClusterSpec,
    check_cidr,
    check_password,
    rule_description,
    security_group_name,
)
from sparkify_dw.cluster.status import (
    ClusterStatus,
    IngressRule,
    Progress,
    Step,
    attached_policies,
    find_cluster,
    ingress_rules,
    no_progress,
    nodes_text,
    security_groups,
    status_of,
    wait_until_available,
)

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import IpPermissionTypeDef
    from mypy_boto3_redshift.type_defs import ClusterTypeDef, CreateClusterMessageTypeDef

S3_READ_ONLY: Final = "AmazonS3ReadOnlyAccess"
TRUST_POLICY: Final = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "redshift.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
# States in which an existing cluster is the one asked for (or becoming it).
USABLE_STATES: Final = frozenset(
    {"available", "creating", "modifying", "rebooting", "resizing", "rotating-keys"}
)


@dataclass(frozen=True)
class CreateResult:
    status: ClusterStatus
    role_arn: str
    steps: tuple[Step, ...]

    @property
    def changed(self) -> bool:
        return any(step.changed for step in self.steps)


def create_cluster(
    spec: ClusterSpec,
    password: str,
    *,
    clients: Clients | None = None,
    region: str | None = None,
    wait: bool = False,
    progress: Progress = no_progress,
) -> CreateResult:
    """Make (or find) the role, the security group and its rule, and the cluster.

    Safe to repeat: what exists is kept, only what is missing is made. With `wait`, returns
    once the cluster is available (`progress(message)` wraps the wait, e.g. a spinner).
    """
    spec.validate()
    check_password(password)  # both before any AWS call
    cidr = check_cidr(spec.cidr)
    clients = clients or Clients.connect(region)
    steps: list[Step] = []
    with masking(password):
        cluster = find_cluster(clients, spec.identifier)
        if cluster is not None:
            _check_same(cluster, spec, clients.region)
        role_arn = _ensure_role(clients, spec.role_name, steps)
        if cluster is None:
            vpc_id = _default_vpc(clients)
            group_id = _ensure_security_group(clients, spec.identifier, vpc_id, steps)
            _ensure_ingress(clients, group_id, cidr, PORT, spec.identifier, steps)
            cluster = _create(clients, spec, password, role_arn, group_id, steps)
        else:
            steps.append(
                Step(
                    f"Cluster {spec.identifier}: exists ({cluster.get('ClusterStatus')}, "
                    f"{nodes_text(cluster)})",
                    False,
                )
            )
            group_id = _cluster_group(clients, cluster)
            port = cluster.get("Endpoint", {}).get("Port") or PORT
            _ensure_ingress(clients, group_id, cidr, port, spec.identifier, steps)
    if wait:
        cluster = wait_until_available(spec.identifier, clients=clients, progress=progress)
    return CreateResult(status_of(clients, cluster), role_arn, tuple(steps))


def _check_same(cluster: ClusterTypeDef, spec: ClusterSpec, region: str) -> None:
    """An existing cluster must be the one asked for; else it is someone else's."""
    identifier = spec.identifier
    state = cluster.get("ClusterStatus", "unknown")
    if state not in USABLE_STATES:
        raise ClusterError(
            f"Cluster {identifier!r} already exists in {region} in state {state!r}: wait until "
            "it is available (or gone), or choose another --identifier"
        )
    differences = []
    if cluster.get("NodeType") != spec.node_type:
        differences.append(f"node type {cluster.get('NodeType')} (not {spec.node_type})")
    if int(cluster.get("NumberOfNodes", 1)) != spec.nodes:
        differences.append(f"{cluster.get('NumberOfNodes')} nodes (not {spec.nodes})")
    roles = [r["IamRoleArn"] for r in cluster.get("IamRoles", [])]
    if not any(arn.rsplit("/", 1)[-1] == spec.role_name for arn in roles):
        have = ", ".join(arn.rsplit("/", 1)[-1] for arn in roles) or "none"
        differences.append(f"IAM roles {have} (not {spec.role_name})")
    if cluster.get("DBName", "dev") != spec.db_name:
        differences.append(f"database {cluster.get('DBName')} (not {spec.db_name})")
    if cluster.get("MasterUsername") != spec.db_user:
        differences.append(f"user {cluster.get('MasterUsername')} (not {spec.db_user})")
    if not cluster.get("Encrypted", False):
        differences.append("not encrypted")
    if differences:
        raise ClusterError(
            f"Cluster {identifier!r} already exists in {region} and is not the one asked for: "
            f"{'; '.join(differences)}. Choose another --identifier, or pass that cluster's "
            "own settings"
        )


def _ensure_role(clients: Clients, role_name: str, steps: list[Step]) -> str:
    iam = clients.iam
    with aws_errors(f"look up IAM role {role_name}"):
        try:
            role = iam.get_role(RoleName=role_name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            role = None
    if role is not None:
        if not _trusts_redshift(role.get("AssumeRolePolicyDocument")):
            raise ClusterError(
                f"IAM role {role_name} exists but does not let Redshift assume it "
                "(its trust policy lacks redshift.amazonaws.com): choose another --role-name"
            )
        steps.append(Step(f"IAM role {role_name}: exists", False))
    else:
        with aws_errors(f"create IAM role {role_name}"):
            role = iam.create_role(
                RoleName=role_name,
                AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
                Description="Lets Amazon Redshift read S3 (made by sparkify-dw cluster create)",
                Tags=[{"Key": OWNER_KEY, "Value": OWNER_VALUE}],
            )["Role"]
        steps.append(Step(f"IAM role {role_name}: created", True))
    role_arn = role["Arn"]
    partition = role_arn.split(":")[1] if role_arn.count(":") >= 5 else "aws"
    policy_arn = f"arn:{partition}:iam::aws:policy/{S3_READ_ONLY}"
    if policy_arn in attached_policies(clients, role_name):
        steps.append(Step(f"IAM role {role_name}: {S3_READ_ONLY} attached", False))
    else:
        with aws_errors(f"attach {S3_READ_ONLY} to IAM role {role_name}"):
            iam.attach_role_policy(RoleName=role_name, PolicyArn=policy_arn)
        steps.append(Step(f"IAM role {role_name}: {S3_READ_ONLY} attached now", True))
    return role_arn


def _trusts_redshift(document: Any) -> bool:
    if isinstance(document, str):
        try:
            document = json.loads(urllib.parse.unquote(document))
        except ValueError:
            return False
    if not isinstance(document, Mapping):
        return False
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    for statement in statements:
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        principal = statement.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, Mapping) else []
        services = [services] if isinstance(services, str) else services
        if "redshift.amazonaws.com" in services and (
            {"sts:AssumeRole", "sts:*", "*"} & set(actions)
        ):
            return True
    return False


def _default_vpc(clients: Clients) -> str:
    with aws_errors("look up the default VPC"):
        vpcs = clients.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])
    found = vpcs.get("Vpcs", [])
    if not found:
        raise ClusterError(
            f"No default VPC in {clients.region}: create one with `aws ec2 create-default-vpc "
            f"--region {clients.region}`, or use a region that has one"
        )
    return found[0]["VpcId"]


def _ensure_security_group(
    clients: Clients, identifier: str, vpc_id: str, steps: list[Step]
) -> str:
    name = security_group_name(identifier)
    existing = security_groups(clients, name=name, vpc_id=vpc_id)
    if existing:
        group_id = existing[0]["GroupId"]
        steps.append(Step(f"Security group {name} ({group_id}): exists", False))
        return group_id
    ec2 = clients.ec2
    with aws_errors(f"create security group {name} in {vpc_id}"):
        try:
            group_id = ec2.create_security_group(
                GroupName=name,
                Description=f"Redshift cluster {identifier}: port {PORT} (sparkify-dw)",
                VpcId=vpc_id,
                TagSpecifications=[
                    {
                        "ResourceType": "security-group",
                        "Tags": [
                            {"Key": OWNER_KEY, "Value": OWNER_VALUE},
                            {"Key": CLUSTER_TAG_KEY, "Value": identifier},
                        ],
                    }
                ],
            )["GroupId"]
        except ec2.exceptions.ClientError as exc:
            if error_code(exc) != "InvalidGroup.Duplicate":  # made meanwhile by another run
                raise
            return _ensure_security_group(clients, identifier, vpc_id, steps)
    steps.append(Step(f"Security group {name} ({group_id}) in {vpc_id}: created", True))
    return group_id


def _cluster_group(clients: Clients, cluster: ClusterTypeDef) -> str:
    """The security group of an existing cluster that takes the ingress rule: the one this
    module made for it if it has it, else its first."""
    ids = [g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])]
    if not ids:
        raise ClusterError(
            f"Cluster {cluster['ClusterIdentifier']!r} has no VPC security group to open port "
            f"{PORT} on"
        )
    name = security_group_name(cluster["ClusterIdentifier"])
    for group in security_groups(clients, group_ids=ids):
        if group.get("GroupName") == name:
            return group["GroupId"]
    return ids[0]


def _ensure_ingress(
    clients: Clients, group_id: str, cidr: str, port: int, identifier: str, steps: list[Step]
) -> None:
    what = f"Port {port} open to {cidr} ({group_id})"
    for group in security_groups(clients, group_ids=[group_id]):
        for rule in ingress_rules(group):
            if _covers(rule, cidr, port):
                steps.append(Step(f"{what}: rule exists", False))
                return
    permission: IpPermissionTypeDef = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if ipaddress.ip_network(cidr).version == 4:
        permission["IpRanges"] = [{"CidrIp": cidr, "Description": rule_description(identifier)}]
    else:
        permission["Ipv6Ranges"] = [{"CidrIpv6": cidr, "Description": rule_description(identifier)}]
    ec2 = clients.ec2
    with aws_errors(f"open port {port} to {cidr} on security group {group_id}"):
        try:
            ec2.authorize_security_group_ingress(
                GroupId=group_id,
                IpPermissions=[permission],
            )
        except ec2.exceptions.ClientError as exc:
            if error_code(exc) != "InvalidPermission.Duplicate":
                raise
            steps.append(Step(f"{what}: rule exists", False))
            return
    steps.append(Step(f"{what}: rule added", True))


def _covers(rule: IngressRule, cidr: str, port: int) -> bool:
    """Whether the rule already lets `cidr` reach `port` (the same block or a larger one)."""
    if rule.protocol not in ("tcp", "6", "-1"):
        return False
    if rule.protocol != "-1" and not (
        rule.from_port is not None
        and rule.to_port is not None
        and rule.from_port <= port <= rule.to_port
    ):
        return False
    try:
        source = ipaddress.ip_network(rule.source)
    except ValueError:  # a security group or prefix list: not a CIDR block
        return False
    wanted = ipaddress.ip_network(cidr)
    if isinstance(source, ipaddress.IPv4Network) and isinstance(wanted, ipaddress.IPv4Network):
        return wanted.subnet_of(source)
    if isinstance(source, ipaddress.IPv6Network) and isinstance(wanted, ipaddress.IPv6Network):
        return wanted.subnet_of(source)
    return False


def _create(
    clients: Clients,
    spec: ClusterSpec,
    password: str,
    role_arn: str,
    group_id: str,
    steps: list[Step],
) -> ClusterTypeDef:
    made = list(dict.fromkeys(step.what.split(":")[0] for step in steps if step.changed))
    leftover = (
        f"; made so far: {', '.join(made)} (`sparkify-dw cluster delete --yes` removes them)"
        if made
        else ""
    )
    request: CreateClusterMessageTypeDef = {
        "ClusterIdentifier": spec.identifier,
        "ClusterType": spec.cluster_type,
        "NodeType": spec.node_type,
        "DBName": spec.db_name,
        "MasterUsername": spec.db_user,
        "MasterUserPassword": password,
        "Port": PORT,
        "IamRoles": [role_arn],
        "VpcSecurityGroupIds": [group_id],
        "Encrypted": True,
        "PubliclyAccessible": spec.public,
        "Tags": [{"Key": OWNER_KEY, "Value": OWNER_VALUE}],
    }
    if spec.cluster_type == "multi-node":  # a single-node cluster takes no NumberOfNodes
        request["NumberOfNodes"] = spec.nodes
    redshift = clients.redshift
    try:
        with aws_errors(
            f"create Redshift cluster {spec.identifier} ({spec.nodes} x {spec.node_type})",
            secrets=[password],
        ):
            try:
                cluster = redshift.create_cluster(**request)["Cluster"]
            except redshift.exceptions.ClusterAlreadyExistsFault:
                # made meanwhile (by another run, or someone else): is it the one asked for?
                existing = find_cluster(clients, spec.identifier)
                if existing is None:
                    raise
                _check_same(existing, spec, clients.region)
                steps.append(Step(f"Cluster {spec.identifier}: exists", False))
                return existing
    except ClusterError as exc:
        raise ClusterError(f"{exc}{leftover}") from None
    steps.append(
        Step(
            f"Cluster {spec.identifier}: created ({nodes_text(cluster)}, encrypted, "
            f"{cluster.get('ClusterStatus', 'creating')})",
            True,
        )
    )
    return cluster
