"""sparkify_dw.cluster's checks made before any AWS call (passwords, node types, names, CIDR
blocks), and the dwh.cfg it writes: no AWS, no moto. The calls themselves: tests/aws/."""

from __future__ import annotations

from typing import Any

import pytest

from sparkify_dw import cluster as cl
from sparkify_dw.cluster import Clients, ClusterError, ClusterSpec, check_password, create_cluster
from sparkify_dw.dwhcfg import config_values, update_ini

REGION = "us-west-2"
CIDR = "203.0.113.0/24"
PASSWORD = "Sparkify#2018pw"


def spec(**changes: Any) -> ClusterSpec:
    return ClusterSpec(**{"identifier": "sparkify", "cidr": CIDR, **changes})


def one_line(exc: pytest.ExceptionInfo[ClusterError]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    assert PASSWORD not in message
    return message


# Checks made before any call --------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["Passw0rd", "A1" + "b" * 62, "Sparkify#2018pw", "x!Y2~%^&*()_+-={}[]|:;<>,.?`"],
)
def test_passwords_that_follow_redshifts_rules(password: str) -> None:
    check_password(password)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Pa1short", None),  # exactly 8: fine
        ("Pa1shrt", "8 to 64 characters"),
        ("A1" + "b" * 63, "8 to 64 characters"),
        ("password123", "an uppercase letter"),
        ("PASSWORD123", "a lowercase letter"),
        ("Passwordxyz", "a digit"),
        ("Pass word1", "printable ASCII"),
        ("Pass'word1", "printable ASCII"),
        ('Pass"word1', "printable ASCII"),
        ("Pass/word1", "printable ASCII"),
        ("Pass\\word1", "printable ASCII"),
        ("Pass@word1", "printable ASCII"),
        ("Passwörd1x", "printable ASCII"),
        ("Pass\tword1", "printable ASCII"),
    ],
)
def test_passwords_that_break_them_are_refused_without_showing_them(
    password: str, rule: str | None
) -> None:
    if rule is None:
        check_password(password)
        return
    with pytest.raises(ClusterError) as exc:
        check_password(password)
    message = str(exc.value)
    assert rule in message
    assert password not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"node_type": "dc2.medium"}, "Unknown node type 'dc2.medium'"),
        ({"node_type": "ds2.xlarge"}, "Unknown node type"),
        ({"nodes": 0}, "--nodes must be 1 to 128"),
        ({"nodes": 129}, "--nodes must be 1 to 128"),
        ({"identifier": "Sparkify"}, "not a valid cluster identifier"),
        ({"identifier": "1sparkify"}, "not a valid cluster identifier"),
        ({"identifier": "spark--ify"}, "not a valid cluster identifier"),
        ({"identifier": "sparkify-"}, "not a valid cluster identifier"),
        ({"identifier": "s" * 64}, "not a valid cluster identifier"),
        ({"cidr": "203.0.113.0"}, "needs a prefix length"),
        ({"cidr": "203.0.113.7/24"}, "did you mean 203.0.113.0/24"),
        ({"cidr": "everyone"}, "is not a CIDR block"),
        ({"db_name": "Dev"}, "not a valid Redshift database name"),
        ({"db_user": "public"}, "not a valid Redshift user name"),
        ({"role_name": "my role"}, "not a valid IAM role name"),
    ],
)
def test_bad_settings_fail_before_any_aws_call(
    changes: dict[str, Any], fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Clients, "connect", _no_aws_call)
    with pytest.raises(ClusterError) as exc:
        create_cluster(spec(**changes), PASSWORD)
    assert fragment in one_line(exc)


def test_a_bad_password_fails_before_any_aws_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Clients, "connect", _no_aws_call)
    with pytest.raises(ClusterError) as exc:
        create_cluster(spec(), "password")
    assert "breaks Redshift's rules" in one_line(exc)


def _no_aws_call(*args: object, **kwargs: object) -> Clients:
    raise AssertionError("an AWS client was made")


def test_valid_specs_include_single_node_ra3_and_ipv6() -> None:
    for node_type in cl.NODE_TYPES:
        spec(node_type=node_type).validate()
    spec(nodes=1).validate()
    assert spec(nodes=1).cluster_type == "single-node"
    assert spec(nodes=2).cluster_type == "multi-node"
    spec(cidr="2001:db8::/32").validate()
    spec(cidr="0.0.0.0/0").validate()


# dwh.cfg -----------------------------------------------------------------------------------

ORIGINAL = """\
# Sparkify's settings
[CLUSTER]
host = old.example.com
DB_NAME = sparkify
DB_PASSWORD = 'Kept1234'

[IAM_ROLE]
ARN = 'arn:aws:iam::1:role/old'
   continued

[S3]
LOG_DATA = 's3://udacity-dend/log_data'
SONG_DATA = 's3://udacity-dend/song_data'
"""


def test_update_ini_replaces_keys_and_keeps_everything_else() -> None:
    values = {
        "CLUSTER": {"HOST": "new.example.com", "DB_NAME": "dev", "DB_USER": "awsuser"},
        "IAM_ROLE": {"ARN": "arn:aws:iam::2:role/new"},
        "EXTRA": {"A": "1"},
    }
    assert update_ini(ORIGINAL, values) == (
        "# Sparkify's settings\n"
        "[CLUSTER]\n"
        "host=new.example.com\n"
        "DB_NAME=dev\n"
        "DB_PASSWORD = 'Kept1234'\n"
        "DB_USER=awsuser\n"
        "\n"
        "[IAM_ROLE]\n"
        "ARN=arn:aws:iam::2:role/new\n"
        "\n"
        "[S3]\n"
        "LOG_DATA = 's3://udacity-dend/log_data'\n"
        "SONG_DATA = 's3://udacity-dend/song_data'\n"
        "\n"
        "[EXTRA]\n"
        "A=1\n"
    )
    assert update_ini(update_ini(ORIGINAL, values), values) == update_ini(ORIGINAL, values)


def test_without_an_endpoint_host_is_left_out() -> None:
    status = cl.ClusterStatus(
        identifier="sparkify",
        region=REGION,
        state="creating",
        node_type="dc2.large",
        nodes=4,
        db_name="dev",
        db_user="awsuser",
        host=None,
        port=None,
        encrypted=True,
        public=True,
        vpc_id=None,
        role_arns=(),
        security_groups=(),
        ingress=(),
    )
    values = config_values(status, "arn:aws:iam::1:role/r")
    assert values == {
        "CLUSTER": {"DB_NAME": "dev", "DB_USER": "awsuser", "DB_PORT": "5439"},
        "IAM_ROLE": {"ARN": "arn:aws:iam::1:role/r"},
    }
