"""Lazy, injectable boto3 clients.

No client exists until first use, so importing the app needs no credentials or region.
boto3 honours ``AWS_ENDPOINT_URL``, which is how tests and local mode reach the emulator.
Tests may call :func:`reset` after changing the environment, or :func:`inject` a client.
"""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    """Return the shared client for ``service``, creating it on first use."""
    found = _clients.get(service)
    if found is not None:
        return found
    with _lock:
        if service not in _clients:
            import boto3  # deferred: boto3 costs ~150 ms to import
            from botocore.config import Config

            from .settings import get_settings

            _clients[service] = boto3.session.Session().client(
                service,
                region_name=get_settings().region,
                config=Config(retries={"mode": "standard"}, connect_timeout=5, read_timeout=30),
            )
        return _clients[service]


def inject(service: str, instance: Any) -> None:
    """Use ``instance`` for ``service`` from now on (tests)."""
    _clients[service] = instance


def reset() -> None:
    """Forget every client, so the next use reads the environment again."""
    _clients.clear()


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError, or '' for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def http_status(exc: BaseException) -> int:
    """The HTTP status of the answer behind a botocore ClientError, or 0 for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return 0


# Error codes that mean "try again later", as botocore's standard retry mode lists them, less
# LimitExceededException: CloudFormation and SageMaker use it for quotas, which do not pass.
THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
PASSING = frozenset(
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "InternalServiceError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "OperationAborted",  # S3: a conflicting conditional operation is in progress; try again
    }
)
PASSING_STATUS = frozenset({429, 500, 502, 503, 504})


def transient(exc: BaseException) -> bool:
    """True when ``exc`` itself (not its causes) is an AWS failure that passes by itself.

    Throttling, a 5xx answer, a timeout, a dropped or refused connection, a body cut short.
    Everything else (AccessDenied, validation, a missing resource, a bug) is permanent: the
    same call fails again until someone changes something.
    """
    code = error_code(exc)
    if code:
        return code in THROTTLED or code in PASSING or http_status(exc) in PASSING_STATUS
    from botocore import exceptions  # cheap once boto3 is loaded; unneeded before

    if isinstance(exc, exceptions.HTTPClientError | exceptions.ConnectionError | exceptions.IncompleteReadError):
        return True  # read timeouts, closed connections, broken streams; connect timeouts, no endpoint
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ResponseParserError):
        return True  # an answer botocore cannot read, such as a load balancer's HTML 5xx page
    return isinstance(exc, TimeoutError | ConnectionError)


# AWS's refusals of the caller's permissions. IAM changes take effect after a delay (roles and
# policies a fresh install creates, a key policy being edited), so a refusal may pass as well.
DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403", "KMSAccessDeniedException"}
)


def denied(exc: BaseException) -> bool:
    """True when ``exc`` itself is AWS refusing the caller's permissions."""
    return error_code(exc) in DENIED


MISSING = ("404", "NoSuchKey", "NotFound")
CONFLICT = ("PreconditionFailed", "ConditionalRequestConflict")


def head_object(bucket: str, key: str) -> dict[str, Any] | None:
    """``head_object``'s answer, or None when the object does not exist."""
    try:
        return dict(client("s3").head_object(Bucket=bucket, Key=key))
    except Exception as exc:
        if error_code(exc) in MISSING:
            return None
        raise


def put_if_unchanged(bucket: str, key: str, body: bytes, etag: str | None, **extra: Any) -> bool:
    """Write ``key`` only if it still has ``etag`` (None: only if it does not exist).

    True when written; False when another writer changed the object first.
    """
    condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
    try:
        client("s3").put_object(Bucket=bucket, Key=key, Body=body, **condition, **extra)
    except Exception as exc:
        if error_code(exc) in CONFLICT:
            return False
        raise
    return True
