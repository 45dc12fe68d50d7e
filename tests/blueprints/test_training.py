"""Training: every accepted field changes what the job is created with; a failed job reports why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from cfnlint.decode.cfn_yaml import loads

from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from mlops_cli.executor import resolve
from mlops_cli.statemachine import ExecutionFailed, run
from tests.conftest import load_event
from tests.unit.test_models import SETTINGS

BLUEPRINT = Path(__file__).resolve().parents[2] / "blueprints" / "model_training_pipeline.yaml"
TYPE = "model_training_builtin"

# field -> a different accepted value (each must change the job, not only its name)
CHANGES: dict[str, Any] = {
    "model_name": "churn-training-2",
    "training_data": "training/churn/train-v2.csv",
    "job_output_location": "training/churn/output-v2",
    "job_name": "nightly-churn",
    "run_id": "2026-11-21",
    "kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
    "encrypt_inner_traffic": "False",
    "max_runtime_per_job": 3600,
    "compression_type": "Gzip",
    "model_framework_version": "1.5-1",
    "algo_hyperparamaters": {"num_round": 100},
    "instance_type": "ml.c5.2xlarge",
    "instance_count": 2,
    "instance_volume_size": 50,
    "validation_data": "training/churn/validation-v2.csv",
    "use_spot_instances": False,
    "max_wait_time_spot_instances": 200_000,
    "content_type": "text/libsvm",
    "data_distribution": "ShardedByS3Key",
    "data_input_mode": "Pipe",
    "data_record_wrapping": "RecordIO",
    ("s3_data_type", "attribute_names"): ("AugmentedManifestFile", ["source-ref", "label"]),
    "model_framework": ("model_framework", "linear-learner", "model_framework_version", "1"),
}
# Fields whose change shows only in the job name (they name the job by design).
NAME_ONLY = {"run_id", "job_name"}


def render(body: dict[str, Any]) -> dict[str, str]:
    return REGISTRY.get(TYPE).render(parse(REGISTRY.get(TYPE).model, body, SETTINGS), SETTINGS, None)


def changed(key: Any, value: Any) -> dict[str, Any]:
    body = load_event(f"valid/{TYPE}")
    if isinstance(key, tuple):
        body.update(dict(zip(key, value, strict=True)))
    elif isinstance(value, tuple):
        body.update(dict(zip(value[0::2], value[1::2], strict=True)))
    else:
        body[key] = value
    return body


def test_the_table_covers_every_field_of_the_request() -> None:
    covered = {k for key in CHANGES for k in (key if isinstance(key, tuple) else (key,))}
    fields = set(REGISTRY.get(TYPE).model.model_fields) - {"pipeline_type"}
    assert covered == fields


@pytest.mark.parametrize("key", list(CHANGES), ids=str)
def test_each_field_changes_the_job(key: Any) -> None:
    before, after = render(load_event(f"valid/{TYPE}")), render(changed(key, CHANGES[key]))
    differing = {k for k in before if before[k] != after[k]}
    assert "JobName" in differing  # a changed request is a new job
    if key not in NAME_ONLY:
        assert differing - {"JobName", "StateMachineName", "ModelName"} or key == "model_name", key


def definition(params: dict[str, str]) -> dict[str, Any]:
    template = loads(BLUEPRINT.read_text())
    text, _ = template["Resources"]["RunStateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"]
    names = {**params, "AWS::Partition": "aws", "TrainingRoleArn": "arn:aws:iam::111122223333:role/train"}
    return json.loads(resolve({"Fn::Sub": text}, names))


class Session:
    def __init__(self, clients: dict[str, Any]) -> None:
        self.clients = clients

    def client(self, name: str, region_name: str = "us-east-1") -> Any:
        return self.clients[name]


def test_the_job_request_is_what_the_body_asked_for() -> None:
    train = definition(render(load_event(f"valid/{TYPE}")))["States"]["Train"]["Parameters"]
    assert train["HyperParameters"] == {
        "eval_metric": "auc",
        "num_round": "400",
        "objective": "binary:logistic",
        "rate_drop": "0.3",
    }
    assert [c["ChannelName"] for c in train["InputDataConfig"]] == ["train", "validation"]
    assert train["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400, "MaxWaitTimeInSeconds": 172800}
    assert train["EnableManagedSpotTraining"] is True and train["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge"


def test_a_failed_training_job_fails_the_run_and_tells_the_topic_why() -> None:
    params = {**render(load_event(f"valid/{TYPE}")), "NotificationsSNSTopicArn": "arn:aws:sns:us-east-1:111122223333:t"}
    job, reason = params["JobName"], "AlgorithmError: num_round must be positive"
    sagemaker, sns = boto3.client("sagemaker", region_name="us-east-1"), boto3.client("sns", region_name="us-east-1")
    with Stubber(sagemaker) as sm, Stubber(sns) as topic:
        sm.add_response("create_training_job", {"TrainingJobArn": f"arn:aws:sagemaker:us-east-1:1:training-job/{job}"},
                        {k: ANY for k in definition(params)["States"]["Train"]["Parameters"]})  # fmt: skip
        sm.add_response("describe_training_job", {
            "TrainingJobName": job, "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:1:training-job/{job}",
            "TrainingJobStatus": "Failed", "SecondaryStatus": "Failed", "FailureReason": reason,
            "ModelArtifacts": {"S3ModelArtifacts": ""}, "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ResourceConfig": {"VolumeSizeInGB": 20}, "StoppingCondition": {}, "CreationTime": "2026-11-21T10:00:00Z"},
            {"TrainingJobName": job})  # fmt: skip
        message = f"Training job {job} failed. {job} Failed: {reason}"
        expected = {"TopicArn": params["NotificationsSNSTopicArn"], "Subject": "Training failed", "Message": message}
        topic.add_response("publish", {"MessageId": "1"}, expected)
        with pytest.raises(ExecutionFailed) as failed:
            run(Session({"sagemaker": sagemaker, "sns": sns}), definition(params), {})
        topic.assert_no_pending_responses()
    assert failed.value.error == "TrainingJobFailed" and reason in failed.value.cause
