"""Deterministic names, content hashes on replaceable resources, and byte-stable bundles."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from chalicelib import packaging
from chalicelib.models.base import parse
from chalicelib.naming import job_name, stack_infix, stack_name
from chalicelib.pipelines.catalog import REGISTRY
from chalicelib.pipelines.inference import render_realtime
from tests.support.events import load_event
from tests.support.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[2]


def realtime(**changes: object) -> dict[str, str]:
    body = {**load_event("valid/byom_realtime_builtin"), **changes}
    entry = REGISTRY.get("byom_realtime_builtin")
    return render_realtime(request := parse(entry.model, body, SETTINGS), entry.context(request, SETTINGS, None))


def test_stack_names_follow_the_anchor_scheme() -> None:
    assert stack_name(SETTINGS, "Churn-XGBoost", "byompipelinerealtimebuiltin") == (
        "mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin"
    )


def test_image_tags_unsafe_in_stack_names_keep_distinct_stacks() -> None:
    assert stack_infix("v1-2") == "v1-2"
    assert stack_infix("v1.2") != stack_infix("v1_2")
    assert stack_infix("v1.2").startswith("v1-2-")


def test_an_instance_change_replaces_the_endpoint_config_but_not_the_model() -> None:
    before, after = realtime(), realtime(inference_instance="ml.m5.xlarge")
    assert before["SageMakerModelName"] == after["SageMakerModelName"]
    assert before["EndpointConfigName"] != after["EndpointConfigName"]
    assert before["EndpointName"] == after["EndpointName"]


def test_a_new_artifact_replaces_model_and_endpoint_config() -> None:
    before, after = realtime(), realtime(model_artifact_location="models/churn/v2/model.tar.gz")
    assert before["SageMakerModelName"] != after["SageMakerModelName"]
    assert before["EndpointConfigName"] != after["EndpointConfigName"]


def test_names_fit_sagemaker_limits() -> None:
    params = realtime(model_name="m" * 54)
    assert len(params["SageMakerModelName"]) == 63 and len(params["EndpointConfigName"]) == 63


def test_default_endpoint_name_is_derived_from_the_model() -> None:
    body = load_event("valid/byom_realtime_builtin")
    del body["endpoint_name"]
    model = REGISTRY.get("byom_realtime_builtin").model
    entry = REGISTRY.get("byom_realtime_builtin")
    assert entry.render(parse(model, body, SETTINGS), SETTINGS, None)["EndpointName"] == "churn-xgboost-endpoint"


def test_job_names_depend_on_config_and_run_id_only() -> None:
    model = REGISTRY.get("model_training_builtin").model
    body = load_event("valid/model_training_builtin")
    same = dict(reversed(list(body.items())))
    same["instance_count"] = 1
    first, again = (job_name(parse(model, b, SETTINGS)) for b in (body, same))
    rerun = job_name(parse(model, {**body, "run_id": "2026-11-21"}, SETTINGS))
    changed = job_name(parse(model, {**body, "instance_count": 2}, SETTINGS))
    assert first == again
    assert len({first, rerun, changed}) == 3
    assert first.startswith("churn-training-")


def test_bundles_are_byte_stable() -> None:
    params = {None: {"B": "2", "A": "1"}}
    one = packaging.build("t.yaml", b"Resources: {}\n", {"b": 1, "a": [1, 2]}, params, {"k": "v"})
    two = packaging.build("t.yaml", b"Resources: {}\n", {"a": [1, 2], "b": 1}, {None: {"A": "1", "B": "2"}}, {"k": "v"})
    assert one.zip_bytes == two.zip_bytes and one.sha256 == two.sha256
    assert packaging.read_request(one.zip_bytes) == {"a": [1, 2], "b": 1}


def test_multi_account_bundles_carry_one_parameter_file_per_stage() -> None:
    import io
    import zipfile

    params = {stage: {"P": stage} for stage in ("dev", "staging", "prod")}
    bundle = packaging.build("t.yaml", b"{}", {}, params, {})
    names = zipfile.ZipFile(io.BytesIO(bundle.zip_bytes)).namelist()
    assert sorted(names) == [
        "dev_template_params.json",
        "mlops-request.json",
        "prod_template_params.json",
        "staging_template_params.json",
        "t.yaml",
    ]


def test_importing_the_app_needs_no_credentials_region_or_environment() -> None:
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent"}
    code = "import app; print(sorted(app.app.routes))"
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT / "orchestrator_api", env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "/provisionpipeline" in run.stdout
    guard = "import sys, app; assert 'boto3' not in sys.modules, 'boto3 imported at import time'"
    run = subprocess.run([sys.executable, "-c", guard], cwd=ROOT / "orchestrator_api", env=env, capture_output=True)
    assert run.returncode == 0, run.stderr
