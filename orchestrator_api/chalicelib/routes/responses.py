"""One table from the error tree to HTTP statuses, and the decorator that applies it.

Views translate domain errors themselves (Chalice turns exceptions into responses before
any middleware runs), so every route is wrapped in :func:`json_view`.

An AWS failure that passes by itself (throttling, a 5xx, a timeout: :func:`~..errors.retryable`,
the same test the config-upload handler uses) is a 503 with ``Retry-After``, whether it arrives
wrapped in an :class:`~..errors.UpstreamError` or not, and its message says what was being done.
A permanent AWS refusal (AccessDenied, a validation error) keeps its status from the table.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from chalice.app import Response

from .. import aws
from ..accepted import Accepted
from ..errors import (
    Conflict,
    NotFound,
    OrchestratorError,
    RequestError,
    UpstreamError,
    ValidationFailed,
    causes,
    retryable,
)

log = logging.getLogger(__name__)

# Most specific first; the first class an error is an instance of decides its status.
STATUS: list[tuple[type[OrchestratorError], int]] = [
    (ValidationFailed, 400),
    (NotFound, 404),
    (RequestError, 400),
    (Conflict, 409),
    (UpstreamError, 502),
    (OrchestratorError, 500),
]


# A retryable AWS failure: the status, and the seconds a caller should wait before resending.
UNAVAILABLE = 503
RETRY_AFTER_SECONDS = 5


def status_of(exc: OrchestratorError) -> int:
    if isinstance(exc, UpstreamError) and retryable(exc):
        return UNAVAILABLE
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, indent=2, default=str) + "\n",
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def result_response(result: Any) -> Response:
    """200 with the result; 202 with ``Retry-After`` when its work goes on (:class:`Accepted`)."""
    if isinstance(result, Accepted):
        return json_response(dict(result), 202, {"Retry-After": str(result.retry_after)})
    return json_response(result)


def aws_call(exc: BaseException) -> str:
    """What AWS did: ``AWS answered Throttling from DescribeStacks``, or how the call ended."""
    for cause in causes(exc):
        code = aws.error_code(cause)
        if code:
            operation = getattr(cause, "operation_name", "")
            return f"AWS answered {code} from {operation}" if operation else f"AWS answered {code}"
    return f"the call ended in {type(causes(exc)[-1]).__name__}"


def unavailable_body(exc: BaseException) -> dict[str, Any]:
    """The body of a 503: what was being done, what AWS did, and when to try again."""
    doing = exc.doing if isinstance(exc, UpstreamError) else "an AWS call failed"
    if any(aws.denied(cause) for cause in causes(exc)):
        passes = (
            "a refusal that passes once IAM has applied recent changes (if it persists, the "
            "orchestrator's role lacks the permission: see the installation's template)"
        )
    else:
        passes = "a failure that passes"
    return {
        "message": (
            f"{doing}: {aws_call(exc)}, {passes}; send the same request again after {RETRY_AFTER_SECONDS} seconds"
        ),
        "retryable": True,
        "retry_after_seconds": RETRY_AFTER_SECONDS,
    }


def unavailable_response(exc: BaseException) -> Response:
    log.warning("retryable AWS failure: %s", exc)
    return json_response(unavailable_body(exc), UNAVAILABLE, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def error_body(exc: OrchestratorError) -> dict[str, Any]:
    from ..settings import get_settings

    message = exc.message
    if isinstance(exc, UpstreamError) and not get_settings().detailed_errors:
        log.error("upstream error: %s", exc.message)
        message = "an AWS call failed; the orchestrator's logs have the details"
    body: dict[str, Any] = {"message": message, **exc.details}
    if isinstance(exc, ValidationFailed):
        body["problems"] = [p.as_dict() for p in exc.problems]
    return body


def error_response(exc: Exception, view: str) -> Response:
    """The answer to an exception a view raised: 503 if it passes, else its status from the table."""
    if retryable(exc) and not isinstance(exc, Conflict):
        return unavailable_response(exc)
    if isinstance(exc, OrchestratorError):
        return json_response(error_body(exc), status_of(exc))
    log.exception("unexpected error in %s", view)
    return json_response({"message": "internal error; see the orchestrator's logs"}, 500)


def json_view(view: Callable[..., Any]) -> Callable[..., Response]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return result_response(view(*args, **kwargs))
        except Exception as exc:
            return error_response(exc, view.__name__)

    return wrapper
