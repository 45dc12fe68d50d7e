"""Requests the reliability suites send, and the :class:`~.invariant.Answer` each one gets.

Both suites drive the Chalice app itself through ``chalice.test.Client`` (the fault suite in
the test process, the race suite in worker processes), with pipelines of one type whose
bodies differ in one field, so any two bodies can race on one pipeline.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.reliability.invariant import DELETE, PROVISION, Answer
from tests.support.events import load_event
from tests.support.plane import Plane

INSTANCES = ("ml.m5.large", "ml.m5.xlarge", "ml.c5.large")
_clients: dict[tuple[str, str], Any] = {}


def client(plane: Plane, service: str) -> Any:
    """The test's own client (not the orchestrator's) for ``plane``, made once: each costs ~0.1 s."""
    key = (plane.url, service)
    if key not in _clients:
        _clients[key] = plane.client(service)
    return _clients[key]


def body(model: str, variant: int = 0) -> dict[str, Any]:
    """A real-time pipeline for ``model``; ``variant`` picks the instance type (an update)."""
    return {
        **load_event("valid/byom_realtime_builtin"),
        "model_name": model,
        "endpoint_name": f"{model}-endpoint",
        "inference_instance": INSTANCES[variant % len(INSTANCES)],
    }


def pipeline_of(raw: dict[str, Any]) -> str:
    """The blueprint stack (the pipeline's name) ``raw`` provisions."""
    from chalicelib.naming import stack_name
    from chalicelib.provisioning import validate
    from chalicelib.settings import get_settings

    settings = get_settings()
    entry, request = validate(raw, settings)
    return stack_name(settings, entry.stack_infix(request), entry.stack_suffix)


def normalized(raw: dict[str, Any]) -> dict[str, Any]:
    """The request as the bundle stores it."""
    from chalicelib.provisioning import validate
    from chalicelib.settings import get_settings

    return dict(validate(raw, get_settings())[1].normalized())


def _answer(pipeline: str, kind: str, request: Any, response: Any, started: int) -> Answer:
    finished = time.monotonic_ns()
    try:
        decoded = json.loads(response.body) if response.body else {}
    except ValueError:
        decoded = {"message": response.body.decode(errors="replace")[:200]}
    headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    return Answer(
        pipeline,
        kind,
        request,
        response.status_code,
        decoded if isinstance(decoded, dict) else {"message": decoded},
        started,
        finished,
        headers.get("retry-after"),
    )


def provision(api: Any, raw: dict[str, Any]) -> Answer:
    pipeline, request = pipeline_of(raw), normalized(raw)
    started = time.monotonic_ns()
    response = api.http.post("/provisionpipeline", body=json.dumps(raw), headers={"Content-Type": "application/json"})
    return _answer(pipeline, PROVISION, request, response, started)


def delete(api: Any, pipeline: str) -> Answer:
    from chalicelib.naming import pipeline_stack_name

    started = time.monotonic_ns()
    response = api.http.delete(f"/pipelines/{pipeline_stack_name(pipeline)}")
    return _answer(pipeline, DELETE, None, response, started)
