"""Built-in algorithm image URIs, from a table generated from the SageMaker SDK's own data.

``scripts/gen_image_uris.py`` writes ``data/image_uris.json``; this module only reads it,
so the orchestrator resolves ``model_framework`` + ``model_framework_version`` without
importing the SDK.
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


def check(framework: str, version: str, region: str) -> tuple[str, str] | None:
    """``(field, problem)`` when the algorithm, version or region has no image, else None."""
    images = _table()["images"]
    if framework not in images or framework in ("model-monitor", "clarify"):
        known = ", ".join(sorted(k for k in images if k not in ("model-monitor", "clarify")))
        return "model_framework", f"{framework!r} is not a built-in algorithm; known: {known}"
    versions = images[framework]
    canonical = _canonical(framework, version)
    if canonical not in versions:
        return (
            "model_framework_version",
            f"{version!r} is not a version of {framework}; known: {', '.join(sorted(versions))}",
        )
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
