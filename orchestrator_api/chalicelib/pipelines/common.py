"""Parameters every blueprint shares."""

from __future__ import annotations

from typing import Any

from ..models.fields import for_stage
from ..settings import Settings


def common_params(request: Any, settings: Settings, stage: str | None) -> dict[str, str]:
    """What every blueprint takes: where assets are, the KMS key, the roles' boundary."""
    return {
        "AssetsBucket": settings.assets_bucket,
        "KmsKeyArn": for_stage(getattr(request, "kms_key_arn", None), stage) or "",
        "PermissionsBoundaryArn": settings.permissions_boundary_arn,
    }


def function_code_params(settings: Settings) -> dict[str, str]:
    """For blueprints that create Lambdas: where their zipped code was installed."""
    return {"BlueprintBucket": settings.blueprint_bucket, "BlueprintPrefix": settings.blueprint_prefix}
