"""Custom-algorithm image builder parameters: the zip to build and where the image goes."""

from __future__ import annotations

from typing import Any

from ..settings import Settings
from .common import common_params, run_params, stack_name_of

CODEBUILD_NAME_MAX = 150  # CodeBuild allows 255; the stack name (at most 100) plus "-build" fits


def render_image_builder(request: Any, settings: Settings, stage: str | None) -> dict[str, str]:
    stack = stack_name_of(request, settings)
    return {
        **common_params(request, settings, stage),
        "AlgorithmSource": request.custom_algorithm_docker,
        "EcrRepoName": request.ecr_repo_name,
        "ImageTag": request.image_tag,
        "BuildProjectName": f"{stack}-build"[:CODEBUILD_NAME_MAX],
        "NotificationsSNSTopicArn": settings.notifications_topic_arn,
        **run_params(request, settings, stage, cross_account=False),
    }
