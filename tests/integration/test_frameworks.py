"""Requests naming any framework and version the original solution resolved provision here too,
with the image the SageMaker SDK names; the rest are 400s that say why."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.events import load_event
from tests.support.plane import Plane, post

TGI = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:"


@pytest.mark.parametrize(
    ("kind", "framework", "version", "image"),
    [
        ("byom_realtime_builtin", "huggingface-llm", "1.0.3", TGI + "2.0.1-tgi1.0.3-gpu-py39-cu118-ubuntu20.04"),
        ("byom_realtime_builtin", "sparkml-serving", "2.4",
         "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-sparkml-serving:2.4"),
        ("byom_batch_builtin", "djl-deepspeed", "0.21.0",
         "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.21.0-deepspeed0.8.3-cu117"),
    ],
)  # fmt: skip
def test_a_framework_the_original_resolved_provisions_with_the_sdks_image(
    api: Any, plane: Plane, kind: str, framework: str, version: str, image: str
) -> None:
    body = {**load_event(f"valid/{kind}"), "model_framework": framework, "model_framework_version": version}
    status, preview = post(api, "/provisionpipeline", {**body, "dry_run": True})
    assert status == 200, preview
    assert preview["parameters"]["all"]["ImageUri"] == image
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 200, answer


@pytest.mark.parametrize(
    ("framework", "version", "field", "words"),
    [
        ("huggingface-llm", "9.9", "model_framework_version", "known: 0.6.0"),
        ("pytorch", "2.1", "model_framework", "custom_image_uri"),
        ("model-monitor", "1", "model_framework", "known:"),
    ],
)
def test_what_has_no_image_is_a_400_saying_why(
    api: Any, plane: Plane, framework: str, version: str, field: str, words: str
) -> None:
    body = {**load_event("valid/byom_realtime_builtin"), "model_framework": framework}
    status, answer = post(api, "/provisionpipeline", {**body, "model_framework_version": version})
    assert status == 400, answer
    [problem] = [p for p in answer["problems"] if p["field"] == field]
    assert words in problem["problem"]
