"""Framework image URIs, from a table generated from the SageMaker SDK's own data.

``mlops_dev/gen_image_uris.py`` writes ``data/image_uris.json``: every framework, version and
region for which the SDK's ``image_uris.retrieve(framework, region, version=version)`` answers,
the call the original solution made for ``model_framework`` and ``model_framework_version``.
This module only reads it, so the orchestrator resolves them without importing the SDK.
Frameworks whose image the SDK picks only with more than a version (an instance type, a Python
version, an image scope) are listed apart (``needs_more``), so a request naming one is told why.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_DATA = Path(__file__).parent / "data" / "image_uris.json"


@cache
def _table() -> dict[str, Any]:
    return json.loads(_DATA.read_text())


def _domain(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def _canonical(framework: str, version: str) -> str:
    return _table()["aliases"].get(framework, {}).get(version, version)


# The monitors' own images: never a model's.
MONITOR_IMAGES = ("model-monitor", "clarify")


def frameworks() -> list[str]:
    """The frameworks a request may name."""
    return sorted(k for k in _table()["images"] if k not in MONITOR_IMAGES)


def check(framework: str, version: str, region: str) -> tuple[str, str] | None:
    """``(field, problem)`` when the framework, version or region has no image, else None."""
    images = _table()["images"]
    if framework in _table().get("needs_more", []):
        return (
            "model_framework",
            f"{framework!r} images are chosen by instance type, Python version or image scope as well as by "
            "version, which this field cannot say: give the image as custom_image_uri with a *_custom "
            "pipeline_type",
        )
    if framework in MONITOR_IMAGES:
        return (
            "model_framework",
            f"{framework!r} is a model monitor's image, not a model's; known: {', '.join(frameworks())}",
        )
    if framework not in images:
        return (
            "model_framework",
            f"{framework!r} is not a framework the SageMaker SDK knows; known: {', '.join(frameworks())}",
        )
    versions = images[framework]
    canonical = _canonical(framework, version)
    if canonical not in versions:
        known = sorted(versions) + sorted(_table()["aliases"].get(framework, {}))
        return "model_framework_version", f"{version!r} is not a version of {framework}; known: {', '.join(known)}"
    registry = _table()["registries"][versions[canonical][0]]
    if region not in registry:
        return "model_framework", f"{framework} {version} has no image in region {region}"
    return None


def resolve(framework: str, version: str, region: str) -> str:
    """The image URI for a built-in algorithm; call :func:`check` first."""
    canonical = _canonical(framework, version)
    registry_id, repository = _table()["images"][framework][canonical]
    account = _table()["registries"][registry_id][region]
    return f"{account}.dkr.ecr.{region}.{_domain(region)}/{repository}"


def sdk_version() -> str:
    return str(_table()["sagemaker_sdk_version"])
