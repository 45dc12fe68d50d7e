"""The `mlops` command against `mlops local`: every command, its output and its exit code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_local.process import LocalProcess
from tests.support.events import EVENTS, load_event


@pytest.fixture(scope="module")
def local() -> Iterator[LocalProcess]:
    process = LocalProcess(0, "--multi-account")
    yield process
    assert process.stop(signal.SIGINT) == 0


def mlops(*args: str, api: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLOPS_"))}
    if api:
        env["MLOPS_API_URL"] = api
    return subprocess.run([sys.executable, "-m", "mlops_cli.main", *args], env=env, capture_output=True, text=True)


def body_file(tmp_path: Path, name: str, event: str = "valid/byom_realtime_builtin", **changes: Any) -> Path:
    body = {**load_event(event), "model_name": name, **changes}
    body.pop("endpoint_name", None)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(body))
    return path


def test_validate_works_offline_and_lists_every_problem() -> None:
    good = mlops("validate", str(EVENTS / "valid/model_tuner_builtin.json"), "--json")
    assert good.returncode == 0 and json.loads(good.stdout) == {"valid": True, "pipeline_type": "model_tuner_builtin"}
    assert mlops("validate", str(EVENTS / "valid/model_tuner_builtin.json")).stdout == "valid: model_tuner_builtin\n"
    bad = mlops("validate", str(EVENTS / "bad/realtime_many_problems.json"), "--json")
    assert bad.returncode == 1
    assert {"model_name", "endpont_name"} <= {p["field"] for p in json.loads(bad.stdout)["problems"]}
    told = mlops("validate", str(EVENTS / "bad/realtime_many_problems.json"))
    assert told.returncode == 1 and "refused: " in told.stdout and "\n  endpont_name: " in told.stdout
    staged = mlops("validate", str(EVENTS / "bad/stage_values_on_single_value_field.json"), "--multi-account")
    assert staged.returncode == 1
    missing = mlops("validate", "no-such-file.json")
    assert missing.returncode == 2 and "cannot read no-such-file.json" in missing.stderr


def test_validate_takes_a_body_with_the_provision_switches(tmp_path: Path) -> None:
    file = body_file(tmp_path, "switches", dry_run=True, upgrade_blueprints=True)
    checked = mlops("validate", str(file))
    assert checked.returncode == 0, checked.stdout

    rows = [[0.5, 1.25, 35, 0, 2.75, 11.5]] * 200
    big = tmp_path / "big.json"
    big.write_text(
        json.dumps({**load_event("valid/byom_model_explainability_monitor"), "shap_config": {"baseline": rows}})
    )
    refused = mlops("validate", str(big), "--json")
    assert refused.returncode == 1
    assert [p["field"] for p in json.loads(refused.stdout)["problems"]] == ["shap_config"]


def test_validate_lists_the_fields_the_orchestrator_ignores_as_warnings(tmp_path: Path) -> None:
    body = {**load_event("valid/byom_realtime_builtin"), "batch_inference_data": "my-data-bucket/in.csv"}
    file = tmp_path / "leftover.json"
    file.write_text(json.dumps(body))
    shown = mlops("validate", str(file))
    assert shown.returncode == 0, shown.stdout
    assert "valid: byom_realtime_builtin" in shown.stdout and "warning: batch_inference_data: " in shown.stdout
    answer = json.loads(mlops("validate", str(file), "--json").stdout)
    assert answer["valid"] is True and [w["field"] for w in answer["warnings"]] == ["batch_inference_data"]


def test_provision_waits_with_progress_then_status_list_and_delete(local: LocalProcess, tmp_path: Path) -> None:
    file = body_file(tmp_path, "cli-train", "valid/model_training_builtin")
    preview = mlops("provision", str(file), "--dry-run", "--upgrade-blueprints", "--json", api=local.api)
    assert preview.returncode == 0 and json.loads(preview.stdout)["action"] == "create"
    run = mlops("provision", str(file), "--wait", "--interval", "0.2", "--json", api=local.api)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Run Succeeded" in run.stderr  # progress lines
    assert "stack creation started; waiting for the pipeline's first run" in run.stderr
    assert "not created yet" not in run.stderr
    waited = json.loads(run.stdout)  # one document
    assert waited["outcome"] == "Run Succeeded" and waited["status"]["pipeline"]["stages"][-1]["status"] == "Succeeded"
    answer = waited["provision"]
    name = answer["stack_name"]
    shown = mlops("status", name, "--json", api=local.api)
    assert shown.returncode == 0 and json.loads(shown.stdout)["request"]["model_name"] == "cli-train"
    listed = mlops("list", "--type", "model_training_builtin", "--json", api=local.api)
    [item] = [i for i in json.loads(listed.stdout)["pipelines"] if i["name"] == answer["blueprint_stack_name"]]
    assert item["last_run"] == "Succeeded"
    table = mlops("list", "--type", "model_training_builtin", api=local.api)
    assert table.returncode == 0
    assert table.stdout.split()[:7] == ["name", "type", "stack", "status", "last", "run", "updated"]
    assert any(line.split()[:4] == [answer["blueprint_stack_name"], "model_training_builtin", "CREATE_COMPLETE",
                                    "Succeeded"] for line in table.stdout.splitlines())  # fmt: skip
    assert mlops("list", "--type", "byom_batch_custom", api=local.api).stdout == "no pipelines match\n"

    # The pipeline_id provision returned (the stack ARN) names that very stack: once the pipeline
    # is deleted and provisioned again, the old ARN is gone and the new one is found.
    assert mlops("status", answer["pipeline_id"], api=local.api).returncode == 0
    assert mlops("delete", answer["pipeline_id"], api=local.api).returncode == 0
    again = mlops("delete", name, "--json", api=local.api)
    assert again.returncode == 0 and json.loads(again.stdout)["action"] == "none"
    assert mlops("status", name, api=local.api).returncode == 1
    recreated = json.loads(mlops("provision", str(file), "--json", api=local.api).stdout)
    old = mlops("status", answer["pipeline_id"], api=local.api)
    assert old.returncode == 1 and "no pipeline" in old.stdout
    assert mlops("status", recreated["pipeline_id"], api=local.api).returncode == 0
    assert mlops("delete", recreated["pipeline_id"], "--wait", api=local.api).returncode == 0


def test_approve_and_reject_drive_a_promotion(local: LocalProcess, tmp_path: Path) -> None:
    run = mlops("provision", str(body_file(tmp_path, "cli-promote")), "--wait", "--interval", "0.2", "--json",
                api=local.api)  # fmt: skip
    assert run.returncode == 0 and "awaiting approval: ApproveStaging" in run.stderr
    name = json.loads(run.stdout)["provision"]["stack_name"]
    approved = mlops("approve", name, "staging", "--comment", "dev is fine", "--json", api=local.api)
    assert approved.returncode == 0 and json.loads(approved.stdout)["decision"] == "Approved"
    waited = mlops("status", name, "--watch", "--interval", "0.2", api=local.api)
    assert waited.returncode == 0 and "awaiting approval: ApproveProd" in waited.stderr
    assert mlops("reject", name, "prod", "--comment", "not this week", api=local.api).returncode == 0
    failed = mlops("status", name, "--watch", "--interval", "0.2", api=local.api)
    assert failed.returncode == 1 and "Run Failed: " in failed.stderr and "rejected: not this week" in failed.stderr
    assert "failure: ApproveProd" in failed.stdout  # the status table, then the reason in full


def test_refusals_and_unreachable_apis_have_their_exit_codes(local: LocalProcess, tmp_path: Path) -> None:
    refused = mlops("provision", str(EVENTS / "bad/realtime_many_problems.json"), "--json", api=local.api)
    assert refused.returncode == 1 and json.loads(refused.stdout)["problems"]
    assert mlops("list", api="http://127.0.0.1:9").returncode == 3
    assert mlops("list").returncode == 2  # no API URL
