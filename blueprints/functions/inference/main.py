"""Inference API handler: forwards a request to the SageMaker endpoint with an InferenceId.

Body: ``{"payload": "<csv or json text>", "content_type": "text/csv", "inference_id": "..."}``;
``inference_id`` is optional. The id is passed to SageMaker (it lands in the captured data
as ``eventMetadata.inferenceId``) and returned, so ground truth can be joined later.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from typing import Any

CONTENT_TYPES = ("text/csv", "application/json", "application/jsonlines", "text/plain")
MAX_PAYLOAD = 6 * 1024 * 1024  # SageMaker's real-time request limit
_ID = re.compile(r"\S[\x20-\x7e]{0,63}")

_runtime: Any = None


def runtime() -> Any:
    global _runtime
    if _runtime is None:
        import boto3

        _runtime = boto3.client("sagemaker-runtime")
    return _runtime


def _response(status: int, body: dict[str, Any], inference_id: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if inference_id:
        headers["X-Inference-Id"] = inference_id
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


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
    if not isinstance(payload, str) or not payload:
        problems.append({"field": "payload", "problem": "is required: the request to send, as a string"})
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


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    data, problems = parse(event.get("body"))
    if problems:
        return _response(400, {"message": "the inference request has problems", "problems": problems})
    inference_id = data.get("inference_id") or str(uuid.uuid4())
    content_type = data.get("content_type", "text/csv")
    try:
        answer = runtime().invoke_endpoint(
            EndpointName=os.environ["ENDPOINT_NAME"],
            Body=data["payload"].encode(),
            ContentType=content_type,
            InferenceId=inference_id,
        )
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        status = 400 if code in ("ValidationError", "ModelError") else 502
        return _response(status, {"message": f"the endpoint refused the request: {exc}"}, inference_id)
    prediction = answer["Body"].read().decode("utf-8", errors="replace")
    return _response(
        200,
        {
            "inference_id": inference_id,
            "prediction": prediction,
            "content_type": answer.get("ContentType", ""),
        },
        inference_id,
    )
