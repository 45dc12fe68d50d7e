"""One error tree for the orchestrator, ignorant of HTTP.

The view layer maps these classes to status codes (``routes/responses.py``); the S3
handler turns them into result objects. Nothing here knows how it will be shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: which field, and what is wrong with it."""

    field: str
    problem: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "problem": self.problem}


class OrchestratorError(Exception):
    """Base of every error the orchestrator raises on purpose."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class RequestError(OrchestratorError):
    """The request itself is wrong; resubmitting it unchanged will fail again."""


class ValidationFailed(RequestError):
    """The body was read but breaks one or more rules; every problem is listed."""

    def __init__(self, problems: list[Problem], message: str = "the request has problems") -> None:
        super().__init__(message)
        self.problems = problems


class NotFound(RequestError):
    """The pipeline (or other named thing) does not exist."""


class Conflict(OrchestratorError):
    """The request is valid but clashes with the pipeline's state (a stack operation in
    progress, a stack that needs an operator, a pipeline pinned to other blueprints)."""


class Busy(Conflict):
    """A conflict that ends by itself: another request for the same pipeline got there first,
    or an operation it started is still running. The same request, sent again later, can succeed."""


class UpstreamError(OrchestratorError):
    """An AWS call failed for a reason that is not the caller's fault.

    Raise it ``from`` the AWS error, with a message ``"<what was being done>: <AWS's answer>"``:
    :func:`retryable` reads the cause, and :attr:`doing` is what a caller may be shown.
    """

    @property
    def doing(self) -> str:
        return self.message.split(": ", 1)[0]


def causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from or while handling, nearest first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        # ``raise ... from None`` hides the context on purpose; follow it otherwise.
        current = (
            current.__context__ if current.__cause__ is None and not current.__suppress_context__ else current.__cause__
        )
    return chain


def retryable(exc: BaseException) -> bool:
    """True when the same request, sent again later and unchanged, can succeed.

    The one classification of failures: the API answers 503 with ``Retry-After`` to a
    retryable AWS failure, and the config-upload handler raises on any retryable failure so
    Lambda delivers the event again. Retryable are: AWS failures that pass by themselves
    (throttling, 5xx, timeouts, dropped connections; see :func:`.aws.transient`), also when
    wrapped in an :class:`UpstreamError`; a :class:`Busy` conflict; and a conflict with a stack
    whose operation is still in progress (it finishes by itself); and AWS refusing the
    orchestrator's permissions (AccessDenied), since IAM changes apply after a delay and the
    same request succeeds once they have (if it persists, the installation's roles need
    fixing, and the answer says so). A refusal that is the request's own fault
    (:class:`RequestError`), any other conflict, and a permanent AWS refusal (a validation
    error, a missing resource) are not.
    """
    from . import aws

    if isinstance(exc, Busy):
        return True
    if isinstance(exc, Conflict):
        return str(exc.details.get("stack_status", "")).endswith("_IN_PROGRESS")
    if isinstance(exc, OrchestratorError) and not isinstance(exc, UpstreamError):
        return False
    return any(aws.transient(cause) or aws.denied(cause) for cause in causes(exc))
