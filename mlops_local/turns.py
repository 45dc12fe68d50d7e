"""Local mode only: requests for one pipeline take turns.

In AWS every request is its own Lambda process, and CloudFormation's unique stack names and
S3's conditional writes keep concurrent requests for one pipeline apart; the orchestrator
holds no lock. The emulator local mode runs on checks those conditions without atomicity,
and local mode serves the app from threads of one process, so here two requests for the same
pipeline could both pass a check. Local mode therefore lets them take turns, around its own
calls into the app (HTTP requests and config-bucket events); requests for different
pipelines still run side by side.

The pipeline a request acts on is read from the request the way the orchestrator reads it;
a request whose pipeline cannot be told (a malformed body, a read-only route) takes no turn.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

PIPELINE_SUFFIX = "-codepipeline"


class PipelineTurns:
    """One lock per pipeline stack name, created on first use."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    @contextmanager
    def turn(self, keys: Iterable[str | None]) -> Iterator[None]:
        """Hold the turn of every pipeline named (in a fixed order, so two holders cannot deadlock)."""
        with ExitStack() as stack:
            for key in sorted({k for k in keys if k}):
                stack.enter_context(self._lock(key))
            yield


def _pipeline_stack(pipeline_id: str) -> str:
    from chalicelib.naming import name_of_stack_id

    name = name_of_stack_id(pipeline_id.strip())
    return name if name.endswith(PIPELINE_SUFFIX) else name + PIPELINE_SUFFIX


def pipeline_of_body(body: Any) -> str | None:
    """The pipeline stack a provision body creates or updates, or None when it names none."""
    from chalicelib import provisioning
    from chalicelib.body import SWITCHES
    from chalicelib.naming import pipeline_stack_name, stack_name
    from chalicelib.settings import get_settings

    if not isinstance(body, dict):
        return None
    body = {k: v for k, v in body.items() if k not in SWITCHES}
    settings = get_settings()
    try:
        entry, request = provisioning.validate(body, settings)
    except Exception:
        return None  # the app answers it with a 400 and writes nothing
    return pipeline_stack_name(stack_name(settings, entry.stack_infix(request), entry.stack_suffix))


def pipeline_of_request(event: dict[str, Any]) -> str | None:
    """The pipeline an API Gateway proxy event writes to (None: the route writes no pipeline)."""
    context = event.get("requestContext") or {}
    route = context.get("resourcePath") or event.get("resource")
    method = context.get("httpMethod") or event.get("httpMethod")
    if method == "DELETE" and route == "/pipelines/{pipeline_id}":
        pipeline_id = (event.get("pathParameters") or {}).get("pipeline_id")
        return _pipeline_stack(pipeline_id) if isinstance(pipeline_id, str) and pipeline_id.strip() else None
    if method == "POST" and route == "/provisionpipeline":
        raw = event.get("body")
        if event.get("isBase64Encoded") and isinstance(raw, str):
            import base64

            raw = base64.b64decode(raw)
        try:
            return pipeline_of_body(json.loads(raw or ""))
        except (ValueError, TypeError, RecursionError):
            return None
    return None


class TakingTurns:
    """The Chalice app, with the requests for one pipeline taking turns (see the module's docstring).

    Everything but calling the app is the app's own, so Chalice's request handler
    (``LocalGateway``) and test client route through it unchanged. ``create_local_server`` must
    get the app itself: it turns the object it is given into its subclass with per-thread
    request state; its request handlers are then given this wrapper.
    """

    def __init__(self, app: Any, turns: PipelineTurns | None = None) -> None:
        self._app = app
        self._turns = turns or PipelineTurns()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self._turns.turn([pipeline_of_request(event)]):
            return self._app(event, context)


def pipelines_of_upload(event: dict[str, Any], read: Callable[[str, str], bytes]) -> list[str | None]:
    """The pipelines the config objects an S3 event names would provision.

    ``read(bucket, key)`` returns an object's latest body (the handler applies the latest too).
    """
    from chalicelib import config_trigger

    found: list[str | None] = []
    for bucket, key in config_trigger.records(event):
        try:
            found.append(pipeline_of_body(json.loads(read(bucket, key))))
        except Exception:
            found.append(None)
    return found
