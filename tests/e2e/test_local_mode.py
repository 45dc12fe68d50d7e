"""End to end against `mlops local`: real sockets, curl, boto3 and the AWS CLI.

One local-mode process serves the module; each test uses its own model names so tests do
not depend on each other's pipelines.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_local.process import LocalProcess
from tests.support.events import EVENTS, load_event
from tests.support.pipelines import run_with_bundle

AWS_CLI = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")


@pytest.fixture(scope="module")
def local() -> Iterator[LocalProcess]:
    process = LocalProcess()
    yield process
    assert process.stop(signal.SIGINT) == 0


def body_for(model_name: str, event: str = "valid/byom_realtime_builtin") -> dict[str, Any]:
    body = load_event(event)
    body["model_name"] = model_name
    body.pop("endpoint_name", None)
    return body


def curl(local: LocalProcess, path: str, file: Path) -> tuple[int, dict[str, Any]]:
    run = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", "-d", f"@{file}", local.api + path],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    text, _, code = run.stdout.rpartition("\n")
    return int(code), json.loads(text)


def aws(local: LocalProcess, *args: str) -> subprocess.CompletedProcess[str]:
    assert AWS_CLI, "the AWS CLI is installed with the dev extras"
    return subprocess.run(
        [AWS_CLI, *args, "--endpoint-url", local.endpoint], env=local.aws_env(), capture_output=True, text=True
    )


def test_curl_provisions_a_realtime_pipeline_that_deploys(local: LocalProcess, tmp_path: Path) -> None:
    file = tmp_path / "body.json"
    file.write_text(json.dumps(body_for("e2e-curl"), indent=2))
    status, answer = curl(local, "/provisionpipeline", file)
    assert status == 200, answer
    doc = local.wait_for(answer["pipeline_id"])
    stages = {s["name"]: s["status"] for s in doc["pipeline"]["stages"]}
    assert stages == {"Source": "Succeeded", "Deploy": "Succeeded"}
    assert doc["deployed_stack"]["status"] == "CREATE_COMPLETE"
    assert doc["deployed_stack"]["outputs"]["InferenceApiUrl"].endswith("/prod/inference")
    endpoints = [e["EndpointName"] for e in local.client("sagemaker").list_endpoints()["Endpoints"]]
    assert any("e2e-curl" in name for name in endpoints)


def test_curl_gets_every_problem_of_a_bad_body(local: LocalProcess) -> None:
    status, answer = curl(local, "/provisionpipeline", EVENTS / "bad/realtime_many_problems.json")
    assert status == 400
    assert {p["field"] for p in answer["problems"]} >= {"model_name", "endpont_name"}


def test_a_config_uploaded_with_the_aws_cli_provisions(local: LocalProcess, tmp_path: Path) -> None:
    config = tmp_path / "mlops-config.json"
    config.write_text(json.dumps(body_for("e2e-cli", "valid/byom_realtime_custom")))
    bucket = local.banner["config_bucket"]
    copied = aws(local, "s3", "cp", str(config), f"s3://{bucket}/cli/mlops-config.json")
    assert copied.returncode == 0, copied.stderr
    result = json.loads(local.wait_for_object(bucket, "cli/mlops-config.result.json"))
    assert result["outcome"] == "provisioned", result
    doc = local.wait_for(result["pipeline_id"])
    assert doc["deployed_stack"]["status"] == "CREATE_COMPLETE"


def test_a_bad_config_upload_yields_a_result_naming_the_field(local: LocalProcess) -> None:
    body = body_for("e2e-bad")
    body["data_capture_location"] = "Not A Bucket/x"
    bucket = local.banner["config_bucket"]
    local.client("s3").put_object(Bucket=bucket, Key="bad/mlops-config.json", Body=json.dumps(body).encode())
    result = json.loads(local.wait_for_object(bucket, "bad/mlops-config.result.json"))
    assert result["outcome"] == "failed"
    assert [e["field"] for e in result["errors"]] == ["data_capture_location"]


def test_other_objects_in_the_config_bucket_trigger_nothing(local: LocalProcess) -> None:
    bucket = local.banner["config_bucket"]
    s3 = local.client("s3")
    s3.put_object(Bucket=bucket, Key="notes/readme.json", Body=b"{}")
    # A config uploaded after it is handled; by then the unrelated object would have been too.
    s3.put_object(Bucket=bucket, Key="notes/mlops-config.json", Body=json.dumps(body_for("e2e-order")).encode())
    local.wait_for_object(bucket, "notes/mlops-config.result.json")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="notes/")["Contents"]]
    assert sorted(keys) == ["notes/mlops-config.json", "notes/mlops-config.result.json", "notes/readme.json"]


def test_a_changed_body_runs_the_pipeline_again(local: LocalProcess) -> None:
    body = body_for("e2e-update")
    _, first = local.post("/provisionpipeline", body)
    first_run = local.wait_for(first["pipeline_id"])["pipeline"]["stages"][0]["execution_id"]
    body["inference_instance"] = "ml.m5.xlarge"
    status, second = local.post("/provisionpipeline", body)
    assert (status, second["action"]) == (200, "updated")
    assert second["changes"] == [{"field": "inference_instance", "old": "ml.m5.large", "new": "ml.m5.xlarge"}]
    doc = local.wait_for(second["pipeline_id"], after=first_run)
    assert doc["pipeline"]["stages"][0]["execution_id"] != first_run
    assert doc["deployed_stack"]["status"] == "UPDATE_COMPLETE"
    configs = local.client("sagemaker").list_endpoint_configs()["EndpointConfigs"]
    assert len([c for c in configs if "e2e-update" in c["EndpointConfigName"]]) == 1


def test_a_failed_deploy_shows_its_reason(local: LocalProcess) -> None:
    """A bundle without its template (a bad manual change of the pipeline) runs and fails in Deploy."""
    import io
    import zipfile

    _, answer = local.post("/provisionpipeline", body_for("e2e-fail"))
    first_run = local.wait_for(answer["pipeline_id"])["pipeline"]["stages"][0]["execution_id"]
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("template_params.json", '{"Parameters": {}}')
    # The pipeline runs what its stack names: an update that names the broken bundle starts a run.
    run_with_bundle(local, answer["stack_name"], broken.getvalue(), "broken")
    doc = local.wait_for(answer["pipeline_id"], after=first_run)
    stages = {s["name"]: s for s in doc["pipeline"]["stages"]}
    assert stages["Source"]["status"] == "Succeeded"
    assert stages["Deploy"]["status"] == "Failed"
    assert "byom_realtime_inference_pipeline.yaml is not in artifact" in stages["Deploy"]["actions"][0]["error"]
    assert doc["latest_failure"].startswith("DeployBlueprint: byom_realtime_inference_pipeline.yaml is not in")
    status, described = local.request("GET", f"/pipelines/{answer['stack_name']}")
    assert status == 200 and described["latest_failure"] == doc["latest_failure"]
    assert described["request"] is None  # the broken bundle holds no request


def _port_is_free(url: str) -> bool:
    host, port = url.rsplit("/", 1)[-1].split(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) != 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_local_mode_and_frees_its_ports(sig: int) -> None:
    process = LocalProcess()
    pid, api, endpoint = process.process.pid, process.api, process.endpoint
    assert process.post("/pipelinestatus", {"pipeline_id": "mlops-pipeline-x"})[0] == 404
    assert process.stop(sig) == 0
    assert _port_is_free(api) and _port_is_free(endpoint)
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    assert children == []


def test_a_batch_pipeline_runs_its_job_and_reports_it(local: LocalProcess) -> None:
    sqs = local.client("sqs")
    queue = sqs.create_queue(QueueName="batch-watch")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = next(t["TopicArn"] for t in local.client("sns").list_topics()["Topics"] if "notifications" in t["TopicArn"])
    local.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    status, answer = local.post("/provisionpipeline", body_for("e2e-batch", "valid/byom_batch_custom"))
    assert status == 200, answer
    doc = local.wait_for(answer["pipeline_id"])
    assert [(s["name"], s["status"]) for s in doc["pipeline"]["stages"]] == [
        ("Source", "Succeeded"), ("Deploy", "Succeeded"), ("Run", "Succeeded")]  # fmt: skip
    job = doc["deployed_stack"]["outputs"]["TransformJobName"]
    described = local.client("sagemaker").describe_transform_job(TransformJobName=job)
    assert described["TransformJobStatus"] == "Completed"
    assert described["TransformResources"]["InstanceType"] == "ml.m5.xlarge"
    messages = [
        json.loads(m["Body"])["Message"]
        for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    ]
    assert any(job in m and "completed" in m for m in messages)


def run_outputs(local: LocalProcess, model_name: str, event: str) -> dict[str, str]:
    """Provision ``event`` under ``model_name``; once Source, Deploy and Run succeeded, the stack's outputs."""
    status, answer = local.post("/provisionpipeline", body_for(model_name, event))
    assert status == 200, answer
    doc = local.wait_for(answer["pipeline_id"])
    assert [s["status"] for s in doc["pipeline"]["stages"]] == ["Succeeded"] * 3, doc["latest_failure"]
    return dict(doc["deployed_stack"]["outputs"])


def test_a_training_pipeline_trains_and_names_the_artifact(local: LocalProcess) -> None:
    outputs = run_outputs(local, "e2e-train", "valid/model_training_builtin")
    job = local.client("sagemaker").describe_training_job(TrainingJobName=outputs["JobName"])
    assert job["TrainingJobStatus"] == "Completed"
    assert job["HyperParameters"]["num_round"] == "400"
    assert outputs["ModelArtifact"].endswith(f"/training/churn/output/{outputs['JobName']}/output/model.tar.gz")


def test_a_tuning_pipeline_runs_its_search(local: LocalProcess) -> None:
    outputs = run_outputs(local, "e2e-tune", "valid/model_tuner_builtin")
    job = local.client("sagemaker").describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=outputs["JobName"])
    assert job["HyperParameterTuningJobStatus"] == "Completed"
    assert job["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxParallelTrainingJobs"] == 2
    assert outputs["ModelArtifactPrefix"].endswith("/training/churn/tuning-output/")


def test_an_autopilot_pipeline_runs_its_automl_job(local: LocalProcess) -> None:
    outputs = run_outputs(local, "e2e-automl", "valid/model_autopilot_training")
    job = local.client("sagemaker").describe_auto_ml_job_v2(AutoMLJobName=outputs["JobName"])
    assert job["AutoMLJobObjective"] == {"MetricName": "AUC"}
    assert job["AutoMLProblemTypeConfig"]["TabularJobConfig"]["TargetAttributeName"] == "churn"
    assert outputs["JobOutputLocation"].endswith(f"/training/churn/autopilot-output/{outputs['JobName']}/")


def monitor_body(local: LocalProcess, name: str, engine: str) -> dict[str, Any]:
    """A data-quality monitor of its own endpoint, with a baseline CSV in the assets bucket."""
    from tests.unit.monitor import synthetic

    s3 = local.client("s3")
    if "my-data-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket="my-data-bucket")
    body = body_for(name, "valid/byom_data_quality_monitor")
    s3.put_object(
        Bucket=local.banner["assets_bucket"], Key=body["baseline_data"], Body=synthetic.baseline_csv(rows=2_000)
    )
    body.update({"endpoint_name": f"{name}-endpoint", "monitor_engine": engine})
    body["baseline_job_output_location"] = f"my-data-bucket/{name}/baseline"
    body["monitoring_output_location"] = f"my-data-bucket/{name}/reports"
    return body


def test_a_serverless_monitor_builds_its_baseline_before_its_schedule(
    local: LocalProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlops_local.lambdas import invoke
    from tests.unit.monitor import synthetic

    status, answer = local.post("/provisionpipeline", monitor_body(local, "e2e-dq", "serverless"))
    assert (status, answer["monitor_engine"]) == (200, "serverless"), answer
    doc = local.wait_for(answer["pipeline_id"])
    assert [(s["name"], s["status"]) for s in doc["pipeline"]["stages"]] == [
        ("Source", "Succeeded"), ("Deploy", "Succeeded"), ("Run", "Succeeded"), ("Schedule", "Succeeded")]  # fmt: skip
    outputs = doc["deployed_stack"]["outputs"]
    assert outputs["ScheduleName"].startswith("mlops-pipeline-e2e-dq-")  # exists only once BaselineReady=true
    statistics = local.client("s3").get_object(Bucket="my-data-bucket", Key="e2e-dq/baseline/statistics.json")
    assert json.loads(statistics["Body"].read())["dataset"]["item_count"] == 2_000
    lines = synthetic.window(5, mean_shift={2: 0.5})
    key = "churn/datacapture/e2e-dq-endpoint/AllTraffic/2026/11/21/10/capture.jsonl"
    local.client("s3").put_object(Bucket="my-data-bucket", Key=key, Body="\n".join(lines).encode())
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, local.aws_env()[name])  # the function's clients reach the emulator
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)  # the admin's keys are long-term keys
    import boto3

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # one made by an earlier test holds other keys
    result = invoke(local.session(), "us-east-1", outputs["MonitorFunctionName"],
                    {"action": "check", "window_end": "2026-11-21T11:00:00Z"})  # fmt: skip
    assert (result["status"], result["records"]) == ("violations", 1_000)
    report = local.client("s3").get_object(Bucket="my-data-bucket", Key=result["report"].split("/", 3)[3])
    assert [v["feature_name"] for v in json.loads(report["Body"].read())["violations"]] == ["x2"]


def test_a_model_monitor_pipeline_schedules_after_its_baseline_job(local: LocalProcess) -> None:
    status, answer = local.post("/provisionpipeline", monitor_body(local, "e2e-mm", "sagemaker"))
    assert (status, answer["monitor_engine"]) == (200, "sagemaker"), answer
    doc = local.wait_for(answer["pipeline_id"])
    assert [s["status"] for s in doc["pipeline"]["stages"]] == ["Succeeded"] * 4
    outputs = doc["deployed_stack"]["outputs"]
    job = local.client("sagemaker").describe_processing_job(ProcessingJobName=outputs["BaselineJobName"])
    assert job["ProcessingJobStatus"] == "Completed"
    assert job["AppSpecification"]["ImageUri"].endswith("/sagemaker-model-monitor-analyzer")
    assert job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == "s3://my-data-bucket/e2e-mm/baseline"
    assert outputs["MonitoringScheduleName"].startswith("e2e-mm-dq-schedule-")


def test_a_failed_baseline_leaves_no_schedule_and_says_why(local: LocalProcess) -> None:
    body = monitor_body(local, "e2e-nobase", "serverless")
    body["baseline_data"] = "monitoring/churn/missing.csv"  # not in the assets bucket
    status, answer = local.post("/provisionpipeline", body)
    assert status == 200, answer
    doc = local.wait_for(answer["pipeline_id"])
    stages = {s["name"]: s["status"] for s in doc["pipeline"]["stages"]}
    assert stages == {"Source": "Succeeded", "Deploy": "Succeeded", "Run": "Failed", "Schedule": None}
    assert "ScheduleName" not in doc["deployed_stack"]["outputs"]
    assert "BaselineFailed: no baseline data at s3://" in doc["latest_failure"]
    assert doc["latest_failure"].endswith("monitoring/churn/missing.csv: upload the baseline CSV there")


@pytest.mark.parametrize("kind", ["byom_model_bias_monitor", "byom_model_explainability_monitor"])
def test_clarify_monitors_have_the_sdk_write_their_configs_and_schedule_after_the_baseline(
    local: LocalProcess, kind: str
) -> None:
    s3 = local.client("s3")
    if "my-data-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket="my-data-bucket")
    body = body_for(f"e2e-{kind.split('_')[2]}", f"valid/{kind}")
    body["endpoint_name"] = f"{body['model_name']}-endpoint"
    status, answer = local.post("/provisionpipeline", body)
    assert status == 200, answer
    doc = local.wait_for(answer["pipeline_id"])
    assert [s["status"] for s in doc["pipeline"]["stages"]] == ["Succeeded"] * 4, doc["latest_failure"]
    prefix = body["baseline_job_output_location"].split("/", 1)[1]
    baseline, monitoring = (
        json.loads(s3.get_object(Bucket="my-data-bucket", Key=f"{prefix}/{name}")["Body"].read())
        for name in ("analysis_config.json", "monitoring_analysis_config.json")
    )
    # Made by the SageMaker SDK (the layer's packages, in .layer-venv here).
    assert ("post_training_bias" if "bias" in kind else "shap") in baseline["methods"]
    assert baseline["predictor"]["endpoint_name"] == body["endpoint_name"]
    assert ("facet" in monitoring) if "bias" in kind else ("shap" in monitoring["methods"])
    assert doc["deployed_stack"]["outputs"]["MonitoringScheduleName"]


def test_an_image_builder_deploys_its_project_and_says_why_it_cannot_build_here(local: LocalProcess) -> None:
    status, answer = local.post("/provisionpipeline", load_event("valid/byom_image_builder"))
    assert status == 200, answer
    doc = local.wait_for(answer["pipeline_id"])
    stages = {s["name"]: s["status"] for s in doc["pipeline"]["stages"]}
    assert stages == {"Source": "Succeeded", "Deploy": "Succeeded", "Run": "Failed"}
    assert doc["deployed_stack"]["status"] == "CREATE_COMPLETE"
    assert doc["deployed_stack"]["outputs"]["ImageUri"].endswith("/mlops-ecr-repo:scikit-forest-v1")
    assert "image builds need Docker" in doc["latest_failure"]


def prepare(local: LocalProcess, pipeline_type: str) -> dict[str, Any]:
    """The type's example body under names of its own, with the data its pipeline reads."""
    from tests.unit.monitor import synthetic

    s3 = local.client("s3")
    if "my-data-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket="my-data-bucket")
    body = load_event(f"valid/{pipeline_type}")
    if "model_name" in body:
        body["model_name"] = f"all-{body['model_name']}"
    if "image_tag" in body:
        body["image_tag"] = f"all-{body['image_tag']}"
    if pipeline_type == "byom_data_quality_monitor":
        s3.put_object(
            Bucket=local.banner["assets_bucket"], Key=body["baseline_data"], Body=synthetic.baseline_csv(rows=500)
        )
    if pipeline_type == "byom_model_quality_monitor":
        rows = "prediction,probability,label\n" + "".join(
            f"{i % 2},{0.2 + 0.6 * (i % 2)},{i % 2}\n" for i in range(200)
        )
        s3.put_object(Bucket=local.banner["assets_bucket"], Key=body["baseline_data"], Body=rows.encode())
    return body


@pytest.mark.parametrize("pipeline_type", sorted(p.stem for p in (EVENTS / "valid").glob("*.json")))
def test_every_type_provisions_to_a_deployed_stack(local: LocalProcess, pipeline_type: str) -> None:
    status, answer = local.post("/provisionpipeline", prepare(local, pipeline_type))
    assert status == 200, answer
    doc = local.wait_for(answer["pipeline_id"])
    assert doc["deployed_stack"]["status"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), doc["latest_failure"]
    stages = {s["name"]: s["status"] for s in doc["pipeline"]["stages"]}
    if pipeline_type == "byom_image_builder":  # the project deploys; its Docker build needs AWS
        assert stages.pop("Run") == "Failed"
    assert set(stages.values()) == {"Succeeded"}, doc["latest_failure"]
