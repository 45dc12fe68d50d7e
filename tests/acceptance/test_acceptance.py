"""The cheapest meaningful pipelines, end to end: an endpoint, a training job, a serverless monitor.

Each test waits for one pipeline (bounded by the target's patience), then looks at what a user
would look at: the status document, and the SageMaker, S3 and Lambda resources it names. The
last test deletes them all; the session's teardown deletes whatever a failure left behind.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from mlops_cli.client import Api

from . import artifacts, bodies
from .run import Run, stage_states
from .target import until


def outputs_of(doc: dict[str, object]) -> dict[str, str]:
    return dict((doc.get("deployed_stack") or {}).get("outputs") or {})  # type: ignore[attr-defined]


def test_the_endpoint_pipeline_deploys_an_endpoint_in_service(provisioned: Run) -> None:
    run = provisioned
    doc = run.wait("endpoint", run.target.patience.endpoint)
    assert stage_states(doc) == {"Source": "Succeeded", "Deploy": "Succeeded"}, doc["latest_failure"]
    assert doc["deployed_stack"]["status"] == "CREATE_COMPLETE"
    body = run.pipelines["endpoint"].body
    sagemaker = run.target.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName=outputs_of(doc)["EndpointName"])
    assert endpoint["EndpointStatus"] == "InService"
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    assert [v["InstanceType"] for v in config["ProductionVariants"]] == [bodies.INSTANCE]
    assert config["DataCaptureConfig"]["DestinationS3Uri"] == f"s3://{body['data_capture_location']}"
    model = sagemaker.describe_model(ModelName=outputs_of(doc)["SageMakerModelName"])
    assert model["PrimaryContainer"]["ModelDataUrl"].endswith(f"/{run.prefix}model/model.tar.gz")


def test_the_training_pipeline_trains_on_the_uploaded_data(provisioned: Run) -> None:
    run = provisioned
    doc = run.wait("training", run.target.patience.training)
    assert stage_states(doc) == {"Source": "Succeeded", "Deploy": "Succeeded", "Run": "Succeeded"}, doc[
        "latest_failure"
    ]
    outputs = outputs_of(doc)
    job = run.target.client("sagemaker").describe_training_job(TrainingJobName=outputs["JobName"])
    assert job["TrainingJobStatus"] == "Completed"
    assert job["ResourceConfig"]["InstanceType"] == bodies.INSTANCE
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 900
    assert job["HyperParameters"]["num_round"] == "5"
    channel = job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    assert channel == f"s3://{run.target.assets_bucket}/{run.prefix}training/train.csv"
    assert outputs["ModelArtifact"] == (
        f"s3://{run.target.assets_bucket}/{run.prefix}training/output/{outputs['JobName']}/output/model.tar.gz"
    )


def test_the_serverless_monitor_builds_its_baseline_then_its_schedule(provisioned: Run) -> None:
    run = provisioned
    doc = run.wait("monitor", run.target.patience.monitor)
    assert stage_states(doc) == {
        "Source": "Succeeded", "Deploy": "Succeeded", "Run": "Succeeded", "Schedule": "Succeeded"
    }, doc["latest_failure"]  # fmt: skip
    assert doc["monitor_engine"] == "serverless"
    outputs = outputs_of(doc)
    assert outputs["ScheduleName"]  # the stack has a schedule only once the baseline exists
    key = f"{run.prefix}monitor/baseline/statistics.json"
    statistics = json.loads(run.target.client("s3").get_object(Bucket=run.target.assets_bucket, Key=key)["Body"].read())
    assert statistics["dataset"]["item_count"] == 500
    assert sorted(f["name"] for f in statistics["features"]) == ["f0", "f1", "f2"]


def _scores(text: str) -> list[float]:
    return [float(v) for v in re.split(r"[,\s]+", text.strip()) if v]


def _invoke(run: Run) -> str:
    """Send the endpoint two rows through the pipeline's inference API (SigV4, as a user would)."""
    doc = run.wait("endpoint", run.target.patience.endpoint)
    status, answer = Api(outputs_of(doc)["InferenceApiUrl"]).call(
        "POST", "", {"payload": artifacts.request_rows(), "content_type": "text/csv"}
    )
    assert status == 200, answer
    return str(answer["prediction"])


@pytest.mark.real_aws
def test_the_inference_api_answers_with_the_models_scores(provisioned: Run) -> None:
    """SageMaker loaded the uploaded model: feature 0 below 0 scores about 0.12, above about 0.88."""
    assert _scores(_invoke(provisioned)) == pytest.approx([0.1192, 0.8808], abs=1e-3)


@pytest.mark.real_aws
def test_the_trained_model_lands_where_the_status_says(provisioned: Run) -> None:
    run = provisioned
    doc = run.wait("training", run.target.patience.training)
    bucket, key = outputs_of(doc)["ModelArtifact"].removeprefix("s3://").split("/", 1)
    assert run.target.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 0


@pytest.mark.real_aws
def test_the_monitor_is_scheduled_and_checks_what_the_endpoint_captured(provisioned: Run) -> None:
    run = provisioned
    outputs = outputs_of(run.wait("monitor", run.target.patience.monitor))
    schedule = run.target.client("scheduler").get_schedule(Name=outputs["ScheduleName"])
    assert schedule["State"] == "ENABLED"
    _invoke(run)
    endpoint = run.pipelines["endpoint"].body["endpoint_name"]
    prefix = f"{run.prefix}datacapture/{endpoint}/"
    s3 = run.target.client("s3")

    def captured() -> tuple[bool, list[str]]:
        listed = s3.list_objects_v2(Bucket=run.target.assets_bucket, Prefix=prefix).get("Contents", [])
        return bool(listed), [o["Key"] for o in listed]

    # SageMaker writes captured requests in batches, a few minutes apart.
    keys = until(f"captured data under {prefix}", 15 * 60, run.target.patience.poll, captured)
    hour = datetime.strptime("/".join(keys[0].split("/")[-5:-1]), "%Y/%m/%d/%H")
    window_end = (hour + timedelta(hours=1)).strftime("%Y-%m-%dT%H:00:00Z")
    answer = run.target.client("lambda").invoke(
        FunctionName=outputs["MonitorFunctionName"],
        Payload=json.dumps({"action": "check", "window_end": window_end}).encode(),
    )
    result = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, result
    assert result["status"] in ("ok", "violations") and result["records"] >= 1, result


def test_deleting_removes_the_pipelines_and_what_they_deployed(provisioned: Run) -> None:
    """Last: a monitored endpoint is kept until its monitor goes; then every pipeline goes, endpoint included."""
    run = provisioned
    for kind in ("endpoint", "training", "monitor"):  # deleting half-made pipelines would test something else
        run.wait(kind, getattr(run.target.patience, kind))
    endpoint, monitor = run.pipelines["endpoint"], run.pipelines["monitor"]
    endpoint_name = outputs_of(endpoint.doc or {})["EndpointName"]
    status, answer = run.target.call("DELETE", f"/pipelines/{endpoint.stack_name}")
    assert status == 409, answer
    assert answer["dependents"] == [monitor.deployed_stack]

    run.delete([monitor, run.pipelines["training"], endpoint])
    for pipeline in run.pipelines.values():
        assert run.target.call("GET", f"/pipelines/{pipeline.stack_name}")[0] == 404
        assert run.stack_gone(pipeline.deployed_stack)
    with pytest.raises(ClientError, match="Could not find endpoint"):
        run.target.client("sagemaker").describe_endpoint(EndpointName=endpoint_name)
