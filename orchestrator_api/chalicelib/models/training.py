"""Training requests: built-in algorithm training, hyperparameter tuning, Autopilot."""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict

from ..errors import Problem
from ..settings import Settings
from .base import RequestModel
from .fields import (
    SAGEMAKER_NAME,
    AssetKey,
    Between,
    Flag,
    Framework,
    FrameworkVersion,
    InstanceType,
    JobName,
    KmsKeyArn,
    ModelName,
    OneOf,
    ProblemType,
    RunId,
    Text,
    VpcConfig,
    control_problem,
    fail,
    pattern,
)

MAX_RUNTIME = 28 * 24 * 3600  # SageMaker's limit for one training job
# CodePipeline's Step Functions invoke action (the Run stage that waits for the job) fails after
# 7 days, whatever the job does. A job must be allowed to finish well within it: an hour is
# left for the job's start-up and the state machine's other steps.
RUN_STAGE_SECONDS = 7 * 24 * 3600
RUN_STAGE_JOB_SECONDS = RUN_STAGE_SECONDS - 3600


def run_stage_problem(field: str, seconds: int, what: str) -> Problem:
    return Problem(
        field,
        f"allows {what} to run {seconds} s ({seconds / 86400:.1f} days); the pipeline's Run stage (CodePipeline's "
        f"Step Functions action) fails after 7 days, so at most {RUN_STAGE_JOB_SECONDS} s are allowed",
    )


def _hyperparameters(value: Any) -> dict[str, str]:
    """SageMaker takes hyperparameters as strings; 400 and "400" are the same value."""
    if not isinstance(value, dict):
        raise fail("must be a JSON object of name: value")
    if len(value) > 100:
        raise fail(f"has {len(value)} entries; SageMaker accepts at most 100")
    out: dict[str, str] = {}
    for name, item in value.items():
        if not name or len(name) > 256:
            raise fail(f"hyperparameter name {name!r} must be 1-256 characters")
        if control_problem(name):
            raise fail(f"hyperparameter name {name!r} {control_problem(name)}")
        if isinstance(item, bool):
            text = "true" if item else "false"
        elif isinstance(item, float) and not math.isfinite(item):
            raise fail(f"hyperparameter {name!r} is {item}; give a finite number")
        elif isinstance(item, int | float):
            text = repr(item) if isinstance(item, float) and not item.is_integer() else str(int(item))
        elif isinstance(item, str):
            text = item
        else:
            raise fail(f"hyperparameter {name!r} must be a string, number or boolean")
        if len(text) > 2500:
            raise fail(f"hyperparameter {name!r} is longer than 2500 characters")
        if control_problem(text):
            raise fail(f"hyperparameter {name!r} {control_problem(text)}")
        out[name] = text
    return out


Hyperparameters = Annotated[dict[str, str], BeforeValidator(_hyperparameters)]

# The group a training pipeline registers its model in. Lower case: SageMaker writes names in
# lower case in its ARNs, and the run role's permissions name the group's ARN (IAM matches
# case-sensitively), so a group named with capitals could never be written.
RegistrationGroup = Annotated[
    str,
    BeforeValidator(
        pattern(
            SAGEMAKER_NAME,
            "a model package group name: letters, digits and hyphens, starting and ending with a letter or digit",
            63,
            lower=True,
        )
    ),
]


def _ranges(value: Any) -> dict[str, list[Any]]:
    """``{"eta": ["continuous", [0.1, 0.5]], "optimizer": ["categorical", ["sgd", "adam"]]}``."""
    if not isinstance(value, dict) or not value:
        raise fail('must be a non-empty JSON object such as {"eta": ["continuous", [0.1, 0.5]]}')
    out: dict[str, list[Any]] = {}
    for name, spec in value.items():
        where = f"range {name!r}"
        if control_problem(name):
            raise fail(f"{where}: the name {control_problem(name)}")
        if not (isinstance(spec, list) and len(spec) == 2 and isinstance(spec[1], list)):
            raise fail(f'{where} must be [kind, values], e.g. ["integer", [1, 10]]')
        kind, values = spec
        if kind in ("continuous", "integer"):
            numeric = len(values) == 2 and all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
            )
            if not numeric:
                raise fail(f"{where} must give [min, max] as two numbers")
            if kind == "integer" and not all(float(v).is_integer() for v in values):
                raise fail(f"{where} is an integer range; its bounds must be whole numbers")
            if values[0] > values[1]:
                raise fail(f"{where} has min {values[0]} greater than max {values[1]}")
            values = [int(v) for v in values] if kind == "integer" else [float(v) for v in values]
        elif kind == "categorical":
            if not values or len(values) > 30 or not all(_category(v) for v in values):
                raise fail(f"{where} must list 1 to 30 categorical values: text or finite numbers")
            values = [str(v) for v in values]
        else:
            raise fail(f"{where} has kind {kind!r}; use continuous, integer or categorical")
        out[name] = [kind, values]
    return out


def _category(value: Any) -> bool:
    if isinstance(value, str):
        return control_problem(value) is None
    return isinstance(value, int | float) and math.isfinite(value)


HyperparameterRanges = Annotated[dict[str, list[Any]], BeforeValidator(_ranges)]
RuntimeSeconds = Annotated[int, Between(1, MAX_RUNTIME)]


class TunerConfig(BaseModel):
    """The original solution's ``tuner_configs``: arguments of the SageMaker SDK's ``HyperparameterTuner``.

    An omitted key takes the SDK's default (sagemaker 2.x, ``HyperparameterTuner.__init__``):
    Bayesian, Maximize, early stopping Off, one job at a time, and ``max_jobs`` 1, except with
    the Grid strategy, where SageMaker runs every combination of the ranges (None here: the
    tuning job's ResourceLimits then carry no MaxNumberOfTrainingJobs).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    objective_metric_name: Text
    objective_type: Annotated[str, OneOf("Maximize", "Minimize")] = "Maximize"
    strategy: Annotated[str, OneOf("Bayesian", "Random", "Hyperband", "Grid")] = "Bayesian"
    early_stopping_type: Annotated[str, OneOf("Off", "Auto")] = "Off"
    max_jobs: Annotated[int, Between(1, 750)] | None = None
    max_parallel_jobs: Annotated[int, Between(1, 100)] = 1

    def job_limit(self) -> int | None:
        """MaxNumberOfTrainingJobs: ``max_jobs``, else the SDK's default (1; none for Grid)."""
        if self.max_jobs is not None:
            return self.max_jobs
        return None if self.strategy == "Grid" else 1

    def parallel_limit(self) -> int:
        """MaxParallelTrainingJobs, never above the SDK's default job limit when max_jobs is not
        given (one job runs alone whatever the parallelism asked for)."""
        limit = self.job_limit()
        if self.max_jobs is None and limit is not None:
            return min(self.max_parallel_jobs, limit)
        return self.max_parallel_jobs


class _Training(RequestModel):
    model_name: ModelName
    training_data: AssetKey
    job_output_location: AssetKey
    job_name: JobName | None = None
    run_id: RunId | None = None
    kms_key_arn: KmsKeyArn | None = None
    encrypt_inner_traffic: Flag = True
    max_runtime_per_job: RuntimeSeconds = 86400
    compression_type: Annotated[str, OneOf("None", "Gzip", empty="None")] = "None"

    # (field that names the job, SageMaker API, longest name that API takes)
    JOB_NAME_LIMIT: ClassVar[tuple[str, int]] = ("training job", 63)

    def cross_checks(self, settings: Settings) -> list[Problem]:
        from ..naming import job_name

        what, limit = self.JOB_NAME_LIMIT
        name = job_name(self)
        if len(name) > limit:
            field = "job_name" if self.job_name else "model_name"
            return [
                Problem(
                    field,
                    f"makes the {what} name {name!r} ({len(name)} characters, with its 8-character "
                    f"run hash); SageMaker allows at most {limit}: shorten {field}",
                )
            ]
        return []


class _BuiltinTraining(_Training):
    model_framework: Framework
    model_framework_version: FrameworkVersion
    algo_hyperparamaters: Hyperparameters
    instance_type: InstanceType = "ml.m5.xlarge"
    VOLUME_KEY_FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("instance_type", "kms_key_arn"),)
    instance_count: Annotated[int, Between(1, 100)] = 1
    instance_volume_size: Annotated[int, Between(1, 16384)] = 20
    validation_data: AssetKey | None = None
    use_spot_instances: Flag = True
    max_wait_time_spot_instances: RuntimeSeconds = 172800
    content_type: Text = "csv"
    s3_data_type: Annotated[str, OneOf("S3Prefix", "ManifestFile", "AugmentedManifestFile")] = "S3Prefix"
    data_distribution: Annotated[str, OneOf("FullyReplicated", "ShardedByS3Key")] = "FullyReplicated"
    data_input_mode: Annotated[str, OneOf("File", "Pipe", "FastFile")] = "File"
    data_record_wrapping: Annotated[str, OneOf("None", "RecordIO", empty="None")] = "None"
    attribute_names: list[Text] | None = None
    # The training jobs' network: in the request's subnets, or cut off from any network. Unset
    # unless given, so a request without them keeps its job's name.
    vpc_config: VpcConfig | None = None
    enable_network_isolation: Flag | None = None
    # Register the trained model (the tuning job's best) in this group, PendingManualApproval.
    model_package_group_name: RegistrationGroup | None = None

    def cross_checks(self, settings: Settings) -> list[Problem]:
        from .. import image_uris

        problems = super().cross_checks(settings)
        found = image_uris.check(self.model_framework, self.model_framework_version, settings.region)
        if found:
            problems.append(Problem(*found))
        if self.use_spot_instances and self.max_wait_time_spot_instances < self.max_runtime_per_job:
            problems.append(
                Problem(
                    "max_wait_time_spot_instances",
                    f"must be at least max_runtime_per_job ({self.max_runtime_per_job}) with spot instances",
                )
            )
        # The Run stage waits for each training job: with spot instances up to the wait time.
        longest, field = (
            (self.max_wait_time_spot_instances, "max_wait_time_spot_instances")
            if self.use_spot_instances
            else (self.max_runtime_per_job, "max_runtime_per_job")
        )
        if longest > RUN_STAGE_JOB_SECONDS:
            problems.append(run_stage_problem(field, longest, "each training job"))
        if self.attribute_names and self.s3_data_type != "AugmentedManifestFile":
            problems.append(Problem("attribute_names", "applies only when s3_data_type is AugmentedManifestFile"))
        return problems


class ModelTraining(_BuiltinTraining):
    TYPE_NAME: ClassVar[str] = "model_training_builtin"


class ModelTuner(_BuiltinTraining):
    TYPE_NAME: ClassVar[str] = "model_tuner_builtin"
    tuner_configs: TunerConfig
    hyperparamaters_ranges: HyperparameterRanges
    JOB_NAME_LIMIT: ClassVar[tuple[str, int]] = ("tuning job", 32)

    def cross_checks(self, settings: Settings) -> list[Problem]:
        problems = super().cross_checks(settings)
        given = self.tuner_configs.max_jobs
        if given is not None and self.tuner_configs.max_parallel_jobs > given:
            problems.append(Problem("tuner_configs.max_parallel_jobs", "must not exceed tuner_configs.max_jobs"))
        strategy = self.tuner_configs.strategy
        if strategy == "Grid":
            continuous = sorted(n for n, (kind, _) in self.hyperparamaters_ranges.items() if kind != "categorical")
            if continuous:
                problems.append(
                    Problem(
                        "hyperparamaters_ranges",
                        f"the Grid strategy searches categorical ranges only; {', '.join(continuous)} "
                        "are continuous or integer",
                    )
                )
        if strategy == "Hyperband" and self.tuner_configs.early_stopping_type != "Off":
            problems.append(
                Problem(
                    "tuner_configs.early_stopping_type",
                    "must be Off with the Hyperband strategy (Hyperband stops jobs early itself)",
                )
            )
        clash = sorted(set(self.hyperparamaters_ranges) & set(self.algo_hyperparamaters))
        if clash:
            problems.append(
                Problem(
                    "hyperparamaters_ranges",
                    f"tunes {', '.join(clash)}, also fixed in algo_hyperparamaters; give each in one place",
                )
            )
        return problems


AutopilotObjective = Annotated[str, OneOf(
    "Accuracy", "MSE", "F1", "F1macro", "AUC", "RMSE", "MAE", "R2",
    "BalancedAccuracy", "Precision", "PrecisionMacro", "Recall", "RecallMacro",
)]  # fmt: skip


class Autopilot(_Training):
    TYPE_NAME: ClassVar[str] = "model_autopilot_training"
    target_attribute: Text
    problem_type: ProblemType | None = None
    job_objective: AutopilotObjective | None = None
    job_max_candidates: Annotated[int, Between(1, 750)] = 10
    # AutoML allows 30 days; the default is what the Run stage can wait for.
    total_max_runtime: Annotated[int, Between(1, 30 * 24 * 3600)] = RUN_STAGE_JOB_SECONDS
    generate_definition_only: Flag = False
    # The subnets of the jobs Autopilot starts (AutoMLSecurityConfig has no network isolation).
    # Unset unless given, so a request without it keeps its job's name.
    vpc_config: VpcConfig | None = None
    # Register the best candidate in this group, PendingManualApproval.
    model_package_group_name: RegistrationGroup | None = None
    JOB_NAME_LIMIT: ClassVar[tuple[str, int]] = ("AutoML job", 32)

    def cross_checks(self, settings: Settings) -> list[Problem]:
        problems = super().cross_checks(settings)
        if (self.problem_type is None) != (self.job_objective is None):
            missing = "problem_type" if self.problem_type is None else "job_objective"
            problems.append(Problem(missing, "is required: Autopilot takes problem_type and job_objective together"))
        if self.max_runtime_per_job > self.total_max_runtime:
            problems.append(Problem("max_runtime_per_job", "must not exceed total_max_runtime"))
        if self.model_package_group_name and self.generate_definition_only:
            problems.append(
                Problem(
                    "model_package_group_name",
                    "needs a trained model: with generate_definition_only Autopilot trains none to register",
                )
            )
        if self.total_max_runtime > RUN_STAGE_JOB_SECONDS:
            problems.append(run_stage_problem("total_max_runtime", self.total_max_runtime, "the AutoML job"))
        return problems
