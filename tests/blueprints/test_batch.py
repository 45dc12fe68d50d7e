"""Batch transform: the blueprint's own state machine run against a failing job (Stubber),
what moto creates from the blueprint, and the whole pipeline in local mode."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from mlops_cfn import Resolver
from mlops_local.statemachine import ExecutionFailed, run
from tests.support.events import load_event
from tests.support.settings import SETTINGS
from tests.support.statemachines import Session, no_job_yet
from tests.support.templates import template

BLUEPRINT = "byom_batch_pipeline.yaml"

# Resource types of the batch blueprint and what moto does with them.
BATCH_IN_MOTO = {
    "AWS::IAM::Role": "created",
    "AWS::SageMaker::Model": "created",
    "AWS::StepFunctions::StateMachine": "created (moto reads DefinitionString only, which the blueprint uses)",
}


def rendered() -> dict[str, str]:
    request = parse(REGISTRY.get("byom_batch_builtin").model, load_event("valid/byom_batch_builtin"), SETTINGS)
    return REGISTRY.get("byom_batch_builtin").render(request, SETTINGS, None)


def definition(params: dict[str, str]) -> dict[str, Any]:
    """The state machine text exactly as CloudFormation would substitute it."""
    text, _ = template(BLUEPRINT)["Resources"]["RunStateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"]
    names = {**params, "AWS::Partition": "aws", "ModelResource": params["SageMakerModelName"]}
    return json.loads(Resolver(names=names).resolve({"Fn::Sub": text}))


def test_the_resource_table_covers_the_blueprint() -> None:
    types = {r["Type"] for r in template(BLUEPRINT)["Resources"].values()}
    assert types == set(BATCH_IN_MOTO)


def test_a_failed_job_fails_the_run_and_tells_the_topic_why() -> None:
    params = {**rendered(), "NotificationsSNSTopicArn": "arn:aws:sns:us-east-1:111122223333:mlops"}
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    sns = boto3.client("sns", region_name="us-east-1")
    job = params["TransformJobName"]
    reason = "ClientError: Input data s3://my-data-bucket/churn/batch/input.csv is not CSV"
    with Stubber(sagemaker) as sm, Stubber(sns) as topic:
        job_arn = f"arn:aws:sagemaker:us-east-1:111122223333:transform-job/{job}"
        no_job_yet(sm, "describe_transform_job", "TransformJobName", job)
        sm.add_response("create_transform_job", {"TransformJobArn": job_arn}, {
            "TransformJobName": job, "ModelName": params["SageMakerModelName"], "TransformInput": ANY,
            "TransformOutput": ANY, "TransformResources": ANY})  # fmt: skip
        sm.add_response("describe_transform_job", {
            "TransformJobName": job, "TransformJobArn": job_arn,
            "TransformJobStatus": "Failed", "FailureReason": reason, "ModelName": params["SageMakerModelName"],
            "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://x/y"}}},
            "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
            "CreationTime": "2026-11-21T10:00:00Z"}, {"TransformJobName": job})  # fmt: skip
        topic.add_response("publish", {"MessageId": "1"}, {
            "TopicArn": params["NotificationsSNSTopicArn"], "Subject": "Batch transform failed",
            "Message": f"Batch transform {job} failed. {job} Failed: {reason}"})  # fmt: skip
        with pytest.raises(ExecutionFailed) as failed:
            run(Session({"sagemaker": sagemaker, "sns": sns}), definition(params), {})
        topic.assert_no_pending_responses()
    assert failed.value.error == "TransformJobFailed"
    assert reason in failed.value.cause


def test_the_job_is_shaped_by_the_request() -> None:
    params = rendered()
    transform = definition(params)["States"]["Transform"]["Parameters"]
    assert transform["TransformInput"]["ContentType"] == "text/csv"
    assert transform["TransformInput"]["SplitType"] == "Line"
    assert (
        transform["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
        == "s3://my-data-bucket/churn/batch/input.csv"
    )
    assert transform["TransformResources"] == {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeKmsKeyId": ""}
    assert transform["TransformOutput"]["S3OutputPath"] == "s3://my-data-bucket/churn/batch/output"


@pytest.mark.parametrize(
    ("field", "value", "parameter", "expected"),
    [
        ("content_type", "application/jsonlines", "ContentType", "application/jsonlines"),
        ("split_type", "None", "SplitType", "None"),
        ("instance_count", "3", "InstanceCount", "3"),
        ("inference_instance", "ml.c5.2xlarge", "InferenceInstance", "ml.c5.2xlarge"),
        ("batch_job_output_location", "s3://other-out/x/", "BatchOutputLocation", "other-out/x"),
    ],
)
def test_each_field_changes_its_parameter_and_the_job_name(
    field: str, value: str, parameter: str, expected: str
) -> None:
    body = {**load_event("valid/byom_batch_builtin"), field: value}
    request = parse(REGISTRY.get("byom_batch_builtin").model, body, SETTINGS)
    changed = REGISTRY.get("byom_batch_builtin").render(request, SETTINGS, None)
    assert changed[parameter] == expected
    assert changed["TransformJobName"] != rendered()["TransformJobName"]


def test_run_id_alone_names_a_new_job() -> None:
    body = {**load_event("valid/byom_batch_builtin"), "run_id": "2026-11-21"}
    request = parse(REGISTRY.get("byom_batch_builtin").model, body, SETTINGS)
    again = REGISTRY.get("byom_batch_builtin").render(request, SETTINGS, None)
    assert again["TransformJobName"] != rendered()["TransformJobName"]
    assert {k: v for k, v in again.items() if k != "TransformJobName"} == {
        k: v for k, v in rendered().items() if k != "TransformJobName"
    }
