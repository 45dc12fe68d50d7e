"""Each real-time capability example provisions in `mlops local` and runs to a deployed endpoint.

What the emulator cannot deploy (scalable targets, scaling policies, alarms) is shown as such in
the status document rather than as deployed; the smoke test runs its Lambda against the endpoint.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

from mlops_local.process import LocalProcess
from tests.support.events import EVENTS, load_event

EXAMPLES = sorted(p.stem for p in (EVENTS / "valid" / "realtime").glob("*.json"))


@pytest.fixture(scope="module")
def local() -> Iterator[LocalProcess]:
    process = LocalProcess()
    yield process
    assert process.stop(signal.SIGINT) == 0


def prepared(local: LocalProcess, name: str) -> dict[str, Any]:
    """The example under names of its own (each example a pipeline and an endpoint), its sample uploaded."""
    body = load_event(f"valid/realtime/{name}")
    body["model_name"] = f"rt-{name.replace('_', '-')}"
    body["endpoint_name"] = f"rt-{name.replace('_', '-')}-endpoint"
    s3 = local.client("s3")
    if "my-data-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket="my-data-bucket")
    if "smoke_test" in body:
        s3.put_object(Bucket=local.banner["assets_bucket"], Key=body["smoke_test"]["payload_key"], Body=b"1,2,3")
    return body


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_capability_example_deploys_its_endpoint(local: LocalProcess, name: str) -> None:
    body = prepared(local, name)
    status, answer = local.post("/provisionpipeline", body)
    assert status == 200, answer
    doc = local.wait_for(answer["pipeline_id"])
    stages = {s["name"]: s["status"] for s in doc["pipeline"]["stages"]}
    assert set(stages.values()) == {"Succeeded"}, doc["latest_failure"]
    assert ("Run" in stages) is (name == "smoke_test")
    endpoint = doc["endpoint"]
    assert endpoint["name"] == body["endpoint_name"] and endpoint["status"] == "InService", endpoint
    if "autoscaling" in body:
        # Application Auto Scaling's resources are not deployed by the emulator: the document says so.
        assert endpoint["autoscaling"]["registered"] is None
        assert "no scalable target is registered" in endpoint["autoscaling"]["note"]
    if "deployment" in body:
        assert endpoint["deployment"]["requested"].startswith(("blue/green", "rolling"))
    sagemaker = local.client("sagemaker")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["config"])
    if "serverless" in body:
        assert config["ProductionVariants"][0]["ServerlessConfig"]["MemorySizeInMB"] == 2048
    if "async_inference" in body:
        assert config["AsyncInferenceConfig"]["OutputConfig"]["S3OutputPath"].startswith("s3://my-data-bucket/")
