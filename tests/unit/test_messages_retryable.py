"""One classification of failures, shared by the API's statuses and the config-upload handler."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from botocore.parsers import ResponseParserError

from chalicelib.config_trigger import refused
from chalicelib.errors import (
    Busy,
    Conflict,
    NotFound,
    OrchestratorError,
    Problem,
    UpstreamError,
    ValidationFailed,
    retryable,
)


def aws_error(code: str, status: int) -> ClientError:
    response = {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "DescribeStacks")  # type: ignore[arg-type]


def wrapped(cause: BaseException) -> UpstreamError:
    try:
        raise cause
    except BaseException as exc:
        try:
            raise UpstreamError(f"could not read stack s: {exc}") from exc
        except UpstreamError as upstream:
            return upstream


PASSING = [
    aws_error("Throttling", 400),
    aws_error("ThrottlingException", 400),
    aws_error("SlowDown", 503),
    aws_error("503", 503),  # a HEAD answer has no body: its code is its status
    aws_error("InternalError", 500),
    aws_error("InternalFailure", 500),
    aws_error("ServiceUnavailable", 503),
    aws_error("RequestTimeout", 400),
    aws_error("TooManyRequestsException", 429),
    ReadTimeoutError(endpoint_url="https://s3"),
    ConnectTimeoutError(endpoint_url="https://s3"),
    EndpointConnectionError(endpoint_url="https://s3"),
    ResponseStreamingError(error="connection reset"),
    ResponseParserError("Unable to parse response (<!doctype html> ...), invalid XML received"),
    TimeoutError(),
    aws_error("AccessDenied", 403),  # passes once IAM has applied a recent change
    aws_error("403", 403),  # a HEAD refused: no body, so its code is its status
]
PERMANENT = [
    aws_error("ValidationError", 400),
    aws_error("NoSuchKey", 404),
    aws_error("LimitExceededException", 400),  # a quota in CloudFormation and SageMaker
    KeyError("StackId"),
]


@pytest.mark.parametrize("exc", PASSING, ids=repr)
def test_a_failure_that_passes_is_retryable_bare_and_wrapped(exc: BaseException) -> None:
    assert retryable(exc)
    assert retryable(wrapped(exc))


@pytest.mark.parametrize("exc", PERMANENT, ids=repr)
def test_a_permanent_failure_is_not_retryable_bare_or_wrapped(exc: BaseException) -> None:
    assert not retryable(exc)
    assert not retryable(wrapped(exc))


def test_an_upstream_error_raised_while_handling_a_throttle_is_retryable() -> None:
    try:
        try:
            raise aws_error("Throttling", 400)
        except ClientError:
            raise UpstreamError("could not read stack s") from None
    except UpstreamError as hidden:
        assert not retryable(hidden)  # `from None` says the cause is not the point
    try:
        try:
            raise aws_error("Throttling", 400)
        except ClientError:
            raise UpstreamError("could not read stack s")  # noqa: B904 (the implicit context is the case)
    except UpstreamError as implicit:
        assert retryable(implicit)


CONFIG_FAULTS = [
    (ValidationFailed([Problem("inference_instance", "is not an instance type")]), "refused"),
    (NotFound("no such pipeline"), "refused"),
    (
        Conflict("stack s is UPDATE_ROLLBACK_FAILED and needs an operator", stack_status="UPDATE_ROLLBACK_FAILED"),
        "refused",
    ),
    (Conflict("send it with upgrade_blueprints", field="upgrade_blueprints"), "refused"),
    (Conflict("stack s is UPDATE_IN_PROGRESS; resubmit", stack_status="UPDATE_IN_PROGRESS"), "retried"),
    (Busy("changed by another request at the same time"), "retried"),
    (wrapped(aws_error("Throttling", 400)), "retried"),
    (wrapped(aws_error("AccessDenied", 403)), "retried"),  # the installation's fault: the DLQ keeps it
    (OrchestratorError("anything else"), "retried"),
]


@pytest.mark.parametrize(("exc", "fate"), CONFIG_FAULTS, ids=lambda v: repr(v)[:60])
def test_a_config_is_recorded_as_failed_only_for_its_own_fault(exc: OrchestratorError, fate: str) -> None:
    assert ("refused" if refused(exc) else "retried") == fate
