"""Inference API handler: forwards a request to the SageMaker endpoint with an InferenceId.

Body: ``{"payload": "<csv or json text>", "content_type": "text/csv", "inference_id": "..."}``;
``inference_id`` is optional. The id is passed to SageMaker (it lands in the captured data
as ``eventMetadata.inferenceId``) and returned, so ground truth can be joined later.

The original solution's requests keep working: ``payload`` may be a JSON object or array (sent
to the endpoint as JSON text, ``content_type`` then defaulting to ``application/json``). The
answer is negotiated by the ``Accept`` header: ``application/json`` (the default, also for
``*/*`` or no header) is the document above; ``text/plain`` is the endpoint's answer as is, as
the original solution returned it (its ``plain/text`` is read as ``text/plain``). Errors are
always JSON.

An asynchronous endpoint (``ASYNC_INPUT_BUCKET`` set) takes its request from S3: the payload is
written under ``ASYNC_INPUT_PREFIX`` in that bucket (which the model's role reads), the endpoint
is invoked with InvokeEndpointAsync, and the answer is 202 with ``inference_id``,
``output_location`` (where the prediction will be written) and ``failure_location`` when
SageMaker gives one (``text/plain``: the output location alone).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from typing import Any

CONTENT_TYPES = ("text/csv", "application/json", "application/jsonlines", "text/plain")
# What the answer can be, ours first: it wins a tie.
DOCUMENT, RAW = "application/json", "text/plain"
MAX_PAYLOAD = 6 * 1024 * 1024  # SageMaker's real-time request limit
_ID = re.compile(r"\S[\x20-\x7e]{0,63}")

_runtime: Any = None
_s3: Any = None


def runtime() -> Any:
    global _runtime
    if _runtime is None:
        import boto3

        _runtime = boto3.client("sagemaker-runtime")
    return _runtime


def s3() -> Any:
    global _s3
    if _s3 is None:
        import boto3

        _s3 = boto3.client("s3")
    return _s3


def _response(
    status: int, body: dict[str, Any] | str, inference_id: str | None = None, content_type: str = DOCUMENT
) -> dict[str, Any]:
    headers = {"Content-Type": content_type, "Vary": "Accept"}
    if inference_id:
        headers["X-Inference-Id"] = inference_id
    return {"statusCode": status, "headers": headers, "body": body if isinstance(body, str) else json.dumps(body)}


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name and isinstance(value, str):
            return value
    return None


def _quality(parameters: list[str]) -> float | None:
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return None
            return q if 0 <= q <= 1 else None
    return 1.0


def negotiate(accept: str | None) -> str | None:
    """The answer's media type for an ``Accept`` header: ours unless text/plain is preferred.

    None when the header accepts neither.
    """
    if accept is None or not accept.strip():
        return DOCUMENT
    best: dict[str, tuple[int, float]] = {}  # offer -> (specificity of the range that matched, q)
    for item in accept.split(","):
        media_range, *parameters = item.strip().split(";")
        media_range = media_range.strip().lower()
        if media_range == "plain/text":  # what the original solution answered with
            media_range = RAW
        q = _quality(parameters)
        if q is None or "/" not in media_range:
            continue
        kind, subtype = media_range.split("/", 1)
        for offer in (DOCUMENT, RAW):
            offer_kind = offer.split("/")[0]
            if media_range == offer:
                specificity = 2
            elif kind == offer_kind and subtype == "*":
                specificity = 1
            elif media_range == "*/*":
                specificity = 0
            else:
                continue
            if offer not in best or specificity > best[offer][0]:
                best[offer] = (specificity, q)
    scored = [(q, offer == DOCUMENT, offer) for offer, (_, q) in best.items() if q > 0]
    return max(scored)[2] if scored else None


def parse(body: Any) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The request's fields and every problem with them."""
    try:
        data = json.loads(body or "")
    except ValueError:
        return {}, [{"field": "body", "problem": "is not valid JSON"}]
    if not isinstance(data, dict):
        return {}, [{"field": "body", "problem": "must be a JSON object"}]
    problems = []
    payload = data.get("payload")
    if isinstance(payload, dict | list):  # the original solution's JSON payload: sent as JSON text
        data["payload"] = payload = json.dumps(payload)
        data.setdefault("content_type", "application/json")
    if not isinstance(payload, str) or not payload:
        problems.append(
            {"field": "payload", "problem": "is required: the request to send, as a string or a JSON object or array"}
        )
    elif len(payload.encode()) > MAX_PAYLOAD:
        problems.append({"field": "payload", "problem": "is larger than SageMaker's 6 MB limit"})
    content_type = data.get("content_type", "text/csv")
    if content_type not in CONTENT_TYPES:
        problems.append({"field": "content_type", "problem": f"must be one of {', '.join(CONTENT_TYPES)}"})
    inference_id = data.get("inference_id")
    if inference_id is not None and not (isinstance(inference_id, str) and _ID.fullmatch(inference_id)):
        problems.append({"field": "inference_id", "problem": "must be 1-64 printable characters"})
    unknown = sorted(set(data) - {"payload", "content_type", "inference_id"})
    problems += [{"field": name, "problem": "is not a field of an inference request"} for name in unknown]
    return data, problems


def _error(exc: Exception) -> dict[str, Any]:
    """The AWS error of a failed call (its ``Code`` and ``Message``); empty for any other failure."""
    return dict(getattr(exc, "response", {}).get("Error", {}))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    answer_type = negotiate(_header(event, "accept"))
    if answer_type is None:
        problem = f"accepts neither {DOCUMENT} (the inference document) nor {RAW} (the prediction as is)"
        return _response(
            406, {"message": "no acceptable answer", "problems": [{"field": "Accept", "problem": problem}]}
        )
    data, problems = parse(event.get("body"))
    if problems:
        return _response(400, {"message": "the inference request has problems", "problems": problems})
    inference_id = data.get("inference_id") or str(uuid.uuid4())
    content_type = data.get("content_type", "text/csv")
    if os.environ.get("ASYNC_INPUT_BUCKET"):
        return invoke_async(data["payload"], content_type, inference_id, answer_type)
    try:
        answer = runtime().invoke_endpoint(
            EndpointName=os.environ["ENDPOINT_NAME"],
            Body=data["payload"].encode(),
            ContentType=content_type,
            InferenceId=inference_id,
        )
    except Exception as exc:
        status = 400 if _error(exc).get("Code") in ("ValidationError", "ModelError") else 502
        return _response(status, {"message": f"the endpoint refused the request: {exc}"}, inference_id)
    prediction = answer["Body"].read().decode("utf-8", errors="replace")
    if answer_type == RAW:
        return _response(200, prediction, inference_id, "text/plain; charset=utf-8")
    return _response(
        200,
        {
            "inference_id": inference_id,
            "prediction": prediction,
            "content_type": answer.get("ContentType", ""),
        },
        inference_id,
    )


_S3_UNAVAILABLE = {"AccessDenied", "NoSuchBucket", "AllAccessDisabled", "SlowDown", "ServiceUnavailable"}


def _forget(bucket: str, key: str) -> None:
    """Delete a request no endpoint will read; one left behind costs only storage."""
    # The caller's answer is the invocation's failure, not this one.
    with contextlib.suppress(Exception):
        s3().delete_object(Bucket=bucket, Key=key)


def invoke_async(payload: str, content_type: str, inference_id: str, answer_type: str) -> dict[str, Any]:
    """Write the request to S3 and queue it: 202 with where the answer (or failure) will be."""
    bucket = os.environ["ASYNC_INPUT_BUCKET"]
    # One object per request: a caller may send the same inference id twice.
    key = f"{os.environ['ASYNC_INPUT_PREFIX'].rstrip('/')}/{uuid.uuid4()}"
    location = f"s3://{bucket}/{key}"
    try:
        s3().put_object(Bucket=bucket, Key=key, Body=payload.encode(), ContentType=content_type)
    except Exception as exc:
        code = str(_error(exc).get("Code", ""))
        # Denied, a key it may not use, a missing bucket: the deployment's; throttling: S3's for now.
        unavailable = code in _S3_UNAVAILABLE or code.startswith("KMS")
        message = f"could not write the request to {location}: {exc}"
        return _response(503 if unavailable else 502, {"message": message}, inference_id)
    try:
        answer = runtime().invoke_endpoint_async(
            EndpointName=os.environ["ENDPOINT_NAME"],
            InputLocation=location,
            ContentType=content_type,
            InferenceId=inference_id,
        )
    except Exception as exc:
        _forget(bucket, key)
        error = _error(exc)
        code, text = str(error.get("Code", "")), str(error.get("Message", "")).lower()
        if code == "ValidationError" and ("not found" in text or "async" in text):
            # A missing endpoint, or one without an asynchronous config: the deployment's problem.
            message = f"the endpoint {os.environ['ENDPOINT_NAME']} is missing or takes no asynchronous requests: {exc}"
            return _response(503, {"message": message}, inference_id)
        status = 400 if code == "ValidationError" else 502
        return _response(status, {"message": f"the endpoint refused the request: {exc}"}, inference_id)
    inference_id = answer.get("InferenceId") or inference_id
    if answer_type == RAW:
        return _response(202, answer["OutputLocation"], inference_id, "text/plain; charset=utf-8")
    document = {"inference_id": inference_id, "output_location": answer["OutputLocation"]}
    if answer.get("FailureLocation"):
        document["failure_location"] = answer["FailureLocation"]
    return _response(202, document, inference_id)
