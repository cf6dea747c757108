"""The boto3 plumbing that S3 reads (`sources`) and cluster provisioning (`cluster`) share.

- `client_config`: timeouts, and standard retries unless the user configured their own;
- `botocore_errors`: botocore's exceptions as one-line errors of the caller's class, worded
  with what the caller was doing; `one_line`, `mask` and `error_code` for the caller's own;
- `mask_session_tokens` and `masking`: secrets masked in botocore's DEBUG log.

botocore is imported inside the functions: importing this module loads no AWS library.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from botocore.config import Config
    from botocore.exceptions import ClientError
    from botocore.session import Session

CONNECT_TIMEOUT: Final = 5  # seconds; a refused connection fails at once, a silent host after this
READ_TIMEOUT: Final = 60


# Clients ----------------------------------------------------------------------------------


def client_config(
    core: Session, *, max_attempts: int, max_pool_connections: int | None = None
) -> Config:
    """Timeouts, and standard retries (`max_attempts` in all), each unless the user configured
    their own (AWS_RETRY_MODE / retry_mode, AWS_MAX_ATTEMPTS / max_attempts in the profile)."""
    from botocore.config import Config

    options: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT, "read_timeout": READ_TIMEOUT}
    if max_pool_connections is not None:  # else botocore's default
        options["max_pool_connections"] = max_pool_connections
    scoped = core.get_scoped_config()
    retries: dict[str, Any] = {}
    # The mode is set even when the user only set the attempts: botocore's own default is
    # "legacy" before 1.44 (fewer retried errors, no quota), "standard" from 1.44.
    if not (os.environ.get("AWS_RETRY_MODE") or "retry_mode" in scoped):
        retries["mode"] = "standard"
    if not (os.environ.get("AWS_MAX_ATTEMPTS") or "max_attempts" in scoped):
        retries["total_max_attempts"] = max_attempts
    if retries:
        options["retries"] = retries
    return Config(**options)


# Errors -----------------------------------------------------------------------------------


def error_code(exc: ClientError) -> str:
    """The AWS error code of a refusal ('' when the answer had none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def one_line(text: str, secrets: Sequence[str] = (), limit: int = 300) -> str:
    """`text` on one line, at most `limit` characters, each secret masked."""
    for secret in secrets:
        text = mask(text, secret)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mask(text: str, secret: str) -> str:
    """`text` with `secret` replaced by *** in the forms botocore writes it (as is, URL- or
    form-encoded, JSON-escaped)."""
    if not secret:
        return text
    forms = {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote(secret, safe="-_.~"),
        urllib.parse.quote_plus(secret),
        json.dumps(secret)[1:-1],
    }
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def _aws() -> str:
    return "AWS"


@contextmanager
def botocore_errors(
    error: type[Exception],
    doing: str,
    *,
    client_error: Callable[[ClientError], Exception],
    endpoint: Callable[[], str] = _aws,
) -> Iterator[None]:
    """Turn the botocore exceptions both callers word alike into one-line `error`s: a refusal
    (a ClientError, worded by `client_error`), no usable credentials, an unknown profile, no
    connection. `doing` completes "No usable AWS credentials to …"; `endpoint()` names what
    could not be reached, asked only then (the S3 client may not exist before). Any other
    exception passes, for the caller's own wording."""
    from botocore.exceptions import (
        ClientError,
        ConnectionError,
        CredentialRetrievalError,
        NoCredentialsError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    try:
        yield
    except ClientError as exc:
        raise client_error(exc) from None
    except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError) as exc:
        raise error(
            f"No usable AWS credentials to {doing} ({type(exc).__name__}): set AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an IAM role"
        ) from None
    except ProfileNotFound as exc:
        raise error(f"{exc}: check AWS_PROFILE") from None
    except ConnectionError as exc:
        raise error(
            f"Cannot reach {endpoint()} to {doing} ({type(exc).__name__}): check the network "
            "and AWS_ENDPOINT_URL"
        ) from None


# Secrets in botocore's log ----------------------------------------------------------------


class _MaskingFilter(logging.Filter):
    """Rewrite a log record with what `masked` hides."""

    def masked(self, message: str) -> str:
        raise NotImplementedError

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot format: leave it to the handler's own error
            return True
        masked = self.masked(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


# botocore at DEBUG logs each signed request twice with its session token in clear: the canonical
# request (botocore.auth: `x-amz-security-token:…`) and the headers sent (botocore.endpoint:
# `'X-Amz-Security-Token': b'…'`). S3 answers a bad signature with the canonical request it
# computed, which botocore.parsers logs as the response body; a presigned URL has `…Token=…`.
_SESSION_TOKEN = re.compile(
    r"(x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[^\s'\"&\\<]+", re.IGNORECASE
)
_WIRE_TRACE_LOGGERS = ("botocore.auth", "botocore.endpoint", "botocore.parsers")


class _MaskSessionToken(_MaskingFilter):
    """Rewrite a log record of botocore's wire trace with the session token masked."""

    def masked(self, message: str) -> str:
        return _SESSION_TOKEN.sub(r"\1***", message)


_MASK_SESSION_TOKEN = _MaskSessionToken()


def mask_session_tokens() -> None:
    """Mask the session token in botocore's DEBUG wire trace; call before making a client.

    A logger keeps one of each filter object, so calling it again adds nothing.
    """
    for name in _WIRE_TRACE_LOGGERS:
        logging.getLogger(name).addFilter(_MASK_SESSION_TOKEN)


class _MaskSecret(_MaskingFilter):
    """Rewrite a log record with a secret masked, in the forms botocore logs it."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def masked(self, message: str) -> str:
        return mask(message, self.secret)


# botocore at DEBUG logs each request's parameters (botocore.endpoint, with the
# MasterUserPassword of CreateCluster) and urllib3 the requests it sends.
_BOTOCORE_LOGGERS: Final = (
    "botocore.endpoint",
    "botocore.auth",
    "botocore.parsers",
    "botocore.hooks",
    "botocore.client",
    "botocore.retryhandler",
    "botocore.httpsession",
    "urllib3.connectionpool",
)


@contextmanager
def masking(secret: str) -> Iterator[None]:
    """Mask `secret` in botocore's (and urllib3's) log while inside."""
    masker = _MaskSecret(secret)
    loggers = [logging.getLogger(name) for name in _BOTOCORE_LOGGERS]
    for logger in loggers:
        logger.addFilter(masker)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(masker)
