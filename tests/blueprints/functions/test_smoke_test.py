"""The smoke-test Lambda: one sample request to the endpoint, compared with the expected status and latency."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from blueprints.functions.smoke_test import main

SETTINGS = {"ENDPOINT_NAME": "churn-endpoint", "PAYLOAD_BUCKET": "assets", "PAYLOAD_KEY": "samples/churn.csv",
            "CONTENT_TYPE": "text/csv", "EXPECTED_STATUS": "200", "MAX_LATENCY_MS": "500"}  # fmt: skip
REQUEST = {"EndpointName": "churn-endpoint", "ContentType": "text/csv", "Body": b"1,2,3"}


@pytest.fixture
def runtime(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The sample in an emulated bucket; the endpoint stubbed (the emulator answers every invocation alike)."""
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_url)
    s3.create_bucket(Bucket="assets")
    s3.put_object(Bucket="assets", Key="samples/churn.csv", Body=b"1,2,3")
    sagemaker = boto3.client("sagemaker-runtime", region_name="us-east-1")
    monkeypatch.setattr(main, "_clients", {"s3": s3, "sagemaker-runtime": sagemaker})
    with Stubber(sagemaker) as stub:
        yield stub


def clock(monkeypatch: pytest.MonkeyPatch, *readings: float) -> None:
    values = iter(readings)
    monkeypatch.setattr(main, "_now", lambda: next(values))


def test_a_fast_answer_passes_and_reports_what_it_measured(runtime: Stubber, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.add_response("invoke_endpoint", {"Body": StreamingBody(io.BytesIO(b"0.9"), 3)}, REQUEST)
    clock(monkeypatch, 10.0, 10.120)
    assert main.check(SETTINGS) == {"endpoint": "churn-endpoint", "status": 200, "expected_status": 200,
                                    "latency_ms": 120, "max_latency_ms": 500}  # fmt: skip


def test_a_slow_answer_fails_saying_how_slow(runtime: Stubber, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.add_response("invoke_endpoint", {"Body": StreamingBody(io.BytesIO(b"0.9"), 3)}, REQUEST)
    clock(monkeypatch, 10.0, 10.501)
    with pytest.raises(main.SmokeTestFailed, match="took 501 ms, more than the 500 ms allowed"):
        main.check(SETTINGS)


def test_a_model_error_fails_with_the_models_status(runtime: Stubber, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.add_client_error(
        "invoke_endpoint", "ModelError", "Received server error (500) from model", 424,
        modeled_fields={"OriginalStatusCode": 500}, expected_params=REQUEST,
    )  # fmt: skip
    clock(monkeypatch, 10.0, 10.01)
    with pytest.raises(main.SmokeTestFailed) as failed:
        main.check(SETTINGS)
    assert "answered 500, expected 200" in str(failed.value) and "churn-endpoint" in str(failed.value)


def test_an_expected_refusal_passes(runtime: Stubber, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.add_client_error("invoke_endpoint", "ModelError", "bad input", 424,
                             modeled_fields={"OriginalStatusCode": 400}, expected_params=REQUEST)  # fmt: skip
    clock(monkeypatch, 1.0, 1.0)
    assert main.check({**SETTINGS, "EXPECTED_STATUS": "400"})["status"] == 400


def test_a_missing_sample_fails_the_test(runtime: Stubber) -> None:
    with pytest.raises(Exception, match="NoSuchKey"):
        main.check({**SETTINGS, "PAYLOAD_KEY": "samples/absent.csv"})


def test_the_handler_reads_its_settings_from_the_environment(runtime: Stubber, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SETTINGS.items():
        monkeypatch.setenv(key, value)
    runtime.add_response("invoke_endpoint", {"Body": StreamingBody(io.BytesIO(b"0.9"), 3)}, REQUEST)
    clock(monkeypatch, 0.0, 0.002)
    result: Any = main.handler({}, None)
    assert result["latency_ms"] == 2
