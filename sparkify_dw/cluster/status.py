"""What exists: a cluster's state, endpoint, roles and security groups (`cluster_status`), the
lookups create and delete share, and waiting (boto3's waiters) until a cluster is available or
gone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sparkify_dw.aws import one_line
from sparkify_dw.cluster.clients import Clients, aws_errors
from sparkify_dw.cluster.spec import ClusterError, check_identifier

if TYPE_CHECKING:
    from botocore.waiter import Waiter
    from mypy_boto3_ec2.type_defs import FilterTypeDef, SecurityGroupTypeDef
    from mypy_boto3_redshift.type_defs import ClusterTypeDef

WAIT_DELAY: Final = 30  # seconds between two looks at the cluster
WAIT_ATTEMPTS: Final = 80  # 40 minutes: creating a cluster usually takes 5-15


@dataclass(frozen=True)
class IngressRule:
    """One inbound rule of a security group, per source (CIDR block or group)."""

    group_id: str
    protocol: str
    from_port: int | None
    to_port: int | None
    source: str
    description: str = ""

    @property
    def ports(self) -> str:
        if self.protocol == "-1":
            return "all traffic"
        if self.from_port is None or self.from_port == self.to_port:
            return f"{self.protocol} {self.from_port}"
        return f"{self.protocol} {self.from_port}-{self.to_port}"

    def describe(self) -> str:
        described = f" ({self.description})" if self.description else ""
        return f"{self.group_id}: {self.ports} from {self.source}{described}"


@dataclass(frozen=True)
class ClusterStatus:
    """What `describe_clusters` and the cluster's security groups say about a cluster."""

    identifier: str
    region: str
    state: str
    node_type: str
    nodes: int
    db_name: str
    db_user: str
    host: str | None
    port: int | None
    encrypted: bool
    public: bool
    vpc_id: str | None
    role_arns: tuple[str, ...]
    security_groups: tuple[str, ...]
    ingress: tuple[IngressRule, ...]

    @property
    def cluster_type(self) -> str:
        return "single-node" if self.nodes == 1 else "multi-node"

    def to_dict(self) -> dict[str, Any]:
        """The status as plain data (`cluster status --format json`; no secret is in it)."""
        return {
            "identifier": self.identifier,
            "region": self.region,
            "state": self.state,
            "node_type": self.node_type,
            "nodes": self.nodes,
            "cluster_type": self.cluster_type,
            "db_name": self.db_name,
            "db_user": self.db_user,
            "host": self.host,
            "port": self.port,
            "encrypted": self.encrypted,
            "public": self.public,
            "vpc_id": self.vpc_id,
            "role_arns": list(self.role_arns),
            "security_groups": list(self.security_groups),
            "ingress": [
                {
                    "group_id": rule.group_id,
                    "protocol": rule.protocol,
                    "from_port": rule.from_port,
                    "to_port": rule.to_port,
                    "source": rule.source,
                    "description": rule.description,
                }
                for rule in self.ingress
            ],
        }


def find_cluster(clients: Clients, identifier: str) -> ClusterTypeDef | None:
    """The cluster as describe_clusters says it is, or None if there is none."""
    with aws_errors(f"look up Redshift cluster {identifier}"):
        try:
            found = clients.redshift.describe_clusters(ClusterIdentifier=identifier)["Clusters"]
        except clients.redshift.exceptions.ClusterNotFoundFault:
            return None
    return found[0] if found else None


def cluster_status(
    identifier: str, *, clients: Clients | None = None, region: str | None = None
) -> ClusterStatus:
    """The cluster's state, nodes, endpoint, roles and ingress rules; ClusterError if none."""
    check_identifier(identifier)
    clients = clients or Clients.connect(region)
    cluster = find_cluster(clients, identifier)
    if cluster is None:
        raise ClusterError(
            f"No Redshift cluster {identifier!r} in {clients.region} "
            "(create it with `sparkify-dw cluster create`)"
        )
    return status_of(clients, cluster)


def status_of(clients: Clients, cluster: ClusterTypeDef) -> ClusterStatus:
    """A found cluster's status, with the ingress rules of its security groups."""
    identifier = cluster["ClusterIdentifier"]
    endpoint = cluster.get("Endpoint", {})
    groups = tuple(g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", []))
    ingress: list[IngressRule] = []
    vpc_id = cluster.get("VpcId") or None
    for group in security_groups(clients, group_ids=groups):
        ingress.extend(ingress_rules(group))
        vpc_id = vpc_id or group.get("VpcId") or None
    return ClusterStatus(
        identifier=identifier,
        region=clients.region,
        state=cluster.get("ClusterStatus", "unknown"),
        node_type=cluster.get("NodeType", "unknown"),
        nodes=int(cluster.get("NumberOfNodes", 1)),
        db_name=cluster.get("DBName", "dev"),
        db_user=cluster.get("MasterUsername", ""),
        host=endpoint.get("Address") or None,
        port=endpoint.get("Port") or None,
        encrypted=bool(cluster.get("Encrypted", False)),
        public=bool(cluster.get("PubliclyAccessible", False)),
        vpc_id=vpc_id,
        role_arns=tuple(r["IamRoleArn"] for r in cluster.get("IamRoles", [])),
        security_groups=groups,
        ingress=tuple(ingress),
    )


def security_groups(
    clients: Clients,
    *,
    group_ids: Sequence[str] = (),
    name: str | None = None,
    vpc_id: str | None = None,
) -> list[SecurityGroupTypeDef]:
    """The security groups with these ids, or this name (in this VPC); none if neither."""
    if not group_ids and name is None:
        return []
    filters: list[FilterTypeDef] = []
    if name is not None:
        filters.append({"Name": "group-name", "Values": [name]})
    if vpc_id is not None:
        filters.append({"Name": "vpc-id", "Values": [vpc_id]})
    if group_ids:
        filters.append({"Name": "group-id", "Values": list(group_ids)})
    groups: list[SecurityGroupTypeDef] = []
    with aws_errors("look up the cluster's security groups"):
        paginator = clients.ec2.get_paginator("describe_security_groups")
        for page in paginator.paginate(Filters=filters):
            groups.extend(page.get("SecurityGroups", []))
    return groups


def ingress_rules(group: SecurityGroupTypeDef) -> list[IngressRule]:
    """A security group's inbound rules, one per source."""
    rules = []
    for permission in group.get("IpPermissions", []):
        protocol = permission.get("IpProtocol", "-1")
        ports = (permission.get("FromPort"), permission.get("ToPort"))
        sources = [
            (r.get("CidrIp", ""), r.get("Description", "")) for r in permission.get("IpRanges", [])
        ]
        sources += [
            (r.get("CidrIpv6", ""), r.get("Description", ""))
            for r in permission.get("Ipv6Ranges", [])
        ]
        sources += [
            (p.get("GroupId", ""), p.get("Description", ""))
            for p in permission.get("UserIdGroupPairs", [])
        ]
        sources += [
            (p.get("PrefixListId", ""), p.get("Description", ""))
            for p in permission.get("PrefixListIds", [])
        ]
        for source, description in sources:
            rules.append(
                IngressRule(group["GroupId"], protocol, ports[0], ports[1], source, description)
            )
    return rules


def nodes_text(cluster: ClusterTypeDef) -> str:
    """E.g. '4 x dc2.large'."""
    return f"{cluster.get('NumberOfNodes', 1)} x {cluster.get('NodeType', '?')}"


def attached_policies(clients: Clients, role_name: str) -> list[str]:
    """The ARNs of the managed policies attached to an IAM role."""
    arns: list[str] = []
    with aws_errors(f"list the policies of IAM role {role_name}"):
        paginator = clients.iam.get_paginator("list_attached_role_policies")
        for page in paginator.paginate(RoleName=role_name):
            arns.extend(p["PolicyArn"] for p in page.get("AttachedPolicies", []))
    return arns


# What provisioning reports ----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing provisioning looked at: what it is and whether this run changed it."""

    what: str
    changed: bool


# Wraps a wait, given what is waited for (the CLI shows a spinner).
Progress = Callable[[str], AbstractContextManager[Any]]


def no_progress(_message: str) -> AbstractContextManager[Any]:
    return nullcontext()


# Waiting ----------------------------------------------------------------------------------


def wait_until_available(
    identifier: str,
    *,
    clients: Clients,
    progress: Progress = no_progress,
    delay: int = WAIT_DELAY,
    attempts: int = WAIT_ATTEMPTS,
) -> ClusterTypeDef:
    """Wait (boto3's `cluster_available` waiter) until the cluster is available."""
    _wait(
        clients.redshift.get_waiter("cluster_available"),
        identifier,
        "available",
        f"Waiting for cluster {identifier} to be available (usually 5-15 minutes)",
        f"wait for cluster {identifier}",
        progress,
        delay,
        attempts,
    )
    cluster = find_cluster(clients, identifier)
    if cluster is None:
        raise ClusterError(f"Cluster {identifier} disappeared while waiting for it")
    return cluster


def wait_until_deleted(
    identifier: str,
    *,
    clients: Clients,
    progress: Progress = no_progress,
    delay: int = WAIT_DELAY,
    attempts: int = WAIT_ATTEMPTS,
) -> None:
    """Wait (boto3's `cluster_deleted` waiter) until the cluster is gone."""
    _wait(
        clients.redshift.get_waiter("cluster_deleted"),
        identifier,
        "deleted",
        f"Waiting for cluster {identifier} to be deleted (usually a few minutes)",
        f"wait for cluster {identifier} to be deleted",
        progress,
        delay,
        attempts,
    )


def _wait(
    waiter: Waiter,
    identifier: str,
    goal: str,
    waiting: str,
    doing: str,
    progress: Progress,
    delay: int,
    attempts: int,
) -> None:
    """Run one of boto3's waiters with a progress display; one line if it gives up."""
    from botocore.exceptions import WaiterError

    with progress(waiting), aws_errors(doing):
        try:
            waiter.wait(
                ClusterIdentifier=identifier,
                WaiterConfig={"Delay": delay, "MaxAttempts": attempts},
            )
        except WaiterError as exc:
            raise _waiter_error(exc, identifier, goal, delay * attempts) from None


def _waiter_error(exc: Exception, identifier: str, goal: str, seconds: int) -> ClusterError:
    response = getattr(exc, "last_response", None) or {}
    if "Error" in response:
        code = response["Error"].get("Code", "error")
        message = one_line(str(response["Error"].get("Message", "")))
        return ClusterError(f"Waiting for cluster {identifier} failed: {code}: {message}")
    clusters = response.get("Clusters") or [{}]
    state = clusters[0].get("ClusterStatus", "unknown")
    reason = str(getattr(exc, "kwargs", {}).get("reason", ""))
    if "Max attempts exceeded" in reason:
        return ClusterError(
            f"Cluster {identifier} is still {state!r} after {seconds // 60} minutes: wait again "
            "with the same command, or see `sparkify-dw cluster status`"
        )
    return ClusterError(
        f"Cluster {identifier} will not become {goal}: it is {state!r} "
        "(see `sparkify-dw cluster status` and the Redshift console's events)"
    )
