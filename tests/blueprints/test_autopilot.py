"""Autopilot: every accepted field reaches CreateAutoMLJobV2 (KMS and compression included), the
polling machine reports a failed or stopped job with its reason, and an absent objective leaves
no key behind."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from mlops_local.statemachine import ExecutionFailed, run
from tests.support.events import load_event
from tests.support.statemachines import Session, changed, definition, render

TYPE = "model_autopilot_training"
BLUEPRINT = "autopilot_training_pipeline.yaml"
KMS = "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"

# field -> (other accepted value, where it must show in the CreateAutoMLJobV2 request)
CHANGES: dict[str, tuple[Any, str]] = {
    "model_name": ("churn-autopilot-2", "AutoMLJobName"),
    "training_data": ("training/churn/v2.csv", "AutoMLJobInputDataConfig.0.DataSource.S3DataSource.S3Uri"),
    "job_output_location": ("training/churn/automl-v2", "OutputDataConfig.S3OutputPath"),
    "job_name": ("nightly", "AutoMLJobName"),
    "run_id": ("2026-11-22", "AutoMLJobName"),
    "kms_key_arn": (KMS, "SecurityConfig.VolumeKmsKeyId"),
    "encrypt_inner_traffic": ("False", "SecurityConfig.EnableInterContainerTrafficEncryption"),
    "max_runtime_per_job": (3600, "AutoMLProblemTypeConfig.TabularJobConfig.CompletionCriteria"),
    "compression_type": ("Gzip", "AutoMLJobInputDataConfig.0.CompressionType"),
    "target_attribute": ("label", "AutoMLProblemTypeConfig.TabularJobConfig.TargetAttributeName"),
    "problem_type": ("Regression", "AutoMLProblemTypeConfig.TabularJobConfig.ProblemType"),
    "job_objective": ("F1", "AutoMLJobObjective.MetricName"),
    "job_max_candidates": (50, "AutoMLProblemTypeConfig.TabularJobConfig.CompletionCriteria.MaxCandidates"),
    "total_max_runtime": (7200, "AutoMLProblemTypeConfig.TabularJobConfig.CompletionCriteria"),
    "generate_definition_only": ("True", "AutoMLProblemTypeConfig.TabularJobConfig.GenerateCandidateDefinitionsOnly"),
    "model_package_group_name": ("churn-models", "AutoMLJobName"),
    "vpc_config": (
        {"subnets": ["subnet-0a1b2c3d4e5f60718"], "security_group_ids": ["sg-0a1b2c3d4e5f60718"]},
        "SecurityConfig.VpcConfig",
    ),
}


def request_of(body: dict[str, Any]) -> dict[str, Any]:
    """The CreateAutoMLJobV2 request the state machine sends for ``body``."""
    params = render(body, TYPE)
    machine = definition({**params, "AutoMLRoleArn": "arn:aws:iam::111122223333:role/automl"}, BLUEPRINT)
    return dict(machine["States"]["Start"]["Parameters"])


def at(document: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        document = document[int(part)] if isinstance(document, list) else document.get(part)
    return document


def test_the_table_covers_every_field_of_the_request() -> None:
    from chalicelib.pipelines.catalog import REGISTRY

    assert set(CHANGES) == set(REGISTRY.get(TYPE).model.model_fields) - {"pipeline_type"}


@pytest.mark.parametrize("field", list(CHANGES))
def test_each_field_changes_the_automl_request(field: str) -> None:
    value, where = CHANGES[field]
    body = changed(field, value, TYPE)
    if field == "problem_type":
        body["job_objective"] = "MSE"
    if field == "total_max_runtime":
        body["max_runtime_per_job"] = 3600
    before, after = request_of(load_event(f"valid/{TYPE}")), request_of(body)
    assert at(before, where) != at(after, where), where
    assert before["AutoMLJobName"] != after["AutoMLJobName"]  # a changed request is a new job


def test_the_request_carries_kms_and_compression() -> None:
    body = {**load_event(f"valid/{TYPE}"), "kms_key_arn": KMS, "compression_type": "Gzip"}
    request = request_of(body)
    assert request["SecurityConfig"]["VolumeKmsKeyId"] == KMS
    assert request["OutputDataConfig"]["KmsKeyId"] == KMS
    assert request["AutoMLJobInputDataConfig"][0]["CompressionType"] == "Gzip"


def test_without_a_problem_type_autopilot_infers_it_and_no_objective_key_is_sent() -> None:
    body = load_event(f"valid/{TYPE}")
    del body["problem_type"], body["job_objective"]
    request = request_of(body)
    assert "AutoMLJobObjective" not in request
    assert "ProblemType" not in request["AutoMLProblemTypeConfig"]["TabularJobConfig"]


def machine() -> dict[str, Any]:
    return definition(
        {**render(load_event(f"valid/{TYPE}"), TYPE), "AutoMLRoleArn": "arn:aws:iam::1:role/a"}, BLUEPRINT
    )


@pytest.mark.parametrize(
    ("status", "reason", "cause"),
    [
        ("Failed", "ClientError: target attribute churn is not in the header", "Failed: ClientError: target"),
        ("Stopped", None, "Stopped: the job was stopped"),
    ],
)
def test_a_job_that_ends_badly_fails_the_run_after_polling(status: str, reason: str | None, cause: str) -> None:
    definition_ = machine()
    job = definition_["States"]["Start"]["Parameters"]["AutoMLJobName"]
    sagemaker, sns = boto3.client("sagemaker", region_name="us-east-1"), boto3.client("sns", region_name="us-east-1")
    arn = f"arn:aws:sagemaker:us-east-1:1:automl-job/{job}"

    def described(state: str, failure: str | None = None) -> dict[str, Any]:
        answer = {
            "AutoMLJobName": job, "AutoMLJobArn": arn, "AutoMLJobStatus": state,
            "AutoMLJobSecondaryStatus": "Training" if state == "InProgress" else state,
            "AutoMLJobInputDataConfig": definition_["States"]["Start"]["Parameters"]["AutoMLJobInputDataConfig"],
            "OutputDataConfig": {"S3OutputPath": "s3://b/o"}, "RoleArn": "arn:aws:iam::1:role/a",
            "CreationTime": "2026-11-22T10:00:00Z", "LastModifiedTime": "2026-11-22T10:05:00Z",
        }  # fmt: skip
        if failure:
            answer["FailureReason"] = failure
        return answer

    with Stubber(sagemaker) as sm, Stubber(sns) as topic:
        sm.add_client_error("describe_auto_ml_job_v2", "ResourceNotFound", "no such job", 400, {"AutoMLJobName": job})
        sm.add_response("create_auto_ml_job_v2", {"AutoMLJobArn": arn})  # request shape still validated
        sm.add_response("describe_auto_ml_job_v2", described("InProgress"), {"AutoMLJobName": job})
        sm.add_response("describe_auto_ml_job_v2", described(status, reason), {"AutoMLJobName": job})
        failure = {"TopicArn": ANY, "Subject": "Autopilot failed", "Message": ANY}
        topic.add_response("publish", {"MessageId": "1"}, failure)
        with pytest.raises(ExecutionFailed) as failed:
            run(Session({"sagemaker": sagemaker, "sns": sns}), definition_, {})
        sm.assert_no_pending_responses()
    assert failed.value.error == "AutoMLJobFailed"
    assert cause in failed.value.cause and job in failed.value.cause


def test_a_rerun_waits_for_the_job_still_running_instead_of_starting_another() -> None:
    definition_ = machine()
    job = definition_["States"]["Start"]["Parameters"]["AutoMLJobName"]
    sagemaker, sns = boto3.client("sagemaker", region_name="us-east-1"), boto3.client("sns", region_name="us-east-1")
    arn = f"arn:aws:sagemaker:us-east-1:1:automl-job/{job}"
    base = {
        "AutoMLJobName": job, "AutoMLJobArn": arn,
        "AutoMLJobInputDataConfig": definition_["States"]["Start"]["Parameters"]["AutoMLJobInputDataConfig"],
        "OutputDataConfig": {"S3OutputPath": "s3://b/o"}, "RoleArn": "arn:aws:iam::1:role/a",
        "CreationTime": "2026-11-22T10:00:00Z", "LastModifiedTime": "2026-11-22T10:05:00Z",
    }  # fmt: skip
    with Stubber(sagemaker) as sm, Stubber(sns) as topic:
        for status, secondary in (("InProgress", "Training"), ("Completed", "Completed")):
            answer = {**base, "AutoMLJobStatus": status, "AutoMLJobSecondaryStatus": secondary}
            sm.add_response("describe_auto_ml_job_v2", answer, {"AutoMLJobName": job})
        done = {"TopicArn": ANY, "Subject": "Autopilot completed", "Message": ANY}
        topic.add_response("publish", {"MessageId": "1"}, done)
        run(Session({"sagemaker": sagemaker, "sns": sns}), definition_, {})
        sm.assert_no_pending_responses()  # described twice, never created


def test_the_automl_role_may_run_what_hyperparameter_optimization_mode_starts() -> None:
    """In HYPERPARAMETER_TUNING mode (AUTO picks it for data over 100 MB) Autopilot starts a tuning
    job under the AutoML job's role, besides its processing, training and transform jobs."""
    from tests.support.templates import template

    role = template(BLUEPRINT)["Resources"]["AutoMLRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"] if "Action" in s]
    [jobs] = [s for s in statements if "sagemaker:CreateHyperParameterTuningJob" in s["Action"]]
    assert {
        "sagemaker:DescribeHyperParameterTuningJob", "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:ListTrainingJobsForHyperParameterTuningJob", "sagemaker:CreateTrainingJob",
        "sagemaker:CreateProcessingJob", "sagemaker:CreateTransformJob",
    } <= set(jobs["Action"])  # fmt: skip
    scoped = {r["Fn::Sub"].rsplit(":", 1)[1] for r in jobs["Resource"]}
    assert "hyper-parameter-tuning-job/${JobName}*" in scoped
