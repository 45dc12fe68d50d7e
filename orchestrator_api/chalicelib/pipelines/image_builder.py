"""Custom-algorithm image builder parameters: the zip to build and where the image goes."""

from __future__ import annotations

from typing import Any

from .common import common_params, run_params
from .pipeline_type import RenderContext

CODEBUILD_NAME_MAX = 150  # CodeBuild allows 255; the stack name (at most 100) plus "-build" fits


def render_image_builder(request: Any, ctx: RenderContext) -> dict[str, str]:
    return {
        **common_params(request, ctx),
        "AlgorithmSource": request.custom_algorithm_docker,
        "EcrRepoName": request.ecr_repo_name,
        "ImageTag": request.image_tag,
        "BuildProjectName": f"{ctx.stack}-build"[:CODEBUILD_NAME_MAX],
        "NotificationsSNSTopicArn": ctx.settings.notifications_topic_arn,
        **run_params(ctx, cross_account=False),
    }
