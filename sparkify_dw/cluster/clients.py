"""The boto3 clients provisioning uses, and botocore's exceptions as one-line ClusterErrors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sparkify_dw.aws import (
    botocore_errors,
    client_config,
    error_code,
    mask_session_tokens,
    one_line,
)
from sparkify_dw.cluster.spec import ClusterError

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_redshift import RedshiftClient

MAX_ATTEMPTS: Final = 5  # standard retries, in all, unless the user configured their own


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

        mask_session_tokens()  # as for S3 reads: botocore's DEBUG trace shows the token
        with aws_errors("set up the AWS clients"):
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


# AWS error codes by what they mean to the user.
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
def aws_errors(doing: str, secrets: Sequence[str] = ()) -> Iterator[None]:
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
    code = error_code(exc)
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
