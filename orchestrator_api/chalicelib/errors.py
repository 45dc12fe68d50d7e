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
    """The request is valid but cannot run now (a stack operation is in progress)."""


class UpstreamError(OrchestratorError):
    """An AWS call failed for a reason that is not the caller's fault."""
