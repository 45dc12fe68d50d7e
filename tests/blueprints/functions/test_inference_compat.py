"""The inference API takes the original solution's requests and can answer as it did.

The original sent a JSON-object ``payload`` to the endpoint as JSON text, and answered with the
endpoint's text as is. Here the answer is negotiated by ``Accept``: our document by default, the
prediction as is for ``text/plain`` (or the original's ``plain/text``).
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from blueprints.functions.inference import main


def answers(stub: Stubber, prediction: bytes, sent: bytes, content_type: str) -> None:
    stub.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(prediction), len(prediction)), "ContentType": "application/json"},
        {"EndpointName": "churn-endpoint", "Body": sent, "ContentType": content_type, "InferenceId": ANY},
    )


def invoke(body: dict[str, Any], accept: str | None = None) -> dict[str, Any]:
    headers = {"accept": accept} if accept is not None else {}
    return main.handler({"body": json.dumps(body), "headers": headers}, None)


def test_a_json_object_payload_reaches_the_endpoint_as_json_text(endpoint: Stubber) -> None:
    instances = {"instances": [{"features": [1.5, 16.0, 14.0]}]}
    answers(endpoint, b'{"predictions": [0.93]}', json.dumps(instances).encode(), "application/json")
    answer = invoke({"payload": instances})
    assert answer["statusCode"] == 200, answer
    assert json.loads(answer["body"])["prediction"] == '{"predictions": [0.93]}'


def test_a_json_array_payload_keeps_the_content_type_it_names(endpoint: Stubber) -> None:
    answers(endpoint, b"0.2", b"[[1, 2], [3, 4]]", "application/jsonlines")
    answer = invoke({"payload": [[1, 2], [3, 4]], "content_type": "application/jsonlines"})
    assert answer["statusCode"] == 200, answer


@pytest.mark.parametrize("accept", ["text/plain", "plain/text", "text/plain, application/json;q=0.5", "text/*"])
def test_text_plain_answers_with_the_prediction_as_is(endpoint: Stubber, accept: str) -> None:
    answers(endpoint, b"0.93\n0.12\n", b"1,2,3\n4,5,6", "text/csv")
    answer = invoke({"payload": "1,2,3\n4,5,6", "content_type": "text/csv", "inference_id": "o-1"}, accept)
    assert answer["statusCode"] == 200
    assert answer["body"] == "0.93\n0.12\n"
    assert answer["headers"]["Content-Type"].startswith("text/plain")
    assert answer["headers"]["X-Inference-Id"] == "o-1"


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/json, text/plain", "text/plain;q=0.4, */*;q=0.8"]
)
def test_our_document_is_the_default(endpoint: Stubber, accept: str | None) -> None:
    answers(endpoint, b"0.93", b"1,2,3", "text/csv")
    answer = invoke({"payload": "1,2,3"}, accept)
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"] == "application/json"
    assert json.loads(answer["body"])["prediction"] == "0.93"


@pytest.mark.parametrize("accept", ["image/png", "text/plain;q=0, application/json;q=0", "text/html"])
def test_an_answer_nobody_accepts_is_a_406_naming_accept(accept: str) -> None:
    answer = invoke({"payload": "1,2,3"}, accept)
    assert answer["statusCode"] == 406
    assert json.loads(answer["body"])["problems"][0]["field"] == "Accept"


@pytest.mark.parametrize("payload", [None, 17, "", True])
def test_a_payload_that_is_neither_text_nor_json_structure_is_a_400(payload: Any) -> None:
    answer = invoke({"payload": payload})
    assert answer["statusCode"] == 400
    assert [p["field"] for p in json.loads(answer["body"])["problems"]] == ["payload"]
