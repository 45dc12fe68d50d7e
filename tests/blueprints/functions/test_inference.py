"""The inference Lambda: request checks, the InferenceId it sends and returns, endpoint errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from blueprints.functions.inference import main


def call(body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    raw = body if isinstance(body, str) else json.dumps(body)
    answer = main.handler({"body": raw}, None)
    return answer["statusCode"], json.loads(answer["body"]), answer["headers"]


def test_the_given_inference_id_reaches_sagemaker_and_comes_back(endpoint: Stubber) -> None:
    import io

    from botocore.response import StreamingBody

    endpoint.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(b"0.93"), 4), "ContentType": "text/csv"},
        {
            "EndpointName": "churn-endpoint",
            "Body": b"1,2,3",
            "ContentType": "text/csv",
            "InferenceId": "order-17",
        },
    )
    status, body, headers = call({"payload": "1,2,3", "inference_id": "order-17"})
    assert status == 200
    assert body == {"inference_id": "order-17", "prediction": "0.93", "content_type": "text/csv"}
    assert headers["X-Inference-Id"] == "order-17"


def test_an_inference_id_is_generated_when_absent(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("ENDPOINT_NAME", "churn-endpoint")
    monkeypatch.setattr(main, "_runtime", None)
    first = call({"payload": '{"x": 1}', "content_type": "application/json"})
    second = call({"payload": '{"x": 1}', "content_type": "application/json"})
    assert first[0] == second[0] == 200
    assert len(first[1]["inference_id"]) == 36 and first[1]["inference_id"] != second[1]["inference_id"]
    assert first[2]["X-Inference-Id"] == first[1]["inference_id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "body"),
        ([1], "body"),
        ({}, "payload"),
        ({"payload": ""}, "payload"),
        ({"payload": "1", "content_type": "image/png"}, "content_type"),
        ({"payload": "1", "inference_id": "x" * 65}, "inference_id"),
        ({"payload": "1", "extra": True}, "extra"),
    ],
)
def test_bad_requests_are_400_naming_the_field(body: Any, field: str) -> None:
    status, answer, _ = call(body)
    assert status == 400
    assert field in [p["field"] for p in answer["problems"]]


def test_a_model_error_is_a_400_with_the_reason(endpoint: Stubber) -> None:
    endpoint.add_client_error("invoke_endpoint", "ModelError", "the model could not parse the input", 424)
    status, answer, headers = call({"payload": "abc"})
    assert status == 400 and "could not parse" in answer["message"]
    assert headers["X-Inference-Id"]
