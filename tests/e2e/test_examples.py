"""Every example body provisions and runs to success in local mode, as it is, with the names it gives.

The image builder's is left out: its Run stage is a Docker build, which only AWS does.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from mlops_local.process import LocalProcess
from tests.support.events import EVENTS, load_event

# Real-time endpoints first: the monitors watch them (credit-endpoint is the bias and
# explainability examples' endpoint, made here from the real-time example).
ORDER = [
    "byom_realtime_builtin",
    "byom_realtime_custom",
    "byom_batch_builtin",
    "byom_batch_custom",
    "byom_data_quality_monitor",
    "byom_model_quality_monitor",
    "byom_model_bias_monitor",
    "byom_model_explainability_monitor",
    "model_training_builtin",
    "model_tuner_builtin",
    "model_autopilot_training",
]
WITHOUT_DOCKER = {"byom_image_builder"}


@pytest.fixture(scope="module")
def local() -> Iterator[LocalProcess]:
    process = LocalProcess(0)
    yield process
    assert process.stop(signal.SIGINT) == 0


def _run(local: LocalProcess, body: dict[str, object]) -> dict[str, object]:
    status, answer = local.post("/provisionpipeline", body)
    assert status == 200, answer
    return local.wait_for(str(answer["pipeline_id"]), timeout=120)


def test_every_example_provisions_and_runs_to_success(local: LocalProcess) -> None:
    examples = {path.stem for path in (EVENTS / "valid").glob("*.json")}
    assert set(ORDER) == examples - WITHOUT_DOCKER, "a new example belongs in this test"
    credit = {**load_event("valid/byom_realtime_builtin"), "model_name": "credit-xgboost"}
    credit["endpoint_name"] = "credit-endpoint"
    failed = {}
    for name in [*ORDER[:2], "credit", *ORDER[2:]]:
        doc = _run(local, credit if name == "credit" else load_event(f"valid/{name}"))
        stages = doc["pipeline"]["stages"]
        if not stages or any(stage["status"] != "Succeeded" for stage in stages):
            failed[name] = doc["latest_failure"] or stages
    assert failed == {}
    # The endpoints have the names the requests give them, so the monitors watch endpoints that exist.
    endpoints = {
        e["EndpointName"]: e["EndpointStatus"] for e in local.client("sagemaker").list_endpoints()["Endpoints"]
    }
    assert endpoints.get("churn-endpoint") == "InService" and endpoints.get("credit-endpoint") == "InService"
    for monitor in ORDER[4:8]:
        assert load_event(f"valid/{monitor}")["endpoint_name"] in endpoints


def test_an_aws_error_in_a_run_names_the_resource_it_concerns(local: LocalProcess) -> None:
    body = {
        **load_event("valid/byom_model_bias_monitor"),
        "model_name": "credit-missing-bucket",
        "baseline_job_output_location": "no-such-bucket-19/credit/bias-baseline",
    }
    doc = _run(local, body)
    assert [s["status"] for s in doc["pipeline"]["stages"]][:3] == ["Succeeded", "Succeeded", "Failed"]
    failure = doc["latest_failure"]
    assert "NoSuchBucket" in failure and "Bucket=no-such-bucket-19" in failure, failure
