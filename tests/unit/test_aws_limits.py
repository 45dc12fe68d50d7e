"""Requests AWS would refuse later are refused when they arrive: a 400 naming the field and why.

Each rule stands for a fact of AWS's documentation that the emulator does not check:
- IAM matches a KMS key only by its key ARN, never through an alias (KMS Developer Guide,
  "Specifying KMS keys in IAM policy statements").
- SageMaker refuses a volume KMS key on instance types with local NVMe storage
  (CreateTrainingJob ResourceConfig.VolumeKmsKeyId, CreateEndpointConfig KmsKeyId, ...).
- SageMaker Model Monitor takes only hourly or daily cron schedules (ScheduleConfig).
- CodePipeline's Step Functions action, the Run stage that waits for a job, times out after
  7 days (CodePipeline quotas).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.models.base import parse
from chalicelib.models.instances import has_local_storage
from chalicelib.pipelines.catalog import REGISTRY
from tests.support.events import load_event
from tests.support.settings import MULTI, SETTINGS, problems

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SAGEMAKER_ENGINE = replace(SETTINGS, default_monitor_engine="sagemaker")


# --- KMS aliases -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pipeline_type",
    ["byom_realtime_builtin", "byom_batch_custom", "model_training_builtin", "model_autopilot_training",
     "byom_data_quality_monitor"],
)  # fmt: skip
@pytest.mark.parametrize("alias", ["alias/mlops", "arn:aws:kms:us-east-1:111122223333:alias/mlops"])
def test_a_kms_alias_is_refused_saying_iam_needs_the_key_arn(pipeline_type: str, alias: str) -> None:
    found = problems({**load_event(f"valid/{pipeline_type}"), "kms_key_arn": alias})
    assert set(found) == {"kms_key_arn"}
    assert "alias" in found["kms_key_arn"] and "key ARN" in found["kms_key_arn"]
    assert "describe-key" in found["kms_key_arn"]


def test_an_alias_is_refused_in_any_stage() -> None:
    body = load_event("valid/byom_realtime_builtin")
    body["kms_key_arn"] = {"dev": KEY, "staging": KEY, "prod": "arn:aws:kms:us-east-1:444455556666:alias/prod-key"}
    assert "IAM cannot grant" in problems(body, MULTI)["kms_key_arn.prod"]


def test_a_key_arn_is_accepted() -> None:
    assert problems({**load_event("valid/byom_realtime_builtin"), "kms_key_arn": KEY}) == {}


def test_a_model_card_key_may_not_be_an_alias_either() -> None:
    body = load_event("model_cards/create_model_card")
    from chalicelib.models.model_cards import CreateModelCard

    with pytest.raises(ValidationFailed) as refused:
        parse(CreateModelCard, {**body, "kms_key_arn": "arn:aws:kms:us-east-1:111122223333:alias/cards"}, SETTINGS)
    assert [p.field for p in refused.value.problems] == ["kms_key_arn"]
    assert "IAM cannot grant" in refused.value.problems[0].problem


# --- volume keys on instances with local NVMe storage -------------------------------------


@pytest.mark.parametrize(
    ("instance", "local"),
    [("ml.m5.xlarge", False), ("ml.c5.2xlarge", False), ("ml.p3.2xlarge", False), ("ml.inf2.xlarge", False),
     ("ml.m5d.xlarge", True), ("ml.c5d.large", True), ("ml.r5d.large", True), ("ml.g4dn.xlarge", True),
     ("ml.g5.2xlarge", True), ("ml.p3dn.24xlarge", True), ("ml.p4d.24xlarge", True), ("ml.m6id.large", True),
     ("ml.c7gd.large", True)],
)  # fmt: skip
def test_the_families_with_local_storage(instance: str, local: bool) -> None:
    assert has_local_storage(instance) is local


@pytest.mark.parametrize(
    ("pipeline_type", "instance_field", "settings"),
    [
        ("byom_realtime_builtin", "inference_instance", SETTINGS),  # CreateEndpointConfig KmsKeyId
        ("byom_batch_builtin", "inference_instance", SETTINGS),  # TransformResources.VolumeKmsKeyId
        ("model_training_builtin", "instance_type", SETTINGS),  # ResourceConfig.VolumeKmsKeyId
        ("model_tuner_builtin", "instance_type", SETTINGS),
        ("byom_data_quality_monitor", "instance_type", SAGEMAKER_ENGINE),  # ClusterConfig.VolumeKmsKeyId
        ("byom_model_bias_monitor", "instance_type", SETTINGS),
    ],
)
def test_a_volume_key_with_local_storage_is_refused_naming_both_fields(
    pipeline_type: str, instance_field: str, settings: Any
) -> None:
    body = {**load_event(f"valid/{pipeline_type}"), instance_field: "ml.g4dn.xlarge", "kms_key_arn": KEY}
    found = problems(body, settings)
    assert set(found) == {instance_field, "kms_key_arn"}, found
    for text in found.values():
        assert "ml.g4dn.xlarge" in text and "local NVMe" in text and "kms_key_arn" in text
    assert problems({**body, instance_field: "ml.m5.xlarge"}, settings) == {}
    assert problems({k: v for k, v in body.items() if k != "kms_key_arn"}, settings) == {}


def test_the_serverless_engine_puts_no_key_on_instance_volumes() -> None:
    body = {**load_event("valid/byom_data_quality_monitor"), "instance_type": "ml.g5.xlarge", "kms_key_arn": KEY}
    assert problems({**body, "monitor_engine": "serverless"}) == {}


def test_per_stage_values_name_the_stage() -> None:
    body = load_event("valid/byom_realtime_builtin")
    body["inference_instance"] = {"dev": "ml.m5.large", "staging": "ml.m5.large", "prod": "ml.g5.xlarge"}
    body["kms_key_arn"] = KEY
    assert set(problems(body, MULTI)) == {"inference_instance.prod", "kms_key_arn"}


# --- Model Monitor schedules ---------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule", ["cron(0 * ? * * *)", "cron(0 12 ? * * *)", "cron(0 00 ? * * *)", "cron(0 17/12 ? * * *)",
                 "cron(0 0/2 ? * * *)"],
)  # fmt: skip
def test_model_monitor_takes_hourly_and_daily_cron(schedule: str) -> None:
    body = {**load_event("valid/byom_data_quality_monitor"), "schedule_expression": schedule}
    assert problems(body, SAGEMAKER_ENGINE) == {}


@pytest.mark.parametrize(
    "schedule", ["cron(30 * ? * * *)", "cron(0 8 ? * MON-FRI *)", "cron(0 */2 ? * * *)", "cron(0 24 ? * * *)",
                 "cron(0 0/25 ? * * *)", "rate(1 hour)"],
)  # fmt: skip
def test_model_monitor_refuses_other_schedules_which_the_serverless_engine_takes(schedule: str) -> None:
    body = {**load_event("valid/byom_data_quality_monitor"), "schedule_expression": schedule}
    found = problems(body, SAGEMAKER_ENGINE)
    assert set(found) == {"schedule_expression"} and "hourly or daily" in found["schedule_expression"]
    assert problems(body) == {}  # the serverless engine (EventBridge Scheduler)
    bias = {**load_event("valid/byom_model_bias_monitor"), "schedule_expression": schedule}
    assert "schedule_expression" in problems(bias)  # bias runs on Model Monitor only


def test_a_per_stage_schedule_names_its_stage() -> None:
    body = load_event("valid/byom_model_bias_monitor")
    body["schedule_expression"] = {"dev": "cron(0 * ? * * *)", "staging": "cron(0 * ? * * *)",
                                   "prod": "cron(15 * ? * * *)"}  # fmt: skip
    assert set(problems(body, MULTI)) == {"schedule_expression.prod"}


# --- the Run stage's 7 days -------------------------------------------------------------------

WEEK = 7 * 24 * 3600


@pytest.mark.parametrize("pipeline_type", ["model_training_builtin", "model_tuner_builtin"])
def test_a_training_job_longer_than_the_run_stage_can_wait_is_refused(pipeline_type: str) -> None:
    body = {**load_event(f"valid/{pipeline_type}"), "use_spot_instances": False, "max_runtime_per_job": WEEK}
    found = problems(body)
    assert set(found) == {"max_runtime_per_job"} and "7 days" in found["max_runtime_per_job"]
    assert problems({**body, "max_runtime_per_job": 5 * 24 * 3600}) == {}


def test_with_spot_instances_the_wait_time_is_what_the_run_stage_waits_for() -> None:
    body = {**load_event("valid/model_training_builtin"), "max_wait_time_spot_instances": 10 * 24 * 3600}
    found = problems(body)
    assert set(found) == {"max_wait_time_spot_instances"} and "Run stage" in found["max_wait_time_spot_instances"]


def test_an_automl_job_longer_than_the_run_stage_can_wait_is_refused_and_the_default_fits() -> None:
    body = load_event("valid/model_autopilot_training")
    parsed = parse(REGISTRY.get("model_autopilot_training").model, body, SETTINGS)
    assert getattr(parsed, "total_max_runtime") < WEEK  # noqa: B009
    found = problems({**body, "total_max_runtime": 30 * 24 * 3600})
    assert set(found) == {"total_max_runtime"} and "7 days" in found["total_max_runtime"]
