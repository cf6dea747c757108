"""Sparkify's own Redshift cluster, provisioned with boto3: IAM role, security group, cluster.

What the original Sparkify scripts did by hand, as three idempotent steps (no SQL here):

- `create_cluster`: the IAM role (Redshift's trust policy, `AmazonS3ReadOnlyAccess`), a security
  group `sparkify-dw-<identifier>` in the default VPC with port 5439 open to one CIDR block, and
  the cluster (encrypted, with that role and group). Whatever already exists is found and kept;
  only what is missing is made. An existing cluster that is not the one asked for (another node
  type, node count, role, database, or a state such as 'deleting') is an error, never changed.
- `cluster_status`: state, nodes, endpoint, roles and the ingress rules of its security groups.
- `delete_cluster`: the cluster (optionally after a final snapshot), the ingress rules and the
  security group this module added, and the role if this module created it and no other cluster
  uses it.

`write_dwh_config` writes the endpoint and role into a `dwh.cfg` (the file `sparkify-dw run
--config` reads), keeping every other section, key and comment.

Every failure is a `ClusterError` with one line. The master password is checked against
Redshift's rules before any AWS call, is sent only in CreateCluster, and is masked in botocore's
DEBUG log lines and in any error message; it is never printed.
"""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sparkify_dw.aws import botocore_errors, client_config, masking, one_line
from sparkify_dw.aws import error_code as _code
from sparkify_dw.dwhcfg import config_values as config_values
from sparkify_dw.dwhcfg import update_ini as update_ini
from sparkify_dw.dwhcfg import write_dwh_config as write_dwh_config
from sparkify_dw.errors import ClusterError as ClusterError

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from botocore.waiter import Waiter
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import FilterTypeDef, IpPermissionTypeDef, SecurityGroupTypeDef
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_redshift import RedshiftClient
    from mypy_boto3_redshift.type_defs import ClusterTypeDef, CreateClusterMessageTypeDef

NODE_TYPES: Final = (
    "dc2.large",
    "dc2.8xlarge",
    "ra3.large",
    "ra3.xlplus",
    "ra3.4xlarge",
    "ra3.16xlarge",
)
MAX_NODES: Final = 128  # the largest any node type allows; Redshift checks each type's own range
PORT: Final = 5439
PASSWORD_ENV: Final = "SPARKIFY_DB_PASSWORD"
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
# What this module made carries this tag, so that delete removes only its own things.
OWNER_KEY: Final = "created-by"
OWNER_VALUE: Final = "sparkify-dw"
CLUSTER_TAG_KEY: Final = "sparkify-dw:cluster"
RULE_PREFIX: Final = "sparkify-dw"  # the description of every ingress rule this module adds
# States in which an existing cluster is the one asked for (or becoming it).
USABLE_STATES: Final = frozenset(
    {"available", "creating", "modifying", "rebooting", "resizing", "rotating-keys"}
)
WAIT_DELAY: Final = 30  # seconds between two looks at the cluster
WAIT_ATTEMPTS: Final = 80  # 40 minutes: creating a cluster usually takes 5-15
MAX_ATTEMPTS: Final = 5  # standard retries, in all, unless the user configured their own

_PASSWORD_FORBIDDEN: Final = frozenset("'\"/\\@ ")
_IDENTIFIER = re.compile(r"[a-z](?:[a-z0-9]|-(?!-)){0,62}")
_DB_NAME = re.compile(r"[a-z_][a-z0-9_$]{0,63}")
_DB_USER = re.compile(r"[a-z][a-z0-9_+.@-]{0,127}")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")


# Checks made before any AWS call ----------------------------------------------------------


def check_password(password: str) -> None:
    """Redshift's rules for a master password; the message never shows the password."""
    problems = []
    if not 8 <= len(password) <= 64:
        problems.append("8 to 64 characters")
    if not any("A" <= c <= "Z" for c in password):
        problems.append("an uppercase letter")
    if not any("a" <= c <= "z" for c in password):
        problems.append("a lowercase letter")
    if not any("0" <= c <= "9" for c in password):
        problems.append("a digit")
    if any(not 33 <= ord(c) <= 126 or c in _PASSWORD_FORBIDDEN for c in password):
        problems.append("only printable ASCII other than ' \" / \\ @ and space")
    if problems:
        raise ClusterError(
            "The password breaks Redshift's rules: it needs " + ", ".join(problems) + " "
            "(8-64 characters with at least one uppercase letter, one lowercase letter and one "
            "digit; printable ASCII except ' \" / \\ @ and space)"
        )


def check_cidr(cidr: str) -> str:
    """The CIDR block, checked (IPv4 or IPv6, no host bits set)."""
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        raise ClusterError(
            f"--cidr {cidr!r} is not a CIDR block (e.g. 203.0.113.0/24, or your address "
            "followed by /32)"
        ) from None
    if "/" not in cidr:
        raise ClusterError(f"--cidr {cidr!r} needs a prefix length, e.g. {network}")
    if str(network) != cidr.strip():
        raise ClusterError(f"--cidr {cidr!r} has host bits set: did you mean {network}?")
    return str(network)


def check_identifier(identifier: str, what: str = "cluster identifier") -> str:
    """A Redshift cluster (or snapshot) identifier: 1-63 lowercase letters, digits and single
    hyphens, starting with a letter and not ending with a hyphen."""
    if not _IDENTIFIER.fullmatch(identifier) or identifier.endswith("-"):
        raise ClusterError(
            f"{identifier!r} is not a valid {what}: 1-63 lowercase letters, digits and "
            "hyphens, starting with a letter, no two hyphens in a row, no hyphen at the end"
        )
    return identifier


@dataclass(frozen=True)
class ClusterSpec:
    """The cluster asked for. `cidr` is the block that may connect to port 5439."""

    identifier: str = "sparkify"
    node_type: str = "dc2.large"
    nodes: int = 4
    role_name: str = "myRedshiftRole"
    db_name: str = "dev"
    db_user: str = "awsuser"
    cidr: str = ""
    public: bool = True

    @property
    def cluster_type(self) -> str:
        return "single-node" if self.nodes == 1 else "multi-node"

    @property
    def security_group_name(self) -> str:
        return security_group_name(self.identifier)

    def validate(self) -> None:
        """Every check that needs no AWS call; raises ClusterError."""
        check_identifier(self.identifier)
        if self.node_type not in NODE_TYPES:
            raise ClusterError(
                f"Unknown node type {self.node_type!r}: Redshift has {', '.join(NODE_TYPES)}"
            )
        if not 1 <= self.nodes <= MAX_NODES:
            raise ClusterError(f"--nodes must be 1 to {MAX_NODES}, not {self.nodes}")
        if not _ROLE_NAME.fullmatch(self.role_name):
            raise ClusterError(
                f"{self.role_name!r} is not a valid IAM role name: 1-64 letters, digits and +=,.@_-"
            )
        if not _DB_NAME.fullmatch(self.db_name):
            raise ClusterError(
                f"{self.db_name!r} is not a valid Redshift database name: 1-64 lowercase "
                "letters, digits, _ or $, not starting with a digit"
            )
        if not _DB_USER.fullmatch(self.db_user) or self.db_user == "public":
            raise ClusterError(
                f"{self.db_user!r} is not a valid Redshift user name: 1-128 lowercase letters, "
                "digits and _+.@-, starting with a letter, not 'public'"
            )
        check_cidr(self.cidr)


def security_group_name(identifier: str) -> str:
    """The name of the security group made for a cluster."""
    return f"sparkify-dw-{identifier}"


# Clients and errors -----------------------------------------------------------------------


@dataclass(frozen=True)
class Clients:
    """The three boto3 clients provisioning needs, in one region."""

    iam: IAMClient
    ec2: EC2Client
    redshift: RedshiftClient

    @property
    def region(self) -> str:
        return str(self.redshift.meta.region_name)

    @classmethod
    def connect(cls, region: str | None = None) -> Clients:
        """Clients from boto3's own settings (AWS_PROFILE, AWS_DEFAULT_REGION,
        AWS_ENDPOINT_URL, …), with standard retries unless the user configured retries."""
        import boto3
        import botocore.session
        from botocore.exceptions import NoRegionError

        from sparkify_dw.aws import mask_session_tokens

        mask_session_tokens()  # as for S3 reads: botocore's DEBUG trace shows the token
        with _aws_errors("set up the AWS clients"):
            core = botocore.session.get_session()
            session = boto3.session.Session(botocore_session=core, region_name=region)
            if not session.region_name:  # botocore makes do without one for AWS_ENDPOINT_URL
                raise NoRegionError()
            config = client_config(core, max_attempts=MAX_ATTEMPTS)
            try:
                redshift = session.client("redshift", config=config)
                return cls(
                    iam=session.client("iam", config=config),
                    ec2=session.client("ec2", config=config),
                    redshift=redshift,
                )
            except ValueError as exc:  # e.g. a malformed AWS_ENDPOINT_URL
                raise ClusterError(f"Cannot set up the AWS clients: {exc}") from None


_REFUSED: Final = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidToken",
}
_DENIED: Final = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
}
_QUOTA: Final = {
    "ClusterQuotaExceeded",
    "ClusterQuotaExceededFault",
    "NumberOfNodesQuotaExceeded",
    "NumberOfNodesQuotaExceededFault",
    "NumberOfNodesPerClusterLimitExceeded",
    "NumberOfNodesPerClusterLimitExceededFault",
    "InsufficientClusterCapacity",
    "InsufficientClusterCapacityFault",
    "LimitExceeded",
    "LimitExceededFault",
    "RulesPerSecurityGroupLimitExceeded",
    "SecurityGroupLimitExceeded",
    "VcpuLimitExceeded",
}
_REFUSED_VALUE: Final = {
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "UnsupportedOperation",
    "UnsupportedOperationFault",
    "InvalidVPCNetworkStateFault",
    "InvalidClusterSubnetGroupStateFault",
    "ClusterSubnetGroupNotFoundFault",
    "InvalidSubnet",
}


@contextmanager
def _aws_errors(doing: str, secrets: Sequence[str] = ()) -> Iterator[None]:
    """Turn botocore's exceptions into one-line ClusterErrors; `doing` says what failed."""
    from botocore.exceptions import (
        BotoCoreError,
        NoRegionError,
        ParamValidationError,
        WaiterError,
    )
    from botocore.parsers import ResponseParserError

    try:
        with botocore_errors(
            ClusterError, doing, client_error=lambda exc: _client_error(exc, doing, secrets)
        ):
            yield
    except NoRegionError:
        raise ClusterError(
            f"No AWS region to {doing}: pass --region or set AWS_DEFAULT_REGION "
            "(or a region in your AWS profile)"
        ) from None
    except ParamValidationError as exc:
        raise ClusterError(f"Cannot {doing}: {one_line(str(exc), secrets)}") from None
    except WaiterError:
        raise  # the waiting functions say what they waited for
    except ResponseParserError:
        raise ClusterError(
            f"Cannot {doing}: the answer was not an AWS response (check AWS_ENDPOINT_URL)"
        ) from None
    except BotoCoreError as exc:
        raise ClusterError(f"Cannot {doing}: {one_line(str(exc), secrets)}") from None


def _client_error(exc: ClientError, doing: str, secrets: Sequence[str]) -> ClusterError:
    code = _code(exc)
    message = one_line(str(exc.response.get("Error", {}).get("Message", "")), secrets)
    # EC2 appends an encoded blob to UnauthorizedOperation; the first sentence says enough.
    message = message.split(" Encoded authorization failure message:")[0]
    detail = f"{code}: {message}" if message else code or "error"
    if code in _REFUSED:
        return ClusterError(
            f"AWS refused the credentials ({code}) to {doing}: check AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if code in _DENIED:
        return ClusterError(f"Access denied: the AWS credentials in use may not {doing} ({detail})")
    if code in _QUOTA:
        return ClusterError(
            f"AWS quota exceeded, cannot {doing} ({detail}): delete what you no longer use, "
            "or ask for a higher quota in the Service Quotas console"
        )
    if code in _REFUSED_VALUE:
        return ClusterError(f"AWS refused to {doing} ({detail})")
    return ClusterError(f"Cannot {doing}: {detail}")


# What exists ------------------------------------------------------------------------------


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


def _find_cluster(clients: Clients, identifier: str) -> ClusterTypeDef | None:
    with _aws_errors(f"look up Redshift cluster {identifier}"):
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
    cluster = _find_cluster(clients, identifier)
    if cluster is None:
        raise ClusterError(
            f"No Redshift cluster {identifier!r} in {clients.region} "
            "(create it with `sparkify-dw cluster create`)"
        )
    return _status(clients, cluster)


def _status(clients: Clients, cluster: ClusterTypeDef) -> ClusterStatus:
    identifier = cluster["ClusterIdentifier"]
    endpoint = cluster.get("Endpoint", {})
    groups = tuple(g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", []))
    ingress: list[IngressRule] = []
    vpc_id = cluster.get("VpcId") or None
    for group in _security_groups(clients, group_ids=groups):
        ingress.extend(_ingress_rules(group))
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


def _security_groups(
    clients: Clients,
    *,
    group_ids: Sequence[str] = (),
    name: str | None = None,
    vpc_id: str | None = None,
) -> list[SecurityGroupTypeDef]:
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
    with _aws_errors("look up the cluster's security groups"):
        paginator = clients.ec2.get_paginator("describe_security_groups")
        for page in paginator.paginate(Filters=filters):
            groups.extend(page.get("SecurityGroups", []))
    return groups


def _ingress_rules(group: SecurityGroupTypeDef) -> list[IngressRule]:
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


def _is_ours(tags: Iterable[Mapping[str, object]]) -> bool:
    return any(t.get("Key") == OWNER_KEY and t.get("Value") == OWNER_VALUE for t in tags)


# Create -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing provisioning looked at: what it is and whether this run changed it."""

    what: str
    changed: bool


@dataclass(frozen=True)
class CreateResult:
    status: ClusterStatus
    role_arn: str
    steps: tuple[Step, ...]

    @property
    def changed(self) -> bool:
        return any(step.changed for step in self.steps)


Progress = Callable[[str], AbstractContextManager[Any]]


def _no_progress(_message: str) -> AbstractContextManager[Any]:
    return nullcontext()


def create_cluster(
    spec: ClusterSpec,
    password: str,
    *,
    clients: Clients | None = None,
    region: str | None = None,
    wait: bool = False,
    progress: Progress = _no_progress,
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
        cluster = _find_cluster(clients, spec.identifier)
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
                    f"{_nodes(cluster)})",
                    False,
                )
            )
            group_id = _cluster_group(clients, cluster)
            port = cluster.get("Endpoint", {}).get("Port") or PORT
            _ensure_ingress(clients, group_id, cidr, port, spec.identifier, steps)
    if wait:
        cluster = wait_until_available(spec.identifier, clients=clients, progress=progress)
    return CreateResult(_status(clients, cluster), role_arn, tuple(steps))


def _nodes(cluster: ClusterTypeDef) -> str:
    return f"{cluster.get('NumberOfNodes', 1)} x {cluster.get('NodeType', '?')}"


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
    with _aws_errors(f"look up IAM role {role_name}"):
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
        with _aws_errors(f"create IAM role {role_name}"):
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
    if policy_arn in _attached_policies(clients, role_name):
        steps.append(Step(f"IAM role {role_name}: {S3_READ_ONLY} attached", False))
    else:
        with _aws_errors(f"attach {S3_READ_ONLY} to IAM role {role_name}"):
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


def _attached_policies(clients: Clients, role_name: str) -> list[str]:
    arns: list[str] = []
    with _aws_errors(f"list the policies of IAM role {role_name}"):
        paginator = clients.iam.get_paginator("list_attached_role_policies")
        for page in paginator.paginate(RoleName=role_name):
            arns.extend(p["PolicyArn"] for p in page.get("AttachedPolicies", []))
    return arns


def _default_vpc(clients: Clients) -> str:
    with _aws_errors("look up the default VPC"):
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
    existing = _security_groups(clients, name=name, vpc_id=vpc_id)
    if existing:
        group_id = existing[0]["GroupId"]
        steps.append(Step(f"Security group {name} ({group_id}): exists", False))
        return group_id
    ec2 = clients.ec2
    with _aws_errors(f"create security group {name} in {vpc_id}"):
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
            if _code(exc) != "InvalidGroup.Duplicate":  # made meanwhile by another run
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
    for group in _security_groups(clients, group_ids=ids):
        if group.get("GroupName") == name:
            return group["GroupId"]
    return ids[0]


def _ensure_ingress(
    clients: Clients, group_id: str, cidr: str, port: int, identifier: str, steps: list[Step]
) -> None:
    what = f"Port {port} open to {cidr} ({group_id})"
    for group in _security_groups(clients, group_ids=[group_id]):
        for rule in _ingress_rules(group):
            if _covers(rule, cidr, port):
                steps.append(Step(f"{what}: rule exists", False))
                return
    permission: IpPermissionTypeDef = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if ipaddress.ip_network(cidr).version == 4:
        permission["IpRanges"] = [{"CidrIp": cidr, "Description": _rule_description(identifier)}]
    else:
        permission["Ipv6Ranges"] = [
            {"CidrIpv6": cidr, "Description": _rule_description(identifier)}
        ]
    ec2 = clients.ec2
    with _aws_errors(f"open port {port} to {cidr} on security group {group_id}"):
        try:
            ec2.authorize_security_group_ingress(
                GroupId=group_id,
                IpPermissions=[permission],
            )
        except ec2.exceptions.ClientError as exc:
            if _code(exc) != "InvalidPermission.Duplicate":
                raise
            steps.append(Step(f"{what}: rule exists", False))
            return
    steps.append(Step(f"{what}: rule added", True))


def _rule_description(identifier: str) -> str:
    return f"{RULE_PREFIX}: Redshift cluster {identifier}"


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
        with _aws_errors(
            f"create Redshift cluster {spec.identifier} ({spec.nodes} x {spec.node_type})",
            secrets=[password],
        ):
            try:
                cluster = redshift.create_cluster(**request)["Cluster"]
            except redshift.exceptions.ClusterAlreadyExistsFault:
                # made meanwhile (by another run, or someone else): is it the one asked for?
                existing = _find_cluster(clients, spec.identifier)
                if existing is None:
                    raise
                _check_same(existing, spec, clients.region)
                steps.append(Step(f"Cluster {spec.identifier}: exists", False))
                return existing
    except ClusterError as exc:
        raise ClusterError(f"{exc}{leftover}") from None
    steps.append(
        Step(
            f"Cluster {spec.identifier}: created ({_nodes(cluster)}, encrypted, "
            f"{cluster.get('ClusterStatus', 'creating')})",
            True,
        )
    )
    return cluster


def wait_until_available(
    identifier: str,
    *,
    clients: Clients,
    progress: Progress = _no_progress,
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
    cluster = _find_cluster(clients, identifier)
    if cluster is None:
        raise ClusterError(f"Cluster {identifier} disappeared while waiting for it")
    return cluster


def wait_until_deleted(
    identifier: str,
    *,
    clients: Clients,
    progress: Progress = _no_progress,
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

    with progress(waiting), _aws_errors(doing):
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


# Delete -----------------------------------------------------------------------------------


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
    progress: Progress = _no_progress,
) -> DeleteResult:
    """Delete the cluster, the ingress rules and security group this module added, and the
    role (if this module created it and no other cluster uses it) unless `keep_role`.

    Safe to repeat: what is already gone is skipped. A cluster stays in state 'deleting' for a
    few minutes and its security group cannot be deleted until it is gone: with `wait` this
    waits for that; without, a second run deletes the group.
    """
    check_identifier(identifier)
    if final_snapshot is not None:
        check_identifier(final_snapshot, "snapshot identifier")
    if not _ROLE_NAME.fullmatch(role_name):
        raise ClusterError(f"{role_name!r} is not a valid IAM role name")
    clients = clients or Clients.connect(region)
    steps: list[Step] = []
    cluster = _find_cluster(clients, identifier)
    group_ids: list[str] = []
    if cluster is None:
        steps.append(Step(f"Cluster {identifier}: none in {clients.region}", False))
    else:
        group_ids = [g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])]
        _delete(clients, cluster, final_snapshot, steps)
    own_groups = [
        g
        for g in _security_groups(clients, name=security_group_name(identifier))
        if _is_ours(g.get("Tags", []))
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
    with _aws_errors(f"delete Redshift cluster {identifier}"):
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
    steps.append(Step(f"Cluster {identifier}: deleted ({_nodes(cluster)}, {snapshot})", True))


def _revoke_own_rules(
    clients: Clients, identifier: str, group_ids: Sequence[str], steps: list[Step]
) -> None:
    description = _rule_description(identifier)
    for group in _security_groups(clients, group_ids=group_ids):
        for rule in _ingress_rules(group):
            if rule.description != description:
                continue
            permission: IpPermissionTypeDef = {"IpProtocol": rule.protocol}
            if rule.from_port is not None and rule.to_port is not None:
                permission["FromPort"], permission["ToPort"] = rule.from_port, rule.to_port
            if ":" in rule.source:
                permission["Ipv6Ranges"] = [{"CidrIpv6": rule.source}]
            else:
                permission["IpRanges"] = [{"CidrIp": rule.source}]
            with _aws_errors(f"close port {rule.from_port} to {rule.source} on {rule.group_id}"):
                try:
                    clients.ec2.revoke_security_group_ingress(
                        GroupId=rule.group_id, IpPermissions=[permission]
                    )
                except clients.ec2.exceptions.ClientError as exc:
                    if _code(exc) != "InvalidPermission.NotFound":
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
    with _aws_errors(f"look up IAM role {role_name}"):
        try:
            role = iam.get_role(RoleName=role_name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            steps.append(Step(f"IAM role {role_name}: none", False))
            return
        tags = iam.list_role_tags(RoleName=role_name).get("Tags", [])
    if not _is_ours(tags):
        steps.append(Step(f"IAM role {role_name}: kept (sparkify-dw did not create it)", False))
        return
    users = _clusters_using(clients, role["Arn"], besides=identifier)
    if users:
        steps.append(
            Step(f"IAM role {role_name}: kept (cluster {', '.join(users)} uses it)", False)
        )
        return
    with _aws_errors(f"delete IAM role {role_name}"):
        for arn in _attached_policies(clients, role_name):
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
    with _aws_errors("list the Redshift clusters"):
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
    with _aws_errors(f"delete security group {name} ({group_id})"):
        try:
            ec2.delete_security_group(GroupId=group_id)
        except ec2.exceptions.ClientError as exc:
            if _code(exc) == "InvalidGroup.NotFound":
                return
            if _code(exc) != "DependencyViolation":
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
