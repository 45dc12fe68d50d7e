"""Guardrails: the buckets and ECR registries an installation lets requests name.

Without them anyone allowed to call the API could make a pipeline read or write any bucket
in the account. The control plane's own buckets are always allowed; patterns take ``*``.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import cache
from typing import Any, get_args

from pydantic import BaseModel

from ..errors import Problem
from ..settings import Settings
from .fields import STAGES, S3LocationMarker, StageValues


def _carries_marker(annotation: Any) -> bool:
    """Whether a type (or any type inside it: a union, a per-stage value) is marked an S3 location."""
    return isinstance(annotation, S3LocationMarker) or any(_carries_marker(arg) for arg in get_args(annotation))


@cache
def location_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """Fields whose type is an S3 location (``bucket/prefix``), read from the model's types."""
    return tuple(
        name
        for name, field in model.model_fields.items()
        if _carries_marker(field.annotation) or any(isinstance(m, S3LocationMarker) for m in field.metadata)
    )


def _values(field: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, StageValues):
        return [(f"{field}.{stage}", getattr(value, stage)) for stage in STAGES]
    return [(field, value)] if isinstance(value, str) else []


def _allowed(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in patterns)


# The installation's parameter (sam/template.yaml) that lists the buckets requests may name.
BUCKETS_PARAMETER = "AllowedS3Buckets"


def bucket_problem(bucket: str, allowed: tuple[str, ...]) -> str:
    """Why ``bucket`` is refused, and the change to the installation that would allow it."""
    listed = ",".join(allowed)
    wanted = f"{listed},{bucket}" if listed else bucket
    return (
        f"bucket {bucket!r} is not one this installation lets requests use: add {bucket} to the installation "
        f"parameter {BUCKETS_PARAMETER} (now {listed or 'empty: only the control plane buckets'}), i.e. set it "
        f"to {wanted} and update the installation's stack (sam deploy --guided asks for it; patterns such as "
        "ml-data-* work too), or use a bucket it allows"
    )


def problems(request: BaseModel, settings: Settings) -> list[Problem]:
    found: list[Problem] = []
    if settings.allowed_buckets is not None:
        own = {settings.assets_bucket, settings.blueprint_bucket, settings.config_bucket}
        for field in location_fields(type(request)):
            for where, location in _values(field, getattr(request, field, None)):
                bucket = location.split("/", 1)[0]
                if bucket not in own and not _allowed(bucket, settings.allowed_buckets):
                    found.append(Problem(where, bucket_problem(bucket, settings.allowed_buckets)))
    # The model's image, and a real-time shadow variant's.
    images = [("custom_image_uri", getattr(request, "custom_image_uri", None))]
    shadow = getattr(request, "shadow", None)
    if shadow is not None:
        images.append(("shadow.custom_image_uri", shadow.custom_image_uri))
    for field, image in images:
        if settings.allowed_ecr_registries is None or not image:
            continue
        registry = image.split("/", 1)[0]
        if not _allowed(registry, settings.allowed_ecr_registries):
            found.append(
                Problem(
                    field,
                    f"registry {registry!r} is not one this installation allows images from "
                    f"(AllowedEcrRegistries: {', '.join(settings.allowed_ecr_registries)})",
                )
            )
    return found
