"""Real-time inference and batch transform parameters."""

from __future__ import annotations

from typing import Any

from .. import image_uris
from ..models.endpoints import MAX_ROLLBACK_ALARMS, shadow_in, shadow_instance, shadow_instance_count
from ..models.fields import for_stage
from ..naming import bounded_name, with_hash
from ..settings import Settings
from .common import common_params, function_code_params, run_params, sagemaker_name
from .pipeline_type import RenderContext


def image_uri(request: Any, settings: Settings) -> str:
    """The serving image: none with a model package (the package names it), in any installation."""
    if settings.use_model_registry or request.model_package_name:
        return ""
    framework = getattr(request, "model_framework", None)
    if framework:
        return image_uris.resolve(framework, request.model_framework_version, settings.region)
    return str(request.custom_image_uri)


def model_params(request: Any, settings: Settings, stage: str | None) -> dict[str, str]:
    image = image_uri(request, settings)
    package = request.model_package_name or ""
    artifact = "" if package else request.model_artifact_location or ""
    # Every property of AWS::SageMaker::Model forces a replacement, so its name hashes them all.
    model = with_hash(request.model_name, [settings.assets_bucket, image, artifact, package])
    return {
        "ModelName": request.model_name,
        "SageMakerModelName": model,
        "ImageUri": image,
        "ModelArtifactLocation": artifact,
        "ModelPackageName": package,
        "CustomAlgorithmsECRRepoArn": settings.ecr_repo_arn,
        "InferenceInstance": for_stage(request.inference_instance, stage),
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def variant_params(request: Any, stage: str | None) -> dict[str, str]:
    """How the one variant runs: on instances, serverless, or asynchronously."""
    serverless = request.serverless
    asynchronous = request.async_inference
    params = {
        "InitialInstanceCount": str(request.instance_count()),
        "Serverless": "NONE",
        # Number parameters: unused ones still take a valid number.
        "ServerlessMemorySizeInMB": "1024",
        "ServerlessMaxConcurrency": "1",
        "ServerlessProvisionedConcurrency": "1",
        "AsyncOutputLocation": "",
        "AsyncFailureLocation": "",
        "AsyncSuccessTopicArn": "",
        "AsyncErrorTopicArn": "",
        "AsyncMaxConcurrentInvocations": "",
    }
    if serverless is not None:
        provisioned = serverless.provisioned_concurrency
        params.update(
            {
                "Serverless": "PROVISIONED" if provisioned else "ON_DEMAND",
                "ServerlessMemorySizeInMB": str(serverless.memory_size_mb),
                "ServerlessMaxConcurrency": str(serverless.max_concurrency),
                "ServerlessProvisionedConcurrency": str(provisioned or 1),
            }
        )
    if asynchronous is not None:
        params.update(
            {
                "AsyncOutputLocation": for_stage(asynchronous.output_location, stage),
                "AsyncFailureLocation": _text(for_stage(asynchronous.failure_location, stage)),
                "AsyncSuccessTopicArn": _text(for_stage(asynchronous.success_topic_arn, stage)),
                "AsyncErrorTopicArn": _text(for_stage(asynchronous.error_topic_arn, stage)),
                "AsyncMaxConcurrentInvocations": _text(asynchronous.max_concurrent_invocations_per_instance),
            }
        )
    return params


def network_params(request: Any, stage: str | None) -> dict[str, str]:
    """The model's VPC (per stage: each account has its own) and network isolation."""
    vpc = for_stage(request.vpc_config, stage)
    return {
        "VpcSubnetIds": ",".join(vpc.subnets) if vpc else "",
        "VpcSecurityGroupIds": ",".join(vpc.security_group_ids) if vpc else "",
        "EnableNetworkIsolation": "true" if request.enable_network_isolation else "false",
    }


def _networked_model(request: Any, params: dict[str, str], stage: str | None) -> dict[str, str]:
    """:func:`network_params`; VPC and isolation are model properties, so they name a new model
    (a request without them keeps the name it had before they existed)."""
    network = network_params(request, stage)
    if request.vpc_config is not None or request.enable_network_isolation:
        network["SageMakerModelName"] = with_hash(request.model_name, [params["SageMakerModelName"], network])
    return network


def deployment_params(request: Any) -> dict[str, str]:
    """The endpoint's DeploymentConfig: traffic shifting and the alarms that roll an update back."""
    plan = request.deployment
    params = {
        "DeploymentPolicy": "NONE",
        "TrafficRouting": "ALL_AT_ONCE",
        "TrafficStepPercent": "",
        "WaitIntervalInSeconds": "0",
        "MaximumExecutionTimeoutInSeconds": "",
        "TerminationWaitInSeconds": "0",
        "DefaultAlarms": "false",
        "LatencyThresholdMicroseconds": "0",
        "RollbackAlarmNames": "," * (MAX_ROLLBACK_ALARMS - 1),
    }
    if plan is None:
        return params
    step = plan.canary_percent or plan.linear_step_percent or plan.rolling_batch_percent
    slots = [*plan.rollback_alarms, *[""] * MAX_ROLLBACK_ALARMS][:MAX_ROLLBACK_ALARMS]
    params.update(
        {
            "DeploymentPolicy": "ROLLING" if plan.strategy == "rolling" else "BLUE_GREEN",
            "TrafficRouting": plan.routing(),
            "TrafficStepPercent": _text(step),
            "WaitIntervalInSeconds": str(plan.wait_interval_seconds),
            "MaximumExecutionTimeoutInSeconds": _text(plan.maximum_execution_timeout_seconds),
            "TerminationWaitInSeconds": str(plan.termination_wait_seconds),
            "DefaultAlarms": "true" if plan.default_alarms else "false",
            # SageMaker reports ModelLatency in microseconds.
            "LatencyThresholdMicroseconds": str(plan.latency_threshold_ms * 1000),
            "RollbackAlarmNames": ",".join(slots),
        }
    )
    return params


def scaling_params(request: Any) -> dict[str, str]:
    scaling = request.autoscaling
    if scaling is None:
        kind = "NONE"
    elif request.serverless is not None:
        kind = "SERVERLESS"
    elif request.async_inference is not None:
        kind = "ASYNC"
    else:
        kind = "INSTANCES"
    return {
        "ScalingKind": kind,
        "ScalingMinCapacity": _text(scaling and scaling.min_capacity),
        "ScalingMaxCapacity": _text(scaling and scaling.max_capacity),
        "ScalingTargetValue": _number(scaling.target_value) if scaling else "",
        "ScaleInCooldown": _text(scaling and scaling.scale_in_cooldown_seconds),
        "ScaleOutCooldown": _text(scaling and scaling.scale_out_cooldown_seconds),
    }


# What forces a new endpoint config: every property of AWS::SageMaker::EndpointConfig
# requires replacement, so its name hashes them all.
_CONFIG_KEYS = (
    "SageMakerModelName",
    "InferenceInstance",
    "DataCaptureLocation",
    "KmsKeyArn",
    "InitialInstanceCount",
    "Serverless",
    "ServerlessMemorySizeInMB",
    "ServerlessMaxConcurrency",
    "ServerlessProvisionedConcurrency",
    "AsyncOutputLocation",
    "AsyncFailureLocation",
    "AsyncSuccessTopicArn",
    "AsyncErrorTopicArn",
    "AsyncMaxConcurrentInvocations",
)


def smoke_test_params(request: Any, ctx: RenderContext) -> dict[str, str]:
    """The sample the Run stage sends after each deploy, and the state machine that sends it."""
    test = request.smoke_test
    return {
        "SmokeTestPayloadKey": test.payload_key if test else "",
        "SmokeTestContentType": test.content_type if test else "",
        "SmokeTestExpectedStatus": _text(test and test.expected_status),
        "SmokeTestMaxLatencyMs": _text(test and test.max_latency_ms),
        "SmokeTestFunctionName": bounded_name(ctx.stack, "smoke", ctx.stack, 64),
        **run_params(ctx),
    }


# The shadow variant's parameters: they name a new endpoint config when it is there.
_SHADOW_KEYS = (
    "ShadowSageMakerModelName",
    "ShadowImageUri",
    "ShadowModelArtifactLocation",
    "ShadowInferenceInstance",
    "ShadowInitialInstanceCount",
    "ShadowVariantName",
    "ShadowVariantWeight",
)


def shadow_params(request: Any, settings: Settings, stage: str | None, network: dict[str, str]) -> dict[str, str]:
    """The shadow variant in the stage that gets it: its model (in the model's network) and its share.

    The production variant's weight is 1, so the shadow's weight is the share of its requests
    copied to the shadow (1 for all of them, as in AWS's shadow deployment example).
    """
    shadow = shadow_in(request, stage)
    if shadow is None:
        # Number parameters: unused ones still take a valid number.
        return {key: "" for key in _SHADOW_KEYS} | {"ShadowInitialInstanceCount": "1", "ShadowVariantWeight": "1"}
    image = shadow.custom_image_uri or image_uri(request, settings)
    # Every property of AWS::SageMaker::Model forces a replacement, so its name hashes them all.
    model = bounded_name(request.model_name, "shadow", [settings.assets_bucket, image,
                                                        shadow.model_artifact_location, network])  # fmt: skip
    return {
        "ShadowSageMakerModelName": model,
        "ShadowImageUri": image,
        "ShadowModelArtifactLocation": shadow.model_artifact_location,
        "ShadowInferenceInstance": shadow_instance(request, shadow, stage),
        "ShadowInitialInstanceCount": str(shadow_instance_count(request, shadow)),
        "ShadowVariantName": shadow.variant_name,
        "ShadowVariantWeight": _number(shadow.sampling_percent / 100),
    }


def render_realtime(request: Any, ctx: RenderContext) -> dict[str, str]:
    stage = ctx.stage
    params = {
        **common_params(request, ctx),
        **function_code_params(ctx, "inference"),
        **model_params(request, ctx.settings, stage),
        **variant_params(request, stage),
        **deployment_params(request),
        **scaling_params(request),
        **smoke_test_params(request, ctx),
        # The scaling guard's function, named like the stack's others (the deploy role manages those).
        "ScalingGuardFunctionName": bounded_name(ctx.stack, "scaling-guard", ctx.stack, 64),
    }
    params["InferenceInstance"] = _text(params["InferenceInstance"])
    params["DataCaptureLocation"] = _text(for_stage(request.data_capture_location, stage))
    endpoint = for_stage(request.endpoint_name, stage) or f"{request.model_name.lower()}-endpoint"
    params["EndpointName"] = sagemaker_name(endpoint)
    params.update(_networked_model(request, params, stage))
    params.update(shadow_params(request, ctx.settings, stage, network_params(request, stage)))
    # An endpoint config is replaced on any change; the endpoint itself updates in place.
    # (Requests without the newer settings keep the names they had before those settings existed.)
    inputs: list[Any] = [params[k] for k in _CONFIG_KEYS[:4]]
    if params["Serverless"] != "NONE" or params["AsyncOutputLocation"] or params["InitialInstanceCount"] != "1":
        inputs.append({k: params[k] for k in _CONFIG_KEYS[4:]})
    if params["ShadowSageMakerModelName"]:
        inputs.append({k: params[k] for k in _SHADOW_KEYS})
    params["EndpointConfigName"] = with_hash(request.model_name, inputs)
    return params


def render_batch(request: Any, ctx: RenderContext) -> dict[str, str]:
    """A Model and a state machine that runs the transform job and reports its outcome."""
    stage = ctx.stage
    params = {**common_params(request, ctx), **model_params(request, ctx.settings, stage)}
    source = for_stage(request.batch_inference_data, stage)
    output = for_stage(request.batch_job_output_location, stage)
    job = {k: v for k, v in request.normalized().items() if k not in ("kms_key_arn",)}
    params.update(
        {
            "BatchInputBucket": source.split("/", 1)[0],
            "BatchInferenceData": source,
            "BatchOutputLocation": output,
            "ContentType": request.content_type,
            "SplitType": request.split_type,
            "InstanceCount": str(request.instance_count),
            # Job names are unique forever: a new config or run_id names a new job.
            "TransformJobName": sagemaker_name(with_hash(request.model_name, [job, stage])),
            "NotificationsSNSTopicArn": ctx.settings.notifications_topic_arn,
            **run_params(ctx),
        }
    )
    # The transform job runs the model's containers in the model's VPC, or isolated.
    params.update(_networked_model(request, params, stage))
    return params


# --- what a change does to a live endpoint (the dry run and the status document say it) ------


def _alarm_names(params: dict[str, str]) -> list[str]:
    # CloudFormation answers a list parameter as "a,b,,"; the emulator as the list's repr.
    raw = params.get("RollbackAlarmNames", "")
    if raw.startswith("[") and raw.endswith("]"):
        raw = ",".join(part.strip().strip("'\"") for part in raw[1:-1].split(","))
    names = [n for n in raw.split(",") if n]
    if params.get("DefaultAlarms") == "true":
        names += ["model 5xx", f"p99 model latency > {int(params.get('LatencyThresholdMicroseconds') or 0) // 1000} ms"]
    return names


def deployment_description(params: dict[str, str]) -> str:
    """How an update of the endpoint shifts traffic, in words: "blue/green canary 10% for 600 s, ..."."""
    policy = params.get("DeploymentPolicy", "NONE")
    if policy == "NONE":
        return "blue/green all at once (SageMaker's default), no alarm rollback"
    wait, step = params.get("WaitIntervalInSeconds", "0"), params.get("TrafficStepPercent", "")
    if policy == "ROLLING":
        text = f"rolling batches of {step}% of the instances, baking {wait} s each"
    elif params.get("TrafficRouting") == "CANARY":
        text = f"blue/green canary {step}% for {wait} s, then the rest"
    elif params.get("TrafficRouting") == "LINEAR":
        text = f"blue/green linear {step}% every {wait} s"
    else:
        text = f"blue/green all at once, baking {wait} s"
    termination = params.get("TerminationWaitInSeconds", "0")
    if termination not in ("", "0"):
        text += f"; the old fleet stays {termination} s more"
    alarms = _alarm_names(params)
    text += (
        f"; rolls back on {len(alarms)} alarm{'s' if len(alarms) != 1 else ''} ({', '.join(alarms)})" if alarms else ""
    )
    return text


def _share(weight: str) -> str:
    try:
        return f"{float(weight) * 100:g}%"
    except ValueError:
        return f"weight {weight}"


def shadow_description(params: dict[str, str]) -> str | None:
    """The shadow variant a stack deployed with ``params`` asks for, in words (None: no shadow variant)."""
    model = params.get("ShadowSageMakerModelName", "")
    if not model:
        return None
    return (
        f"shadow variant {params.get('ShadowVariantName')}: model {model} on "
        f"{params.get('ShadowInitialInstanceCount')} x {params.get('ShadowInferenceInstance')}, sent a copy of "
        f"{_share(params.get('ShadowVariantWeight', '1'))} of the requests (its answers are not returned to callers)"
    )


def _shadow_update(old: dict[str, str], new: dict[str, str]) -> list[str]:
    before, after = shadow_description(old), shadow_description(new)
    if before == after:
        return []
    if after is None:
        return [f"removes the {before}; the production variant keeps all the traffic"]
    if before is None:
        return [f"adds a {after}"]
    return [f"replaces the {before.split(':', 1)[0]} with a {after}"]


TO_SERVERLESS = (
    "AWS does not update an endpoint on instances to serverless: give a new endpoint_name (a new endpoint "
    "is created and the old one deleted), or keep the endpoint on instances"
)


def refused_update(old: dict[str, str], new: dict[str, str]) -> str:
    """Why SageMaker would refuse to update the live endpoint deployed with ``old`` to ``new`` ("" if it would not)."""
    if "EndpointConfigName" not in new or not old.get("EndpointConfigName"):
        return ""
    same_endpoint = old.get("EndpointName") == new.get("EndpointName")
    if same_endpoint and old.get("Serverless", "NONE") == "NONE" and new.get("Serverless", "NONE") != "NONE":
        return TO_SERVERLESS
    return ""


def endpoint_update(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """What deploying ``new`` over a stack deployed with ``old`` does to its live endpoint."""
    if "EndpointConfigName" not in new or not old:
        return []
    if refused := refused_update(old, new):
        return [f"refused: {refused}"]
    notes = []
    if old.get("EndpointName") != new.get("EndpointName"):
        notes.append(f"creates endpoint {new.get('EndpointName')} and deletes {old.get('EndpointName')}")
    elif old.get("EndpointConfigName") != new.get("EndpointConfigName"):
        notes.append(f"replaces the endpoint config; {deployment_description(new)}")
    else:
        notes.append("keeps the endpoint config: the endpoint's traffic is not touched")
    scaled = old.get("ScalingKind", "NONE") in ("INSTANCES", "ASYNC") and new.get("ScalingKind", "NONE") != "NONE"
    if scaled and old.get("InferenceInstance") != new.get("InferenceInstance"):
        notes.append(
            f"changes the instance type of a scaled variant ({old.get('InferenceInstance')} -> "
            f"{new.get('InferenceInstance')}): the variant is deregistered from autoscaling before the endpoint "
            "update (Application Auto Scaling refuses it otherwise) and registered again after it, with new "
            "scaling policies; it does not scale during the update"
        )
    if old.get("Serverless", "NONE") != new.get("Serverless", "NONE") and "NONE" in (
        old.get("Serverless"),
        new.get("Serverless"),
    ):
        notes.append(
            "switches the endpoint between instances and serverless: a new config with another kind of capacity"
        )
    if old.get("ScalingKind", "NONE") != new.get("ScalingKind", "NONE"):
        notes.append(
            f"autoscaling: {old.get('ScalingKind', 'NONE').lower()} -> {new.get('ScalingKind', 'NONE').lower()}"
        )
    return notes + _shadow_update(old, new)
