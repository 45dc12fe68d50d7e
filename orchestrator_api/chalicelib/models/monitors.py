"""SageMaker Model Monitor requests: data quality, model quality, bias, explainability."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict

from ..errors import Problem
from ..settings import Settings
from .base import RequestModel, require
from .clarify import BiasSettings, ModelScores, PredictedLabelSettings, ShapSettings
from .fields import (
    STAGES,
    AssetKey,
    Between,
    CronExpression,
    EndpointName,
    Flag,
    Fraction,
    InstanceType,
    KmsKeyArn,
    ModelName,
    OneOf,
    ProblemType,
    RunId,
    S3Location,
    Staged,
    StageValues,
    Text,
    VpcConfig,
    pattern,
)

RuntimeSeconds = Annotated[int, Between(1, 86400)]

# SageMaker Model Monitor's ScheduleConfig takes only these cron forms: hourly, daily at an
# hour, or every N hours from an hour (hours 0-23, N 1-24). The serverless engine's EventBridge
# Scheduler takes any cron() or rate() expression.
_HOUR = r"(0?[0-9]|1[0-9]|2[0-3])"
_MODEL_MONITOR_CRON = re.compile(rf"cron\(0 (\*|{_HOUR}|{_HOUR}/(0?[1-9]|1[0-9]|2[0-4])) \? \* \* \*\)")
MODEL_MONITOR_SCHEDULES = (
    "{value!r} is not a schedule SageMaker Model Monitor accepts: it takes hourly or daily cron expressions "
    "only, cron(0 * ? * * *) (every hour), cron(0 H ? * * *) (daily at hour H, 0-23 UTC) or "
    "cron(0 H/N ? * * *) (every N hours from hour H); other schedules need the serverless engine"
)


def model_monitor_schedule(expression: str) -> bool:
    return bool(_MODEL_MONITOR_CRON.fullmatch(expression))


VolumeSizeGb = Annotated[int, Between(1, 16384)]
CLASSIFICATION = ("BinaryClassification", "MulticlassClassification")


# The pipeline a monitor starts again when a check finds violations: its stack name (as
# provision answered it, with or without -codepipeline) or its pipeline_id (the stack ARN).
PipelineRef = Annotated[
    str,
    BeforeValidator(
        pattern(
            r"arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:[0-9]{12}:stack/[A-Za-z][A-Za-z0-9-]*/[A-Za-z0-9-]+"
            r"|[A-Za-z][A-Za-z0-9-]*",
            "expected a training, tuning or Autopilot pipeline's stack name or pipeline_id",
            256,
        )
    ),
]


class Retraining(BaseModel):
    """``retraining``: start a training pipeline again (a new run_id) when a check finds violations."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    pipeline: PipelineRef
    # At most one restart per cooldown, and at most max_per_day in any 24 hours.
    cooldown_minutes: Annotated[int, Between(5, 7 * 24 * 60)] = 360
    max_per_day: Annotated[int, Between(1, 24)] = 2


class _Monitor(RequestModel):
    model_name: ModelName
    endpoint_name: Staged[EndpointName]
    baseline_data: AssetKey
    baseline_job_output_location: Staged[S3Location]
    data_capture_location: Staged[S3Location]
    monitoring_output_location: Staged[S3Location]
    schedule_expression: Staged[CronExpression]
    monitor_max_runtime_seconds: Staged[RuntimeSeconds]
    instance_type: Staged[InstanceType]
    instance_volume_size: Staged[VolumeSizeGb]
    baseline_max_runtime_seconds: Staged[RuntimeSeconds] | None = None
    kms_key_arn: Staged[KmsKeyArn] | None = None
    run_id: RunId | None = None
    retraining: Retraining | None = None
    # The baseline and monitoring jobs' network (per stage: each account has its own VPC) and
    # isolation. Unset unless given, so a request without them keeps its jobs' names.
    vpc_config: Staged[VpcConfig] | None = None
    enable_network_isolation: Flag | None = None

    # SageMaker Model Monitor's jobs put the key on their instances' volumes.
    VOLUME_KEY_FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("instance_type", "kms_key_arn"),)
    STAGED: ClassVar[frozenset[str]] = frozenset(
        {
            "endpoint_name",
            "baseline_job_output_location",
            "data_capture_location",
            "monitoring_output_location",
            "schedule_expression",
            "monitor_max_runtime_seconds",
            "instance_type",
            "instance_volume_size",
            "baseline_max_runtime_seconds",
            "kms_key_arn",
            "vpc_config",
        }
    )

    def uses_model_monitor(self, settings: Settings) -> bool:
        """True when SageMaker Model Monitor runs this monitor (its schedule, jobs and volumes)."""
        return True

    def volume_key_fields(self, settings: Settings) -> tuple[tuple[str, str], ...]:
        return self.VOLUME_KEY_FIELDS if self.uses_model_monitor(settings) else ()

    def cross_checks(self, settings: Settings) -> list[Problem]:
        problems = super().cross_checks(settings)
        if self.uses_model_monitor(settings):
            schedules = self.schedule_expression
            staged = isinstance(schedules, StageValues)
            for stage in STAGES if staged else (None,):
                value = str(getattr(schedules, stage) if stage else schedules)
                if not model_monitor_schedule(value):
                    field = f"schedule_expression.{stage}" if stage else "schedule_expression"
                    problems.append(Problem(field, MODEL_MONITOR_SCHEDULES.format(value=value)))
        else:
            problems += [
                Problem(name, f"{what}; the serverless engine's checks run in Lambda, which this setting does "
                        "not reach: remove it, or give monitor_engine sagemaker")
                for name, what, given in (
                    ("vpc_config", "places SageMaker Model Monitor's jobs in your subnets", self.vpc_config),
                    ("enable_network_isolation", "cuts SageMaker Model Monitor's jobs off from the network",
                     self.enable_network_isolation or None),
                )
                if given is not None
            ]  # fmt: skip
        return problems


class _ModelMonitor(_Monitor):
    """Monitors that look at the model's outputs and need its problem type."""

    problem_type: ProblemType
    monitor_inference_attribute: Text | None = None
    monitor_probability_attribute: Text | None = None
    probability_threshold_attribute: Fraction | None = None

    @classmethod
    def presence_problems(cls, raw: dict[str, Any], settings: Settings) -> list[Problem]:
        # With BinaryClassification only model quality needs to know where the endpoint's output
        # holds the label or score (its rule below): a bias or explainability job reads an
        # endpoint that answers one score without either (EndpointInput's InferenceAttribute and
        # ProbabilityAttribute are optional), and the original solution required neither.
        problem_type = raw.get("problem_type")
        if problem_type in ("Regression", "MulticlassClassification"):
            return require(raw, "monitor_inference_attribute", f"when problem_type is {problem_type}")
        return []


class _EngineChoice(_Monitor):
    """Data and model quality run on SageMaker Model Monitor or on the serverless engine."""

    monitor_engine: Annotated[str, OneOf("sagemaker", "serverless")] | None = None

    def engine(self, settings: Settings) -> str:
        return self.monitor_engine or settings.default_monitor_engine

    def uses_model_monitor(self, settings: Settings) -> bool:
        return self.engine(settings) == "sagemaker"


class DataQualityMonitor(_EngineChoice):
    TYPE_NAME: ClassVar[str] = "byom_data_quality_monitor"


class ModelQualityMonitor(_ModelMonitor, _EngineChoice):
    TYPE_NAME: ClassVar[str] = "byom_model_quality_monitor"
    baseline_inference_attribute: Text
    baseline_ground_truth_attribute: Text
    baseline_probability_attribute: Text | None = None
    monitor_ground_truth_input: Staged[S3Location]
    STAGED: ClassVar[frozenset[str]] = _Monitor.STAGED | {"monitor_ground_truth_input"}

    @classmethod
    def presence_problems(cls, raw: dict[str, Any], settings: Settings) -> list[Problem]:
        problems = super().presence_problems(raw, settings)
        if raw.get("problem_type") == "BinaryClassification":
            problems += require(raw, "baseline_probability_attribute", "when problem_type is BinaryClassification")
            if not (raw.get("monitor_inference_attribute") or raw.get("monitor_probability_attribute")):
                problems.append(
                    Problem(
                        "monitor_inference_attribute",
                        "is required when problem_type is BinaryClassification (or give "
                        "monitor_probability_attribute): model quality compares the endpoint's label or score "
                        "with the ground truth",
                    )
                )
        return problems


class _Clarify(_ModelMonitor):
    """Bias and explainability: SageMaker Clarify's jobs, on SageMaker Model Monitor only."""

    REFUSED_FOREIGN: ClassVar[frozenset[str]] = frozenset({"monitor_engine"})
    KIND: ClassVar[str]
    features_attribute: Text | None = None

    @classmethod
    def presence_problems(cls, raw: dict[str, Any], settings: Settings) -> list[Problem]:
        problems = super().presence_problems(raw, settings)
        if "monitor_engine" in raw:
            problems.append(
                Problem(
                    "monitor_engine",
                    f"is not accepted: {cls.KIND} monitoring runs only on SageMaker Model Monitor (the serverless "
                    "engine covers data and model quality)",
                )
            )
        return problems

    def cross_checks(self, settings: Settings) -> list[Problem]:
        problems = super().cross_checks(settings)
        # AWS documents that Clarify's jobs need network isolation turned off: the baseline asks
        # the endpoint for predictions through the SageMaker Runtime API.
        if self.enable_network_isolation:
            problems.append(
                Problem(
                    "enable_network_isolation",
                    f"SageMaker Clarify's {self.KIND} jobs cannot run isolated: they call the endpoint for "
                    "predictions. Remove it; vpc_config keeps the jobs in your subnets (with a SageMaker Runtime "
                    "VPC endpoint or a NAT route)",
                )
            )
        return problems


class ModelBiasMonitor(_Clarify):
    TYPE_NAME: ClassVar[str] = "byom_model_bias_monitor"
    KIND: ClassVar[str] = "bias"
    monitor_ground_truth_input: Staged[S3Location]
    bias_config: BiasSettings
    model_predicted_label_config: PredictedLabelSettings | None = None
    STAGED: ClassVar[frozenset[str]] = _Monitor.STAGED | {"monitor_ground_truth_input"}

    @classmethod
    def presence_problems(cls, raw: dict[str, Any], settings: Settings) -> list[Problem]:
        problems = super().presence_problems(raw, settings)
        if raw.get("problem_type") in CLASSIFICATION:
            problems += require(raw, "model_predicted_label_config", f"when problem_type is {raw['problem_type']}")
        return problems


class ModelExplainabilityMonitor(_Clarify):
    TYPE_NAME: ClassVar[str] = "byom_model_explainability_monitor"
    KIND: ClassVar[str] = "explainability"
    shap_config: ShapSettings
    model_scores: ModelScores | None = None
