"""The inference Lambda in front of an asynchronous endpoint: the request goes to S3 first, the
endpoint is invoked with InvokeEndpointAsync, and the caller learns where the answer will be."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from blueprints.functions.inference import main

BUCKET = "mlops-assets"
PREFIX = "async-inference/churn-endpoint"
OUTPUT = "s3://my-data-bucket/churn/async/output/4b8e.out"
FAILURE = "s3://my-data-bucket/churn/async/failures/4b8e-error.out"


@pytest.fixture
def async_endpoint(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Stubber, Any, list[dict]]]:
    """The assets bucket in the emulator; SageMaker's runtime stubbed (the emulator neither reads
    the input location nor keeps the InferenceId); the parameters each invocation was sent."""
    monkeypatch.setenv("ENDPOINT_NAME", "churn-endpoint")
    monkeypatch.setenv("ASYNC_INPUT_BUCKET", BUCKET)
    monkeypatch.setenv("ASYNC_INPUT_PREFIX", PREFIX)
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_url)
    s3.create_bucket(Bucket=BUCKET)
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
    sent: list[dict[str, Any]] = []
    runtime.meta.events.register(
        "provide-client-params.sagemaker-runtime.InvokeEndpointAsync", lambda params, **_: sent.append(dict(params))
    )
    monkeypatch.setattr(main, "_runtime", runtime)
    monkeypatch.setattr(main, "_s3", s3)
    with Stubber(runtime) as stub:
        yield stub, s3, sent
        stub.assert_no_pending_responses()
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def expected(inference_id: Any = ANY, content_type: str = "text/csv") -> dict[str, Any]:
    return {"EndpointName": "churn-endpoint", "InputLocation": ANY, "ContentType": content_type,
            "InferenceId": inference_id}  # fmt: skip


def test_the_request_is_written_to_s3_and_the_answer_says_where_the_prediction_will_be(
    async_endpoint: tuple[Stubber, Any, list[dict[str, Any]]],
) -> None:
    stub, s3, sent = async_endpoint
    stub.add_response(
        "invoke_endpoint_async",
        {"InferenceId": "order-17", "OutputLocation": OUTPUT, "FailureLocation": FAILURE},
        expected("order-17"),
    )
    answer = main.handler({"body": json.dumps({"payload": "1,2,3", "inference_id": "order-17"})}, None)
    assert answer["statusCode"] == 202
    assert json.loads(answer["body"]) == {
        "inference_id": "order-17", "output_location": OUTPUT, "failure_location": FAILURE}  # fmt: skip
    assert answer["headers"]["X-Inference-Id"] == "order-17"
    [item] = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/")["Contents"]
    assert sent[0]["InputLocation"] == f"s3://{BUCKET}/{item['Key']}"
    stored = s3.get_object(Bucket=BUCKET, Key=item["Key"])
    assert (stored["Body"].read(), stored["ContentType"]) == (b"1,2,3", "text/csv")


def test_each_request_gets_its_own_input_object_and_no_failure_location_when_sagemaker_gives_none(
    async_endpoint: tuple[Stubber, Any, list[dict[str, Any]]],
) -> None:
    stub, s3, sent = async_endpoint
    for _ in range(2):
        stub.add_response("invoke_endpoint_async", {"InferenceId": "same", "OutputLocation": OUTPUT},
                          expected("same", "application/json"))  # fmt: skip
    bodies = [main.handler({"body": json.dumps({"payload": {"x": 1}, "inference_id": "same"})}, None)
              for _ in range(2)]  # fmt: skip
    assert [json.loads(b["body"]) for b in bodies] == [{"inference_id": "same", "output_location": OUTPUT}] * 2
    assert len({p["InputLocation"] for p in sent}) == 2
    assert len(s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/")["Contents"]) == 2


def test_a_plain_text_caller_gets_the_output_location(
    async_endpoint: tuple[Stubber, Any, list[dict[str, Any]]],
) -> None:
    stub, _, _ = async_endpoint
    stub.add_response("invoke_endpoint_async", {"InferenceId": "x", "OutputLocation": OUTPUT}, expected())
    answer = main.handler({"headers": {"Accept": "text/plain"}, "body": json.dumps({"payload": "1,2"})}, None)
    assert (answer["statusCode"], answer["body"]) == (202, OUTPUT)
    assert answer["headers"]["Content-Type"] == "text/plain; charset=utf-8"


def test_a_refused_async_request_is_a_400_naming_sagemakers_reason_and_its_input_is_deleted(
    async_endpoint: tuple[Stubber, Any, list[dict[str, Any]]],
) -> None:
    stub, s3, _ = async_endpoint
    reason = "1 validation error detected: Value 'x' at 'contentType' failed to satisfy constraint"
    stub.add_client_error("invoke_endpoint_async", "ValidationError", reason, http_status_code=400,
                          expected_params=expected())  # fmt: skip
    answer = main.handler({"body": json.dumps({"payload": "1,2"})}, None)
    assert answer["statusCode"] == 400
    assert reason in json.loads(answer["body"])["message"]
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/").get("Contents", []) == []


@pytest.mark.parametrize(
    "reason",
    ["Endpoint churn-endpoint of account 123456789012 not found.", "Endpoint churn-endpoint is not async"],
    ids=["missing", "not-async"],
)
def test_an_endpoint_missing_or_not_async_is_a_503_naming_it(
    async_endpoint: tuple[Stubber, Any, list[dict[str, Any]]], reason: str
) -> None:
    stub, s3, _ = async_endpoint
    stub.add_client_error("invoke_endpoint_async", "ValidationError", reason, http_status_code=400,
                          expected_params=expected())  # fmt: skip
    answer = main.handler({"body": json.dumps({"payload": "1,2"})}, None)
    assert answer["statusCode"] == 503
    message = json.loads(answer["body"])["message"]
    assert message.startswith("the endpoint churn-endpoint is missing or takes no asynchronous requests")
    assert reason in message
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/").get("Contents", []) == []


def test_a_failed_invocation_deletes_the_request_it_wrote(
    async_endpoint: tuple[Stubber, Any, list[dict[str, Any]]],
) -> None:
    stub, s3, _ = async_endpoint
    stub.add_client_error("invoke_endpoint_async", "InternalFailure", "try again", http_status_code=500,
                          expected_params=expected())  # fmt: skip
    answer = main.handler({"body": json.dumps({"payload": "1,2"})}, None)
    assert answer["statusCode"] == 502
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/").get("Contents", []) == []


@pytest.mark.parametrize(
    ("code", "status"),
    [("AccessDenied", 503), ("KMS.DisabledException", 503), ("NoSuchBucket", 503), ("InternalError", 502)],
)
def test_a_request_s3_does_not_store_names_where_it_was_written_and_never_reaches_the_endpoint(
    async_endpoint: tuple[Stubber, Any, list[dict[str, Any]]], code: str, status: int
) -> None:
    _, s3, sent = async_endpoint
    with Stubber(s3) as s3_stub:
        s3_stub.add_client_error("put_object", code, "refused", http_status_code=403)
        answer = main.handler({"body": json.dumps({"payload": "1,2"})}, None)
    assert answer["statusCode"] == status
    message = json.loads(answer["body"])["message"]
    assert message.startswith(f"could not write the request to s3://{BUCKET}/{PREFIX}/")
    assert code in message and "endpoint refused" not in message
    assert sent == []
