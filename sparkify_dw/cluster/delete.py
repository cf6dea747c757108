"""`delete_cluster`: the cluster (optionally after a final snapshot), the ingress rules and the
security group provisioning added, and the role if provisioning created it and no other cluster
uses it. What is already gone is skipped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sparkify_dw.aws import error_code
from sparkify_dw.cluster.clients import Clients, aws_errors
from sparkify_dw.cluster.spec import (
    ROLE_NAME_RE,
    ClusterError,
    check_identifier,
    is_ours,
    rule_description,
    security_group_name,
)
from sparkify_dw.cluster.status import (
    Progress,
    Step,
    attached_policies,
    find_cluster,
    ingress_rules,
    no_progress,
    nodes_text,
    security_groups,
    wait_until_deleted,
)

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import IpPermissionTypeDef
    from mypy_boto3_redshift.type_defs import ClusterTypeDef


@dataclass(frozen=True)
class DeleteResult:
    steps: tuple[Step, ...]

    @property
    def changed(self) -> bool:
        return any(step.changed for step in self.steps)


def delete_cluster(
    identifier: str,
    *,
    role_name: str = "myRedshiftRole",
    final_snapshot: str | None = None,
    keep_role: bool = False,
    wait: bool = False,
    clients: Clients | None = None,
    region: str | None = None,
    progress: Progress = no_progress,
) -> DeleteResult:
    """Delete the cluster, the ingress rules and security group provisioning added, and the
    role (if provisioning created it and no other cluster uses it) unless `keep_role`.

    Safe to repeat: what is already gone is skipped. A cluster stays in state 'deleting' for a
    few minutes and its security group cannot be deleted until it is gone: with `wait` this
    waits for that; without, a second run deletes the group.
    """
    check_identifier(identifier)
    if final_snapshot is not None:
        check_identifier(final_snapshot, "snapshot identifier")
    if not ROLE_NAME_RE.fullmatch(role_name):
        raise ClusterError(f"{role_name!r} is not a valid IAM role name")
    clients = clients or Clients.connect(region)
    steps: list[Step] = []
    cluster = find_cluster(clients, identifier)
    group_ids: list[str] = []
    if cluster is None:
        steps.append(Step(f"Cluster {identifier}: none in {clients.region}", False))
    else:
        group_ids = [g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])]
        _delete(clients, cluster, final_snapshot, steps)
    own_groups = [
        g
        for g in security_groups(clients, name=security_group_name(identifier))
        if is_ours(g.get("Tags", []))
    ]
    group_ids += [g["GroupId"] for g in own_groups if g["GroupId"] not in group_ids]
    _revoke_own_rules(clients, identifier, group_ids, steps)
    if keep_role:
        steps.append(Step(f"IAM role {role_name}: kept (--keep-role)", False))
    else:
        _delete_role(clients, role_name, identifier, steps)
    if wait and cluster is not None:
        wait_until_deleted(identifier, clients=clients, progress=progress)
    for group in own_groups:
        _delete_group(clients, group["GroupId"], identifier, steps)
    return DeleteResult(tuple(steps))


def _delete(
    clients: Clients, cluster: ClusterTypeDef, final_snapshot: str | None, steps: list[Step]
) -> None:
    identifier = cluster["ClusterIdentifier"]
    if cluster.get("ClusterStatus") == "deleting":
        steps.append(Step(f"Cluster {identifier}: already being deleted", False))
        return
    with aws_errors(f"delete Redshift cluster {identifier}"):
        if final_snapshot:
            clients.redshift.delete_cluster(
                ClusterIdentifier=identifier,
                SkipFinalClusterSnapshot=False,
                FinalClusterSnapshotIdentifier=final_snapshot,
            )
        else:
            clients.redshift.delete_cluster(
                ClusterIdentifier=identifier, SkipFinalClusterSnapshot=True
            )
    snapshot = f"final snapshot {final_snapshot}" if final_snapshot else "no final snapshot"
    steps.append(Step(f"Cluster {identifier}: deleted ({nodes_text(cluster)}, {snapshot})", True))


def _revoke_own_rules(
    clients: Clients, identifier: str, group_ids: Sequence[str], steps: list[Step]
) -> None:
    description = rule_description(identifier)
    for group in security_groups(clients, group_ids=group_ids):
        for rule in ingress_rules(group):
            if rule.description != description:
                continue
            permission: IpPermissionTypeDef = {"IpProtocol": rule.protocol}
            if rule.from_port is not None and rule.to_port is not None:
                permission["FromPort"], permission["ToPort"] = rule.from_port, rule.to_port
            if ":" in rule.source:
                permission["Ipv6Ranges"] = [{"CidrIpv6": rule.source}]
            else:
                permission["IpRanges"] = [{"CidrIp": rule.source}]
            with aws_errors(f"close port {rule.from_port} to {rule.source} on {rule.group_id}"):
                try:
                    clients.ec2.revoke_security_group_ingress(
                        GroupId=rule.group_id, IpPermissions=[permission]
                    )
                except clients.ec2.exceptions.ClientError as exc:
                    if error_code(exc) != "InvalidPermission.NotFound":
                        raise
                    continue
            steps.append(
                Step(
                    f"Port {rule.from_port} open to {rule.source} ({rule.group_id}): rule removed",
                    True,
                )
            )


def _delete_role(clients: Clients, role_name: str, identifier: str, steps: list[Step]) -> None:
    iam = clients.iam
    with aws_errors(f"look up IAM role {role_name}"):
        try:
            role = iam.get_role(RoleName=role_name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            steps.append(Step(f"IAM role {role_name}: none", False))
            return
        tags = iam.list_role_tags(RoleName=role_name).get("Tags", [])
    if not is_ours(tags):
        steps.append(Step(f"IAM role {role_name}: kept (sparkify-dw did not create it)", False))
        return
    users = _clusters_using(clients, role["Arn"], besides=identifier)
    if users:
        steps.append(
            Step(f"IAM role {role_name}: kept (cluster {', '.join(users)} uses it)", False)
        )
        return
    with aws_errors(f"delete IAM role {role_name}"):
        for arn in attached_policies(clients, role_name):
            iam.detach_role_policy(RoleName=role_name, PolicyArn=arn)
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
            for policy in page.get("PolicyNames", []):
                iam.delete_role_policy(RoleName=role_name, PolicyName=policy)
        profiles = iam.get_paginator("list_instance_profiles_for_role")
        for profile_page in profiles.paginate(RoleName=role_name):
            for profile in profile_page.get("InstanceProfiles", []):
                iam.remove_role_from_instance_profile(
                    InstanceProfileName=profile["InstanceProfileName"], RoleName=role_name
                )
        iam.delete_role(RoleName=role_name)
    steps.append(Step(f"IAM role {role_name}: deleted (its policies detached)", True))


def _clusters_using(clients: Clients, role_arn: str, *, besides: str) -> list[str]:
    users = []
    with aws_errors("list the Redshift clusters"):
        for page in clients.redshift.get_paginator("describe_clusters").paginate():
            for cluster in page.get("Clusters", []):
                if cluster["ClusterIdentifier"] == besides:
                    continue
                if cluster.get("ClusterStatus") == "deleting":
                    continue
                if role_arn in (r["IamRoleArn"] for r in cluster.get("IamRoles", [])):
                    users.append(cluster["ClusterIdentifier"])
    return users


def _delete_group(clients: Clients, group_id: str, identifier: str, steps: list[Step]) -> None:
    name = security_group_name(identifier)
    ec2 = clients.ec2
    with aws_errors(f"delete security group {name} ({group_id})"):
        try:
            ec2.delete_security_group(GroupId=group_id)
        except ec2.exceptions.ClientError as exc:
            if error_code(exc) == "InvalidGroup.NotFound":
                return
            if error_code(exc) != "DependencyViolation":
                raise
            steps.append(
                Step(
                    f"Security group {name} ({group_id}): kept for now, the cluster still uses "
                    "it while it is being deleted; run the same delete again in a few minutes "
                    "(or add --wait)",
                    False,
                )
            )
            return
    steps.append(Step(f"Security group {name} ({group_id}): deleted", True))
