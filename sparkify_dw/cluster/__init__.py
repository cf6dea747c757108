"""Sparkify's own Redshift cluster, provisioned with boto3: IAM role, security group, cluster.

What the original Sparkify scripts did by hand, as three idempotent steps (no SQL here):

- `create_cluster`: the IAM role (Redshift's trust policy, `AmazonS3ReadOnlyAccess`), a security
  group `sparkify-dw-<identifier>` in the default VPC with port 5439 open to one CIDR block, and
  the cluster (encrypted, with that role and group). Whatever already exists is found and kept;
  only what is missing is made. An existing cluster that is not the one asked for (another node
  type, node count, role, database, or a state such as 'deleting') is an error, never changed.
- `cluster_status`: state, nodes, endpoint, roles and the ingress rules of its security groups.
- `delete_cluster`: the cluster (optionally after a final snapshot), the ingress rules and the
  security group this package added, and the role if this package created it and no other
  cluster uses it.

`sparkify_dw.dwhcfg.write_dwh_config` writes the endpoint and role into a `dwh.cfg` (the file
`sparkify-dw run --config` reads), keeping every other section, key and comment.

Every failure is a `ClusterError` with one line. The master password is checked against
Redshift's rules before any AWS call, is sent only in CreateCluster, and is masked in botocore's
DEBUG log lines and in any error message; it is never printed.

The modules, each importing only those above it: `spec` (the cluster asked for, the checks
before any AWS call, the names and tags of what is made), `clients` (boto3 clients, AWS errors
as ClusterErrors), `status` (what exists, waiting), `create` and `delete`. The names below are
the package's interface; the modules' other names are its internals.
"""

from sparkify_dw.cluster.clients import MAX_ATTEMPTS, Clients
from sparkify_dw.cluster.create import (
    S3_READ_ONLY,
    TRUST_POLICY,
    USABLE_STATES,
    CreateResult,
    create_cluster,
)
from sparkify_dw.cluster.delete import DeleteResult, delete_cluster
from sparkify_dw.cluster.spec import (
    CLUSTER_TAG_KEY,
    MAX_NODES,
    NODE_TYPES,
    OWNER_KEY,
    OWNER_VALUE,
    PASSWORD_ENV,
    PORT,
    RULE_PREFIX,
    ClusterError,
    ClusterSpec,
    check_cidr,
    check_identifier,
    check_password,
    security_group_name,
)
from sparkify_dw.cluster.status import (
    WAIT_ATTEMPTS,
    WAIT_DELAY,
    ClusterStatus,
    IngressRule,
    Progress,
    Step,
    cluster_status,
    wait_until_available,
    wait_until_deleted,
)

# Kept importable from here, where they were before dwh.cfg got a module of its own.
from sparkify_dw.dwhcfg import config_values, update_ini, write_dwh_config

__all__ = [
    "CLUSTER_TAG_KEY",
    "MAX_ATTEMPTS",
    "MAX_NODES",
    "NODE_TYPES",
    "OWNER_KEY",
    "OWNER_VALUE",
    "PASSWORD_ENV",
    "PORT",
    "RULE_PREFIX",
    "S3_READ_ONLY",
    "TRUST_POLICY",
    "USABLE_STATES",
    "WAIT_ATTEMPTS",
    "WAIT_DELAY",
    "Clients",
    "ClusterError",
    "ClusterSpec",
    "ClusterStatus",
    "CreateResult",
    "DeleteResult",
    "IngressRule",
    "Progress",
    "Step",
    "check_cidr",
    "check_identifier",
    "check_password",
    "cluster_status",
    "config_values",
    "create_cluster",
    "delete_cluster",
    "security_group_name",
    "update_ini",
    "wait_until_available",
    "wait_until_deleted",
    "write_dwh_config",
]
