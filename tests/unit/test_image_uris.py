"""The image table answers for every framework and version the original solution resolved
(``image_uris.retrieve(model_framework, region, version=model_framework_version)``), as the
SageMaker SDK 2.257.7 answers; what it cannot resolve is a 400 that says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib import image_uris

TABLE = Path(image_uris.__file__).parent / "data" / "image_uris.json"

# What SageMaker SDK 2.257.7's image_uris.retrieve(framework, region, version=version) answers.
SDK_ANSWERS = [
    ("huggingface-llm", "1.0.3", "us-east-1",
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:"
     "2.0.1-tgi1.0.3-gpu-py39-cu118-ubuntu20.04"),
    ("huggingface-llm", "2.0", "eu-west-1",
     "763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-tgi-inference:"
     "2.4.0-tgi2.4.0-gpu-py311-cu124-ubuntu22.04-v2.2"),
    ("sparkml-serving", "2.4", "us-east-1",
     "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-sparkml-serving:2.4"),
    ("djl-deepspeed", "0.21.0", "us-west-2",
     "763104351884.dkr.ecr.us-west-2.amazonaws.com/djl-inference:0.21.0-deepspeed0.8.3-cu117"),
    ("huggingface-tei", "1.2.3", "us-east-1",
     "683313688378.dkr.ecr.us-east-1.amazonaws.com/tei:2.0.1-tei1.2.3-gpu-py310-cu122-ubuntu22.04"),
    ("xgboost", "latest", "us-east-1", "811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:latest"),
    ("sklearn", "1.2-1", "cn-north-1",
     "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-scikit-learn:1.2-1-cpu-py3"),
]  # fmt: skip


@pytest.mark.parametrize(("framework", "version", "region", "uri"), SDK_ANSWERS)
def test_frameworks_the_original_resolved_resolve_as_the_sdk_does(
    framework: str, version: str, region: str, uri: str
) -> None:
    assert image_uris.check(framework, version, region) is None
    assert image_uris.resolve(framework, version, region) == uri


def test_an_unknown_version_lists_the_known_ones_and_aliases() -> None:
    field, problem = image_uris.check("huggingface-llm", "9.9", "us-east-1") or ("", "")
    assert field == "model_framework_version"
    assert "'9.9' is not a version of huggingface-llm" in problem
    assert "1.0.3" in problem and "2.0" in problem


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow", "huggingface", "mxnet"])
def test_a_framework_the_sdk_resolves_only_with_an_instance_type_says_so(framework: str) -> None:
    field, problem = image_uris.check(framework, "2.1", "us-east-1") or ("", "")
    assert field == "model_framework"
    assert "instance type" in problem and "custom_image_uri" in problem


@pytest.mark.parametrize("framework", ["model-monitor", "clarify", "no-such-thing"])
def test_monitor_images_and_unknown_names_are_no_model_framework(framework: str) -> None:
    field, problem = image_uris.check(framework, "1", "us-east-1") or ("", "")
    assert field == "model_framework"
    assert "known:" in problem and "huggingface-llm" in problem and "model-monitor" not in problem.split("known:")[1]


def test_a_region_without_the_image_is_named() -> None:
    assert image_uris.check("sparkml-serving", "2.4", "il-central-1") == (
        "model_framework",
        "sparkml-serving 2.4 has no image in region il-central-1",
    )


def test_the_table_stays_small() -> None:
    # The orchestrator's first-party code must stay under 1 MiB zipped (README, Performance);
    # the table is read on the first request that names a framework.
    assert TABLE.stat().st_size < 64 * 1024
    data = json.loads(TABLE.read_text())
    assert data["sagemaker_sdk_version"] == "2.257.7"
    assert len(data["images"]) > 40
