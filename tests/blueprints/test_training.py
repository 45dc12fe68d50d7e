"""Training and tuning: every accepted field changes what the job is created with; a failed job
reports why; bad tuning strategies are refused before anything is deployed."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from chalicelib.pipelines.catalog import REGISTRY
from mlops_local.statemachine import ExecutionFailed, run
from tests.support.events import load_event
from tests.support.statemachines import TRAINING, Session, changed, definition, no_job_yet, notice, render
from tests.support.templates import template

TYPE = TRAINING
TUNER = "model_tuner_builtin"

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
    "model_package_group_name": "churn-models",
    "vpc_config": {"subnets": ["subnet-0a1b2c3d4e5f60718"], "security_group_ids": ["sg-0a1b2c3d4e5f60718"]},
    "enable_network_isolation": True,
}
# The tuner takes the same fields (its job name is shorter), plus the search itself.
TUNER_CHANGES: dict[str, Any] = {
    **{k: v for k, v in CHANGES.items() if k not in ("model_name", "job_name")},
    "model_name": "churn-tuning-2",
    "job_name": "nightly",
    "algo_hyperparamaters": {"num_round": 100},
    "tuner_configs": {"objective_metric_name": "validation:rmse", "objective_type": "Minimize"},
    "hyperparamaters_ranges": {"eta": ["continuous", [0.2, 0.4]]},
}
# Fields whose change shows only in the job name (they name the job by design).
NAME_ONLY = {"run_id", "job_name"}


@pytest.mark.parametrize(("kind", "table"), [(TYPE, CHANGES), (TUNER, TUNER_CHANGES)])
def test_the_table_covers_every_field_of_the_request(kind: str, table: dict[str, Any]) -> None:
    covered = {k for key in table for k in (key if isinstance(key, tuple) else (key,))}
    fields = set(REGISTRY.get(kind).model.model_fields) - {"pipeline_type"}
    assert covered == fields


CASES = [(TYPE, k, v) for k, v in CHANGES.items()] + [(TUNER, k, v) for k, v in TUNER_CHANGES.items()]


@pytest.mark.parametrize(("kind", "key", "value"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_each_field_changes_the_job(kind: str, key: Any, value: Any) -> None:
    before, after = render(load_event(f"valid/{kind}"), kind), render(changed(key, value, kind), kind)
    differing = {k for k in before if before[k] != after[k]}
    assert "JobName" in differing  # a changed request is a new job
    if key not in NAME_ONLY:
        assert differing - {"JobName", "StateMachineName", "ModelName"} or key == "model_name", key


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
        no_job_yet(sm, "describe_training_job", "TrainingJobName", job)
        sm.add_response("create_training_job", {"TrainingJobArn": f"arn:aws:sagemaker:us-east-1:1:training-job/{job}"},
                        {k: ANY for k in definition(params)["States"]["Train"]["Parameters"]})  # fmt: skip
        sm.add_response("describe_training_job", {
            "TrainingJobName": job, "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:1:training-job/{job}",
            "TrainingJobStatus": "Failed", "SecondaryStatus": "Failed", "FailureReason": reason,
            "ModelArtifacts": {"S3ModelArtifacts": ""}, "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ResourceConfig": {"VolumeSizeInGB": 20}, "StoppingCondition": {}, "CreationTime": "2026-11-21T10:00:00Z"},
            {"TrainingJobName": job})  # fmt: skip
        message = f"[mlops] mlops-pipeline-churn-training | Run: training job {job} failed: {job} Failed: {reason}"
        expected = {"TopicArn": params["NotificationsSNSTopicArn"], "Subject": "Training failed", "Message": message}
        topic.add_response("publish", {"MessageId": "1"}, expected)
        with pytest.raises(ExecutionFailed) as failed:
            run(Session({"sagemaker": sagemaker, "sns": sns}), definition(params), {})
        topic.assert_no_pending_responses()
    assert failed.value.error == "TrainingJobFailed" and reason in failed.value.cause


def tuning_definition() -> dict[str, Any]:
    return definition(render(load_event(f"valid/{TUNER}"), TUNER), "model_tuning_pipeline.yaml")


def test_the_tuning_job_searches_the_requested_ranges_around_fixed_hyperparameters() -> None:
    tune = tuning_definition()["States"]["Tune"]["Parameters"]
    config = tune["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian" and config["TrainingJobEarlyStoppingType"] == "Auto"
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "validation:auc"}
    # The whole tuning job ends within the Run stage's 7 days (CodePipeline's Step Functions
    # action gives up then), however many rounds of max_runtime_per_job it would take.
    assert config["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": 10,
        "MaxParallelTrainingJobs": 2,
        "MaxRuntimeInSeconds": 7 * 24 * 3600 - 3600,
    }
    ranges = config["ParameterRanges"]
    assert [r["Name"] for r in ranges["ContinuousParameterRanges"]] == ["eta", "gamma", "min_child_weight"]
    assert ranges["IntegerParameterRanges"] == [
        {"Name": "max_depth", "MinValue": "1", "MaxValue": "15", "ScalingType": "Auto"}
    ]
    assert tune["TrainingJobDefinition"]["StaticHyperParameters"] == {
        "eval_metric": "auc",
        "num_round": "400",
        "objective": "binary:logistic",
    }
    assert len(tune["HyperParameterTuningJobName"]) <= 32


def test_a_failed_tuning_job_fails_the_run_with_its_reason() -> None:
    machine = tuning_definition()
    job = machine["States"]["Tune"]["Parameters"]["HyperParameterTuningJobName"]
    reason = "No training job succeeded after 5 attempts"
    sagemaker, sns = boto3.client("sagemaker", region_name="us-east-1"), boto3.client("sns", region_name="us-east-1")
    arn = f"arn:aws:sagemaker:us-east-1:1:hyper-parameter-tuning-job/{job}"
    with Stubber(sagemaker) as sm, Stubber(sns) as topic:
        no_job_yet(sm, "describe_hyper_parameter_tuning_job", "HyperParameterTuningJobName", job)
        sm.add_response("create_hyper_parameter_tuning_job", {"HyperParameterTuningJobArn": arn},
                        {k: ANY for k in machine["States"]["Tune"]["Parameters"]})  # fmt: skip
        sm.add_response("describe_hyper_parameter_tuning_job", {
            "HyperParameterTuningJobName": job, "HyperParameterTuningJobArn": arn,
            "HyperParameterTuningJobConfig": machine["States"]["Tune"]["Parameters"]["HyperParameterTuningJobConfig"],
            "HyperParameterTuningJobStatus": "Failed", "FailureReason": reason,
            "CreationTime": "2026-11-21T10:00:00Z", "TrainingJobStatusCounters": {},
            "ObjectiveStatusCounters": {}}, {"HyperParameterTuningJobName": job})  # fmt: skip
        notice(topic, "Tuning failed")
        with pytest.raises(ExecutionFailed) as failed:
            run(Session({"sagemaker": sagemaker, "sns": sns}), machine, {})
    assert failed.value.error == "TuningJobFailed" and reason in failed.value.cause


@pytest.mark.parametrize(
    ("tuner", "ranges", "field", "words"),
    [
        ({"strategy": "Grid"}, None, "hyperparamaters_ranges", "categorical ranges only; eta, gamma"),
        ({"strategy": "Hyperband", "early_stopping_type": "Auto"}, None, "tuner_configs.early_stopping_type", "Off"),
        ({"strategy": "Grid"}, {"booster": ["categorical", ["gbtree", "dart"]]}, None, None),
    ],
)
def test_strategies_are_checked_against_the_search(
    tuner: dict[str, Any], ranges: dict[str, Any] | None, field: str | None, words: str | None
) -> None:
    from chalicelib.errors import ValidationFailed

    body = load_event(f"valid/{TUNER}")
    body["tuner_configs"] = {**body["tuner_configs"], **tuner}
    if ranges:
        body["hyperparamaters_ranges"] = ranges
    if field is None:
        render(body, TUNER)
        return
    with pytest.raises(ValidationFailed) as refused:
        render(body, TUNER)
    problems = {p.field: p.problem for p in refused.value.problems}
    assert words in problems[field]


# Resource types of the training-family blueprints and what moto's CloudFormation does with
# them. Their state machines run in local mode (tests/e2e) against moto's SageMaker, whose jobs
# complete at once; failures are produced with Stubber above.
TRAINING_IN_MOTO = {
    "AWS::IAM::Role": "created",
    "AWS::StepFunctions::StateMachine": "created; local mode runs it",
    "AWS::Events::Rule": "created (moto delivers no SageMaker events: asserted on the template)",
}
# SageMaker sends no EventBridge event for AutoML jobs: the state machine reports the outcome.
AUTOPILOT_IN_MOTO = {
    **{t: fate for t, fate in TRAINING_IN_MOTO.items() if t != "AWS::Events::Rule"},
    "AWS::IAM::Policy": "created",
}


@pytest.mark.parametrize(
    ("blueprint", "table"),
    [
        ("model_training_pipeline.yaml", TRAINING_IN_MOTO),
        ("model_tuning_pipeline.yaml", TRAINING_IN_MOTO),
        ("autopilot_training_pipeline.yaml", AUTOPILOT_IN_MOTO),
    ],
)
def test_the_resource_tables_cover_the_blueprints(blueprint: str, table: dict[str, str]) -> None:
    resources = template(blueprint)["Resources"]
    assert {r["Type"] for r in resources.values()} == set(table)


@pytest.mark.parametrize(
    ("blueprint", "detail_type", "name_field"),
    [
        ("model_training_pipeline.yaml", "SageMaker Training Job State Change", "TrainingJobName"),
        (
            "model_tuning_pipeline.yaml",
            "SageMaker HyperParameter Tuning Job State Change",
            "HyperParameterTuningJobName",
        ),
    ],
)
def test_job_state_changes_reach_the_topic_for_this_job_only(blueprint: str, detail_type: str, name_field: str) -> None:
    rule = template(blueprint)["Resources"]["JobStateRule"]["Properties"]
    assert rule["EventPattern"]["detail-type"] == [detail_type]
    assert rule["EventPattern"]["detail"][name_field] == [{"Ref": "JobName"}]
    assert rule["Targets"][0]["Arn"] == {"Ref": "NotificationsSNSTopicArn"}  # its line: test_event_notices.py


def described_job(job: str, status: str) -> dict[str, Any]:
    return {
        "TrainingJobName": job, "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:1:training-job/{job}",
        "TrainingJobStatus": status, "SecondaryStatus": status, "ModelArtifacts": {"S3ModelArtifacts": ""},
        "AlgorithmSpecification": {"TrainingInputMode": "File"}, "ResourceConfig": {"VolumeSizeInGB": 20},
        "StoppingCondition": {}, "CreationTime": "2026-11-21T10:00:00Z",
    }  # fmt: skip


@pytest.mark.parametrize(("status", "outcome"), [("Completed", "reused"), ("Failed", "refused")])
def test_a_rerun_reuses_a_completed_job_and_refuses_a_taken_name(status: str, outcome: str) -> None:
    params = {**render(load_event(f"valid/{TYPE}")), "NotificationsSNSTopicArn": "arn:aws:sns:us-east-1:111122223333:t"}
    job = params["JobName"]
    sagemaker, sns = boto3.client("sagemaker", region_name="us-east-1"), boto3.client("sns", region_name="us-east-1")
    with Stubber(sagemaker) as sm, Stubber(sns) as topic:
        sm.add_response("describe_training_job", described_job(job, status), {"TrainingJobName": job})
        subject = "Training completed" if outcome == "reused" else "Training failed"
        notice(topic, subject)
        if outcome == "reused":
            run(Session({"sagemaker": sagemaker, "sns": sns}), definition(params), {})
        else:
            with pytest.raises(ExecutionFailed) as failed:
                run(Session({"sagemaker": sagemaker, "sns": sns}), definition(params), {})
            assert "already exists with status Failed; give the request a new run_id" in failed.value.cause
        sm.assert_no_pending_responses()  # no second CreateTrainingJob
        topic.assert_no_pending_responses()
