"""Real-time inference (and, once its blueprint ships, batch transform) parameters."""

from __future__ import annotations

from typing import Any

from .. import image_uris
from ..models.fields import for_stage
from ..naming import with_hash
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


def render_realtime(request: Any, ctx: RenderContext) -> dict[str, str]:
    stage = ctx.stage
    params = {
        **common_params(request, ctx),
        **function_code_params(ctx, "inference"),
        **model_params(request, ctx.settings, stage),
    }
    capture = for_stage(request.data_capture_location, stage)
    endpoint = for_stage(request.endpoint_name, stage) or f"{request.model_name.lower()}-endpoint"
    params["DataCaptureLocation"] = capture
    params["EndpointName"] = sagemaker_name(endpoint)
    # An endpoint config is replaced on any change; the endpoint itself updates in place.
    params["EndpointConfigName"] = with_hash(
        request.model_name,
        [params["SageMakerModelName"], params["InferenceInstance"], capture, params["KmsKeyArn"]],
    )
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
    return params
