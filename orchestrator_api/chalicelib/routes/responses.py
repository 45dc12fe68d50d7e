"""One table from the error tree to HTTP statuses, and the decorator that applies it.

Views translate domain errors themselves (Chalice turns exceptions into responses before
any middleware runs), so every route is wrapped in :func:`json_view`.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from chalice.app import Response

from ..accepted import Accepted
from ..errors import (
    Conflict,
    NotFound,
    OrchestratorError,
    RequestError,
    UpstreamError,
    ValidationFailed,
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


def status_of(exc: OrchestratorError) -> int:
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


def json_view(view: Callable[..., Any]) -> Callable[..., Response]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return result_response(view(*args, **kwargs))
        except OrchestratorError as exc:
            return json_response(error_body(exc), status_of(exc))
        except Exception:
            log.exception("unexpected error in %s", view.__name__)
            return json_response({"message": "internal error; see the orchestrator's logs"}, 500)

    return wrapper
