"""The cluster asked for, checked before any AWS call, and the names and tags that mark what
provisioning made (so that delete removes only its own things)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from sparkify_dw.errors import ClusterError as ClusterError

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
# What provisioning made carries this tag, so that delete removes only its own things.
OWNER_KEY: Final = "created-by"
OWNER_VALUE: Final = "sparkify-dw"
CLUSTER_TAG_KEY: Final = "sparkify-dw:cluster"
RULE_PREFIX: Final = "sparkify-dw"  # the description of every ingress rule provisioning adds

_PASSWORD_FORBIDDEN: Final = frozenset("'\"/\\@ ")
_IDENTIFIER = re.compile(r"[a-z](?:[a-z0-9]|-(?!-)){0,62}")
_DB_NAME = re.compile(r"[a-z_][a-z0-9_$]{0,63}")
_DB_USER = re.compile(r"[a-z][a-z0-9_+.@-]{0,127}")
ROLE_NAME_RE = re.compile(r"[\w+=,.@-]{1,64}")  # delete checks its --role-name with it too


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
        if not ROLE_NAME_RE.fullmatch(self.role_name):
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


# Names and tags ---------------------------------------------------------------------------


def security_group_name(identifier: str) -> str:
    """The name of the security group made for a cluster."""
    return f"sparkify-dw-{identifier}"


def rule_description(identifier: str) -> str:
    """The description of the ingress rule made for a cluster: delete removes only those."""
    return f"{RULE_PREFIX}: Redshift cluster {identifier}"


def is_ours(tags: Iterable[Mapping[str, object]]) -> bool:
    """Whether these tags say provisioning made the thing (a role, a security group)."""
    return any(t.get("Key") == OWNER_KEY and t.get("Value") == OWNER_VALUE for t in tags)
