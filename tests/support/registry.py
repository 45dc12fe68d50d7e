"""The model registry in the emulator, for the model-loop tests: packages, approvals, and the
events SageMaker sends about them, delivered to the orchestrator's handler."""

from __future__ import annotations

import contextlib
from typing import Any

GROUP = "churn-models"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"
FOLLOWING = "valid/model_loop/byom_realtime_following_group"
FOLLOWING_STACK = "mlops-pipeline-churn-registry-byompipelinerealtimebuiltin-codepipeline"


def register(plane: Any, status: str = "PendingManualApproval", group: str = GROUP) -> str:
    """A new package version in ``group`` (created when missing); its ARN."""
    sagemaker = plane.client("sagemaker")
    with contextlib.suppress(sagemaker.exceptions.ClientError):
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    return str(
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://my-models/churn/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
    )


def set_status(plane: Any, arn: str, status: str, note: str = "") -> None:
    extra = {"ApprovalDescription": note} if note else {}
    plane.client("sagemaker").update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status, **extra)


def state_change(arn: str, status: str, event_id: str) -> dict[str, Any]:
    """The event SageMaker sends to EventBridge (its detail is the package's description)."""
    group, version = arn.rsplit("/", 2)[-2:]
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-12-01T10:00:00Z",
        "region": "us-east-1",
        "resources": [arn],
        "detail": {
            "ModelPackageGroupName": group,
            "ModelPackageVersion": int(version),
            "ModelPackageArn": arn,
            "ModelApprovalStatus": status,
            "ModelPackageStatus": "Completed",
        },
    }


def deliver(event: dict[str, Any]) -> dict[str, Any]:
    """Hand ``event`` to the orchestrator's handler, as the control plane's rule does."""
    from app import on_model_package_event

    return dict(on_model_package_event(event, None))


def deployed(plane: Any, stack: str = FOLLOWING_STACK) -> tuple[str, str]:
    """The package the pipeline's bundle deploys, and the bundle's key."""
    from chalicelib.packaging import read_request

    described = plane.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    key = next(p["ParameterValue"] for p in described["Parameters"] if p["ParameterKey"] == "TemplateZipFileName")
    body = plane.client("s3").get_object(Bucket=plane.config.assets_bucket, Key=key)["Body"].read()
    request = read_request(body)
    assert request is not None
    return str(request["model_package_name"]), key
