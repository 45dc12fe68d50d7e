"""Training and tuning pipelines that register their model: the state machine, run against the
emulator, leaves one package version PendingManualApproval with the job's metrics attached."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mlops_local.statemachine import run
from tests.support.events import load_event
from tests.support.statemachines import TRAINING, definition, render

TUNER = "model_tuner_builtin"
BUCKET = "mlops-assets"  # tests/support/settings.py's assets bucket


@pytest.fixture
def aws() -> Any:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        session.client("s3").create_bucket(Bucket=BUCKET)
        session.topic = session.client("sns").create_topic(Name="notices")["TopicArn"]
        yield session


def params_for(kind: str, group: str | None = "churn-models", topic: str = "") -> dict[str, str]:
    body = load_event(f"valid/{kind}")
    if group:
        body["model_package_group_name"] = group
    return {**render(body, kind), "NotificationsSNSTopicArn": topic}


def blueprint(kind: str) -> str:
    return "model_tuning_pipeline.yaml" if kind == TUNER else "model_training_pipeline.yaml"


def packages(session: Any, group: str = "churn-models") -> list[dict[str, Any]]:
    sagemaker = session.client("sagemaker")
    return [
        sagemaker.describe_model_package(ModelPackageName=p["ModelPackageArn"])
        for p in sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    ]


def test_a_trained_model_waits_for_approval_with_its_metrics(aws: Any) -> None:
    params = params_for(TRAINING, topic=aws.topic)
    assert params["ModelPackageGroupName"] == "churn-models"
    run(aws, definition(params), {})
    [package] = packages(aws)
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    [container] = package["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"].endswith(f"/{params['JobName']}/output/model.tar.gz")
    assert container["Image"] == params["ImageUri"]
    assert package["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv"]
    statistics = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    bucket, key = statistics.removeprefix("s3://").split("/", 1)
    metrics = json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    job = aws.client("sagemaker").describe_training_job(TrainingJobName=params["JobName"])
    assert [m["MetricName"] for m in metrics] == [m["MetricName"] for m in job["FinalMetricDataList"]]


def test_a_rerun_reusing_the_job_registers_nothing_more(aws: Any) -> None:
    params = params_for(TRAINING, topic=aws.topic)
    run(aws, definition(params), {})
    run(aws, definition(params), {})
    assert len(packages(aws)) == 1


def test_an_existing_group_is_kept_and_gets_the_next_version(aws: Any) -> None:
    aws.client("sagemaker").create_model_package_group(
        ModelPackageGroupName="churn-models", ModelPackageGroupDescription="ours"
    )
    run(aws, definition(params_for(TRAINING, topic=aws.topic)), {})
    run(aws, definition(params_for(TRAINING, topic=aws.topic) | {"JobName": "churn-other-job"}), {})
    assert sorted(p["ModelPackageVersion"] for p in packages(aws)) == [1, 2]
    group = aws.client("sagemaker").describe_model_package_group(ModelPackageGroupName="churn-models")
    assert group["ModelPackageGroupDescription"] == "ours"


def test_without_a_group_nothing_is_registered(aws: Any) -> None:
    params = params_for(TRAINING, group=None, topic=aws.topic)
    assert params["ModelPackageGroupName"] == ""
    run(aws, definition(params), {})
    assert aws.client("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"] == []


def test_a_group_name_is_kept_in_lower_case(aws: Any) -> None:
    assert params_for(TRAINING, group="Churn-Models")["ModelPackageGroupName"] == "churn-models"


def test_the_tuning_pipeline_registers_its_best_training_job(aws: Any) -> None:
    params = params_for(TUNER)
    states = definition(params, blueprint(TUNER))["States"]
    assert states["Best"]["ResultSelector"] == {"Name.$": "$.BestTrainingJob.TrainingJobName"}
    assert states["Register"]["Parameters"]["ModelApprovalStatus"] == "PendingManualApproval"
    assert states["Tune"]["Next"] == "Registration"


AUTOPILOT = "model_autopilot_training"


def autopilot_definition(params: dict[str, str]) -> dict[str, Any]:
    return definition(
        {**params, "AutoMLRoleArn": "arn:aws:iam::123456789012:role/automl"}, "autopilot_training_pipeline.yaml"
    )


def test_autopilot_registers_its_best_candidate_once(aws: Any) -> None:
    params = params_for(AUTOPILOT, topic=aws.topic)
    run(aws, autopilot_definition(params), {})
    [package] = packages(aws)
    job = aws.client("sagemaker").describe_auto_ml_job_v2(AutoMLJobName=params["JobName"])
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert (
        package["InferenceSpecification"]["Containers"][0]["Image"]
        == (job["BestCandidate"]["InferenceContainers"][0]["Image"])
    )
    statistics = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    bucket, key = statistics.removeprefix("s3://").split("/", 1)
    metric = json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert metric["MetricName"] == job["BestCandidate"]["FinalAutoMLJobObjectiveMetric"]["MetricName"]
    run(aws, autopilot_definition(params), {})  # a rerun reuses the job
    assert len(packages(aws)) == 1


def test_autopilot_without_a_trained_model_cannot_register() -> None:
    from chalicelib.errors import ValidationFailed
    from chalicelib.models.base import parse
    from chalicelib.pipelines.catalog import REGISTRY
    from tests.support.settings import SETTINGS

    body = {**load_event(f"valid/{AUTOPILOT}"), "model_package_group_name": "churn-models"}
    body["generate_definition_only"] = True
    with pytest.raises(ValidationFailed) as refused:
        parse(REGISTRY.get(AUTOPILOT).model, body, SETTINGS)
    assert [p.field for p in refused.value.problems] == ["model_package_group_name"]
