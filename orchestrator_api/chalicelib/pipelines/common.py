"""Parameters every blueprint shares, and the renderer of types whose blueprint is not shipped."""

from __future__ import annotations

from typing import Any

from ..errors import NotImplementedYet
from ..models.fields import for_stage
from ..settings import Settings


def common_params(request: Any, settings: Settings, stage: str | None) -> dict[str, str]:
    return {
        "AssetsBucket": settings.assets_bucket,
        "BlueprintBucket": settings.blueprint_bucket,
        "BlueprintPrefix": settings.blueprint_prefix,
        "KmsKeyArn": for_stage(getattr(request, "kms_key_arn", None), stage) or "",
        "PermissionsBoundaryArn": settings.permissions_boundary_arn,
    }


def not_shipped(request: Any, settings: Settings, stage: str | None) -> dict[str, str]:
    raise NotImplementedYet(f"the blueprint for {request.pipeline_type} is not shipped yet")
