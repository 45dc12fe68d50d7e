"""Answers whose work goes on after the answer.

API Gateway ends every integration at 29 s, so nothing in a request waits on AWS for long:
the request starts the work and says how far it got. Such an answer is :class:`Accepted`;
the view layer sends it as ``202 Accepted`` with ``Retry-After``. The caller finishes the
work by sending the same request again: every such request is idempotent and picks up where
the last one stopped.
"""

from __future__ import annotations

from typing import Any

# Seconds a caller should wait before repeating a request that was accepted.
RETRY_AFTER = 30


class Accepted(dict[str, Any]):
    """A result (a plain JSON object) whose work is not finished; repeat the request to follow it."""

    def __init__(self, body: dict[str, Any], retry_after: int = RETRY_AFTER) -> None:
        super().__init__(body)
        self["retry_after_seconds"] = retry_after
        self.retry_after = retry_after
