"""Smoke test of a freshly deployed endpoint: one sample request, its status and its latency.

The pipeline runs it after each stage's deploy (its Run stage starts the stack's state machine,
which invokes this function). The sample payload is an object in the assets bucket; the
function sends it to the endpoint and compares what comes back with what the request expects:
an HTTP status (200 unless the model is expected to refuse the sample) and a latency ceiling.
Any other outcome raises ``SmokeTestFailed``, so the state machine fails, the Run stage fails
and the pipeline stops before the next approval; the message says what was expected and seen.

Environment: ``ENDPOINT_NAME``, ``PAYLOAD_BUCKET``, ``PAYLOAD_KEY``, ``CONTENT_TYPE``,
``EXPECTED_STATUS``, ``MAX_LATENCY_MS``.
"""

from __future__ import annotations

import os
import time
from typing import Any

_clients: dict[str, Any] = {}
# The clock latency is measured with (replaced in tests).
_now = time.monotonic


class SmokeTestFailed(Exception):
    """The endpoint did not answer the sample as expected."""


def client(name: str) -> Any:
    if name not in _clients:
        import boto3

        _clients[name] = boto3.client(name)
    return _clients[name]


def _status_of(error: Exception) -> int:
    response = getattr(error, "response", None) or {}
    # A model error (ModelError) carries the container's own status; other errors SageMaker's.
    original = response.get("OriginalStatusCode")
    if isinstance(original, int):
        return original
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 500)


def check(settings: dict[str, str]) -> dict[str, Any]:
    """Send the sample once; the result, or ``SmokeTestFailed`` naming what differs."""
    endpoint = settings["ENDPOINT_NAME"]
    payload = client("s3").get_object(Bucket=settings["PAYLOAD_BUCKET"], Key=settings["PAYLOAD_KEY"])["Body"].read()
    expected = int(settings["EXPECTED_STATUS"])
    ceiling = int(settings["MAX_LATENCY_MS"])
    started = _now()
    try:
        client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint, ContentType=settings["CONTENT_TYPE"], Body=payload
        )
        status, detail = 200, ""
    except Exception as error:  # the endpoint's refusal is an outcome to compare, not a crash
        status, detail = _status_of(error), str(error)
    latency_ms = round((_now() - started) * 1000)
    result = {"endpoint": endpoint, "status": status, "expected_status": expected, "latency_ms": latency_ms,
              "max_latency_ms": ceiling}  # fmt: skip
    problems = []
    if status != expected:
        problems.append(f"answered {status}, expected {expected}" + (f" ({detail})" if detail else ""))
    if latency_ms > ceiling:
        problems.append(f"took {latency_ms} ms, more than the {ceiling} ms allowed")
    if problems:
        raise SmokeTestFailed(f"smoke test of endpoint {endpoint}: " + "; ".join(problems))
    return result


def handler(event: Any, context: Any) -> dict[str, Any]:
    return check({key: os.environ[key] for key in ("ENDPOINT_NAME", "PAYLOAD_BUCKET", "PAYLOAD_KEY", "CONTENT_TYPE",
                                                   "EXPECTED_STATUS", "MAX_LATENCY_MS")})  # fmt: skip
