"""Custom-algorithm image builder requests."""

from __future__ import annotations

from typing import ClassVar

from .base import RequestModel
from .fields import AssetKey, EcrRepoName, ImageTag


class ImageBuilder(RequestModel):
    TYPE_NAME: ClassVar[str] = "byom_image_builder"
    custom_algorithm_docker: AssetKey
    ecr_repo_name: EcrRepoName
    image_tag: ImageTag
