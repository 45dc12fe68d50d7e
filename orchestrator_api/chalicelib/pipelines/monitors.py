"""Monitor parameters: a baseline job that must succeed before the schedule that uses it exists.

The pipeline deploys the blueprint with ``BaselineReady=false`` (roles, the baseline state
machine), its Run stage runs the baseline to completion, and its Schedule stage deploys the
same stack again with ``BaselineReady=true``, which adds the job definition and the schedule.
A failed baseline fails the Run stage, so no schedule ever points at a missing baseline.

Two engines: SageMaker Model Monitor (``model_monitor_pipeline.yaml``, all four monitor
types) and the serverless engine (``serverless_monitor_pipeline.yaml``, data and model quality).
"""

from __future__ import annotations

from typing import Any

from .. import image_uris
from ..models.fields import for_stage
from ..naming import bounded_name
from ..settings import Settings
from . import clarify
from .common import common_params, compact_json, function_code_params, run_params, sagemaker_name
from .pipeline_type import RenderContext

# The monitor kinds (a registry entry's monitor_kind): the schedule's MonitoringType and the
# blueprint's MonitorType parameter.
DATA_QUALITY, MODEL_QUALITY = "DataQuality", "ModelQuality"
MODEL_BIAS, MODEL_EXPLAINABILITY = "ModelBias", "ModelExplainability"
SHORT = {"DataQuality": "dq", "ModelQuality": "mq", "ModelBias": "mb", "ModelExplainability": "me"}
# Longest a baseline job may run when the request gives no baseline_max_runtime_seconds, in
# seconds: the analyzer reads the baseline once; Clarify also asks the endpoint for every
# row's prediction (bias) and for SHAP's synthetic samples of every row (explainability).
BASELINE_RUNTIME = {"DataQuality": 3600, "ModelQuality": 3600, "ModelBias": 7200, "ModelExplainability": 10800}
INPUT = "/opt/ml/processing/input/baseline_dataset_input"
OUTPUT = "/opt/ml/processing/output"
CLARIFY = ("ModelBias", "ModelExplainability")
ANALYSIS_CONFIG = "analysis_config.json"  # the baseline job's, which the Clarify function writes


def _s3_input(name: str, uri: str, local: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix", "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }  # fmt: skip


def baseline_job(request: Any, kind: str, settings: Settings, values: dict[str, Any]) -> dict[str, str]:
    """The baseline processing job's image, inputs, output and Clarify configs, by monitor kind."""
    data = f"s3://{settings.assets_bucket}/{request.baseline_data}"
    out = values["baseline_job_output_location"]
    if kind not in CLARIFY:
        return {
            "ImageUri": image_uris.resolve("model-monitor", "", settings.region),
            "BaselineEnvironment": compact_json(baseline_environment(request, kind)),
            "BaselineInputs": compact_json([_s3_input("baseline_dataset_input", data, INPUT)]),
            "BaselineOutputName": "monitoring_output",
            "ClarifyRequest": "{}",
        }
    return {
        "ImageUri": image_uris.resolve("clarify", "1.0", settings.region),
        "BaselineEnvironment": "{}",
        "BaselineInputs": compact_json(
            [
                _s3_input("dataset", data, "/opt/ml/processing/input/data"),
                _s3_input("analysis_config", f"s3://{out}/{ANALYSIS_CONFIG}", "/opt/ml/processing/input/config"),
            ]
        ),
        "BaselineOutputName": "analysis_result",
        "ClarifyRequest": compact_json(clarify.config_request(request, kind, values, data)),
    }


def _s3(location: str) -> str:
    return f"s3://{location}"


def baseline_environment(request: Any, kind: str) -> dict[str, str]:
    """The Model Monitor analyzer's settings for the baseline job (its documented variables)."""
    env = {
        "dataset_format": compact_json({"csv": {"header": True, "output_columns_position": "START"}}),
        "dataset_source": INPUT,
        "output_path": OUTPUT,
        "publish_cloudwatch_metrics": "Disabled",
    }
    if kind == "ModelQuality":
        env["analysis_type"] = "MODEL_QUALITY"
        env["problem_type"] = request.problem_type
        env["inference_attribute"] = request.baseline_inference_attribute
        env["ground_truth_attribute"] = request.baseline_ground_truth_attribute
        if request.baseline_probability_attribute:
            env["probability_attribute"] = request.baseline_probability_attribute
        if request.probability_threshold_attribute:
            env["probability_threshold_attribute"] = request.probability_threshold_attribute
    return env


def _stage_values(request: Any, stage: str | None) -> dict[str, Any]:
    """Every monitor field's value in ``stage``."""
    return {name: for_stage(getattr(request, name), stage) for name in type(request).model_fields}


def _monitor_params(request: Any, kind: str, values: dict[str, Any]) -> dict[str, str]:
    """What both engines' blueprints take: the monitored endpoint, the data and the schedule."""
    return {
        "ModelName": request.model_name,
        "MonitorType": kind,
        "EndpointName": sagemaker_name(values["endpoint_name"]),
        "BaselineData": request.baseline_data,
        "BaselineOutputLocation": values["baseline_job_output_location"],
        "DataCaptureLocation": values["data_capture_location"],
        "MonitoringOutputLocation": values["monitoring_output_location"],
        "GroundTruthLocation": values.get("monitor_ground_truth_input") or "",
        "ScheduleExpression": values["schedule_expression"],
    }


def network_config(values: dict[str, Any]) -> dict[str, Any]:
    """The jobs' NetworkConfig in ``values``' stage: always encrypted between containers; in the
    request's subnets and isolated only when it says so."""
    config: dict[str, Any] = {"EnableInterContainerTrafficEncryption": True}
    if values.get("enable_network_isolation"):
        config["EnableNetworkIsolation"] = True
    vpc = values.get("vpc_config")
    if vpc is not None:
        config["VpcConfig"] = vpc.api()
    return config


def _kind(ctx: RenderContext) -> str:
    if ctx.entry.monitor_kind is None:
        raise ValueError(f"{ctx.entry.name} is not a monitor type")
    return ctx.entry.monitor_kind


def render_model_monitor(request: Any, ctx: RenderContext) -> dict[str, str]:
    """Parameters of ``model_monitor_pipeline.yaml`` (SageMaker Model Monitor)."""
    kind, settings, stage = _kind(ctx), ctx.settings, ctx.stage
    values = _stage_values(request, stage)
    base = f"{request.model_name}-{stage}" if stage else request.model_name
    job = baseline_job(request, kind, settings, values)
    job_definition = {
        k: values.get(k)
        for k in (
            "endpoint_name", "baseline_job_output_location", "monitoring_output_location", "instance_type",
            "instance_volume_size", "monitor_max_runtime_seconds", "kms_key_arn", "monitor_ground_truth_input",
            "problem_type", "monitor_inference_attribute", "monitor_probability_attribute",
            "probability_threshold_attribute", "features_attribute",
        )
    }  # fmt: skip
    network = network_config(values)
    job_definition["network"] = network
    vpc = network.get("VpcConfig", {})
    baseline_runtime = values.get("baseline_max_runtime_seconds") or BASELINE_RUNTIME[kind]
    bucket, _, prefix = values["baseline_job_output_location"].partition("/")
    return {
        **common_params(request, ctx),
        **job,
        **_monitor_params(request, kind, values),
        # Bias and explainability: the function that writes Clarify's configs with the SDK layer.
        **function_code_params(ctx, "clarify"),
        "SageMakerLayerArn": settings.sagemaker_layer_arn,
        "ConfigBucket": bucket,
        "ConfigPrefix": f"{prefix}/" if prefix else "",
        "InstanceType": values["instance_type"],
        "InstanceVolumeSize": str(values["instance_volume_size"]),
        "BaselineMaxRuntime": str(baseline_runtime),
        "MonitorMaxRuntime": str(values["monitor_max_runtime_seconds"]),
        "FeaturesAttribute": values.get("features_attribute") or "",
        "ProblemType": values.get("problem_type") or "",
        "InferenceAttribute": values.get("monitor_inference_attribute") or "",
        "ProbabilityAttribute": values.get("monitor_probability_attribute") or "",
        "ProbabilityThresholdAttribute": values.get("probability_threshold_attribute") or "",
        "BaselineNetworkConfig": compact_json(network),
        "VpcSubnetIds": ",".join(vpc.get("Subnets", [])),
        "VpcSecurityGroupIds": ",".join(vpc.get("SecurityGroupIds", [])),
        "EnableNetworkIsolation": "true" if network.get("EnableNetworkIsolation") else "false",
        # A baseline job's name is taken forever: a new config or run_id names a new job.
        "BaselineJobName": sagemaker_name(bounded_name(base, f"{SHORT[kind]}-baseline", [request.normalized(), stage])),
        # Every property of a job definition forces its replacement, so its name hashes them all.
        "JobDefinitionName": bounded_name(base, SHORT[kind], [job_definition, job]),
        "ScheduleName": bounded_name(base, f"{SHORT[kind]}-schedule", [kind, values["endpoint_name"]]),
        "NotificationsSNSTopicArn": settings.notifications_topic_arn,
        **run_params(ctx),
        "BaselineReady": "false",
    }


def render_monitor(request: Any, ctx: RenderContext) -> dict[str, str]:
    """Data and model quality: the engine the request (or the installation) chose."""
    if ctx.entry.engine(request, ctx.settings) == "serverless":
        return render_serverless_monitor(request, ctx)
    return render_model_monitor(request, ctx)


def render_serverless_monitor(request: Any, ctx: RenderContext) -> dict[str, str]:
    """Parameters of ``serverless_monitor_pipeline.yaml``."""
    kind, settings, stage = _kind(ctx), ctx.settings, ctx.stage
    values = _stage_values(request, stage)
    settings_doc = {
        "monitor_type": kind,
        "endpoint_name": values["endpoint_name"],
        "baseline_data": f"s3://{settings.assets_bucket}/{request.baseline_data}",
        "baseline_location": _s3(values["baseline_job_output_location"]),
        "data_capture_location": _s3(values["data_capture_location"]),
        "monitoring_output_location": _s3(values["monitoring_output_location"]),
        "ground_truth_location": _s3(values["monitor_ground_truth_input"])
        if values.get("monitor_ground_truth_input")
        else "",
        "problem_type": values.get("problem_type") or "",
        "baseline_inference_attribute": values.get("baseline_inference_attribute") or "",
        "baseline_probability_attribute": values.get("baseline_probability_attribute") or "",
        "baseline_ground_truth_attribute": values.get("baseline_ground_truth_attribute") or "",
        "inference_attribute": values.get("monitor_inference_attribute") or "",
        "probability_attribute": values.get("monitor_probability_attribute") or "",
        "probability_threshold": values.get("probability_threshold_attribute") or "",
    }
    return {
        **common_params(request, ctx),
        **function_code_params(ctx, "monitor"),
        **_monitor_params(request, kind, values),
        "MonitorTimeout": str(min(900, values["monitor_max_runtime_seconds"])),
        "MonitorSettings": compact_json(settings_doc),
        # Prefixed by the stack's name: the control plane's deploy role manages only such schedules.
        "ScheduleName": bounded_name(ctx.stack, "schedule", [stage, values["endpoint_name"]], 64),
        "NotificationsSNSTopicArn": settings.notifications_topic_arn,
        **run_params(ctx),
        "BaselineReady": "false",
    }
