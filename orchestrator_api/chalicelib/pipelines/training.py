"""Training and tuning parameters: the jobs' API-shaped pieces rendered as JSON the state machine inserts."""

from __future__ import annotations

from typing import Any

from .. import image_uris
from ..models.training import RUN_STAGE_JOB_SECONDS
from ..naming import digest, job_name
from ..settings import Settings
from .common import common_params, compact_json, run_params, sagemaker_name
from .pipeline_type import RenderContext


def _channel(name: str, key: str, request: Any, settings: Settings) -> dict[str, Any]:
    source: dict[str, Any] = {
        "S3DataType": request.s3_data_type,
        "S3Uri": f"s3://{settings.assets_bucket}/{key}",
        "S3DataDistributionType": request.data_distribution,
    }
    if request.attribute_names:
        source["AttributeNames"] = list(request.attribute_names)
    return {
        "ChannelName": name,
        "DataSource": {"S3DataSource": source},
        "ContentType": request.content_type,
        "CompressionType": request.compression_type,
        "RecordWrapperType": request.data_record_wrapping,
    }


def network_members(request: Any) -> dict[str, str]:
    """The training job's VpcConfig and EnableNetworkIsolation, as members (each followed by a
    comma) the blueprint splices into the job's definition; empty when the request gives
    neither, so such a request's job is as before."""
    members: dict[str, Any] = {}
    if request.vpc_config is not None:
        members["VpcConfig"] = request.vpc_config.api()
    if request.enable_network_isolation is not None:
        members["EnableNetworkIsolation"] = request.enable_network_isolation
    return {
        "NetworkMembers": "".join(f"{compact_json({k: v})[1:-1]}," for k, v in members.items()),
        "VpcSubnetIds": ",".join(request.vpc_config.subnets) if request.vpc_config else "",
    }


def training_params(request: Any, settings: Settings) -> dict[str, str]:
    channels = [_channel("train", request.training_data, request, settings)]
    if request.validation_data:
        channels.append(_channel("validation", request.validation_data, request, settings))
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": request.max_runtime_per_job}
    if request.use_spot_instances:
        stopping["MaxWaitTimeInSeconds"] = request.max_wait_time_spot_instances
    return {
        "ModelName": request.model_name,
        "JobName": sagemaker_name(job_name(request)),
        "ImageUri": image_uris.resolve(request.model_framework, request.model_framework_version, settings.region),
        "InputMode": request.data_input_mode,
        "InputDataConfig": compact_json(channels),
        "HyperParameters": compact_json(request.algo_hyperparamaters),
        "StoppingCondition": compact_json(stopping),
        "EnableSpot": "true" if request.use_spot_instances else "false",
        "EncryptInnerTraffic": "true" if request.encrypt_inner_traffic else "false",
        "InstanceType": request.instance_type,
        "InstanceCount": str(request.instance_count),
        "InstanceVolumeSize": str(request.instance_volume_size),
        "JobOutputLocation": request.job_output_location,
        "NotificationsSNSTopicArn": settings.notifications_topic_arn,
        **registration_params(request),
        **network_members(request),
    }


# CreateModelPackage's ClientToken: at most 36 characters.
CLIENT_TOKEN_LENGTH = 32


def registration_params(request: Any) -> dict[str, str]:
    """Where the trained model is registered (nothing when the request names no group)."""
    content_type = request.content_type if "/" in request.content_type else f"text/{request.content_type}"
    return {
        "ModelPackageGroupName": request.model_package_group_name or "",
        "RegistrationToken": digest(["register", job_name(request)], CLIENT_TOKEN_LENGTH),
        "RegisteredContentType": content_type,
    }


def render_training(request: Any, ctx: RenderContext) -> dict[str, str]:
    return {
        **common_params(request, ctx),
        **training_params(request, ctx.settings),
        **run_params(ctx, cross_account=False),
    }


def _range(name: str, kind: str, values: list[Any]) -> dict[str, Any]:
    if kind == "categorical":
        return {"Name": name, "Values": [str(v) for v in values]}
    low, high = values
    return {"Name": name, "MinValue": str(low), "MaxValue": str(high), "ScalingType": "Auto"}


def tuning_config(request: Any) -> dict[str, Any]:
    """``HyperParameterTuningJobConfig`` as CreateHyperParameterTuningJob takes it."""
    tuner = request.tuner_configs
    ranges: dict[str, list[dict[str, Any]]] = {}
    key = {"continuous": "ContinuousParameterRanges", "integer": "IntegerParameterRanges"}
    for name, (kind, values) in sorted(request.hyperparamaters_ranges.items()):
        ranges.setdefault(key.get(kind, "CategoricalParameterRanges"), []).append(_range(name, kind, values))
    # The tuning job as a whole must end within what the Run stage waits for (rounds of
    # max_runtime_per_job could add up to weeks); SageMaker stops it there and keeps the best job.
    limits = {
        "MaxNumberOfTrainingJobs": tuner.job_limit(),
        "MaxParallelTrainingJobs": tuner.parallel_limit(),
        "MaxRuntimeInSeconds": RUN_STAGE_JOB_SECONDS,
    }
    if limits["MaxNumberOfTrainingJobs"] is None:
        del limits["MaxNumberOfTrainingJobs"]  # Grid: SageMaker runs every combination
    return {
        "Strategy": tuner.strategy,
        "HyperParameterTuningJobObjective": {"Type": tuner.objective_type, "MetricName": tuner.objective_metric_name},
        "ResourceLimits": limits,
        "ParameterRanges": ranges,
        "TrainingJobEarlyStoppingType": tuner.early_stopping_type,
    }


def render_tuning(request: Any, ctx: RenderContext) -> dict[str, str]:
    params = render_training(request, ctx)
    params["TuningJobConfig"] = compact_json(tuning_config(request))
    return params


def autopilot_params(request: Any, settings: Settings) -> dict[str, str]:
    """CreateAutoMLJobV2's pieces: every request field lands in the call (KMS and compression too)."""
    data = {
        "ChannelType": "training",
        "ContentType": "text/csv;header=present",
        "CompressionType": request.compression_type,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": f"s3://{settings.assets_bucket}/{request.training_data}",
            }
        },
    }
    tabular: dict[str, Any] = {
        "TargetAttributeName": request.target_attribute,
        "GenerateCandidateDefinitionsOnly": request.generate_definition_only,
        "CompletionCriteria": {
            "MaxCandidates": request.job_max_candidates,
            "MaxRuntimePerTrainingJobInSeconds": request.max_runtime_per_job,
            "MaxAutoMLJobRuntimeInSeconds": request.total_max_runtime,
        },
    }
    if request.problem_type:
        tabular["ProblemType"] = request.problem_type
    security: dict[str, Any] = {"EnableInterContainerTrafficEncryption": request.encrypt_inner_traffic}
    kms = request.kms_key_arn or ""
    if kms:
        security["VolumeKmsKeyId"] = kms
    vpc = request.vpc_config
    if vpc is not None:
        security["VpcConfig"] = vpc.api()
    # AutoMLJobObjective is optional and may not be empty: the blueprint splices these members
    # (each followed by a comma) into the request, so an absent objective leaves no key at all.
    optional = (
        f'"AutoMLJobObjective": {compact_json({"MetricName": request.job_objective})},' if request.job_objective else ""
    )
    return {
        "ModelName": request.model_name,
        "JobName": sagemaker_name(job_name(request)),
        "InputDataConfig": compact_json([data]),
        "ProblemTypeConfig": compact_json({"TabularJobConfig": tabular}),
        "SecurityConfig": compact_json(security),
        "VpcSubnetIds": ",".join(vpc.subnets) if vpc else "",
        "OptionalRequestMembers": optional,
        "JobOutputLocation": request.job_output_location,
        "NotificationsSNSTopicArn": settings.notifications_topic_arn,
        "ModelPackageGroupName": request.model_package_group_name or "",
        "RegistrationToken": digest(["register", job_name(request)], CLIENT_TOKEN_LENGTH),
    }


def render_autopilot(request: Any, ctx: RenderContext) -> dict[str, str]:
    return {
        **common_params(request, ctx),
        **autopilot_params(request, ctx.settings),
        **run_params(ctx, cross_account=False),
    }
