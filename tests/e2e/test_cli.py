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
    good = mlops("validate", str(EVENTS / "valid/model_tuner_builtin.json"))
    assert good.returncode == 0 and json.loads(good.stdout) == {"valid": True, "pipeline_type": "model_tuner_builtin"}
    bad = mlops("validate", str(EVENTS / "bad/realtime_many_problems.json"))
    assert bad.returncode == 1
    assert {"model_name", "endpont_name"} <= {p["field"] for p in json.loads(bad.stdout)["problems"]}
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
    refused = mlops("validate", str(big))
    assert refused.returncode == 1
    assert [p["field"] for p in json.loads(refused.stdout)["problems"]] == ["shap_config"]


def test_provision_waits_with_progress_then_status_list_and_delete(local: LocalProcess, tmp_path: Path) -> None:
    file = body_file(tmp_path, "cli-train", "valid/model_training_builtin")
    preview = mlops("provision", str(file), "--dry-run", "--upgrade-blueprints", api=local.api)
    assert preview.returncode == 0 and json.loads(preview.stdout)["action"] == "create"
    run = mlops("provision", str(file), "--wait", "--interval", "0.2", api=local.api)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Run Succeeded" in run.stderr  # progress lines
    answer = json.loads(run.stdout.split("\n}\n", 1)[0] + "\n}")
    name = answer["stack_name"]
    shown = mlops("status", name, api=local.api)
    assert shown.returncode == 0 and json.loads(shown.stdout)["request"]["model_name"] == "cli-train"
    listed = mlops("list", "--type", "model_training_builtin", api=local.api)
    assert listed.returncode == 0 and f"{answer['blueprint_stack_name']}\tmodel_training_builtin\t" in listed.stdout
    assert mlops("delete", name, api=local.api).returncode == 0
    again = mlops("delete", name, api=local.api)
    assert again.returncode == 0 and json.loads(again.stdout)["action"] == "none"
    assert mlops("status", name, api=local.api).returncode == 1


def test_approve_and_reject_drive_a_promotion(local: LocalProcess, tmp_path: Path) -> None:
    run = mlops("provision", str(body_file(tmp_path, "cli-promote")), "--wait", "--interval", "0.2", api=local.api)
    assert run.returncode == 0 and "awaiting approval: ApproveStaging" in run.stderr
    name = json.loads(run.stdout.split("\n}\n", 1)[0] + "\n}")["stack_name"]
    approved = mlops("approve", name, "staging", "--comment", "dev is fine", api=local.api)
    assert approved.returncode == 0 and json.loads(approved.stdout)["decision"] == "Approved"
    waited = mlops("status", name, "--watch", "--interval", "0.2", api=local.api)
    assert waited.returncode == 0 and "awaiting approval: ApproveProd" in waited.stderr
    assert mlops("reject", name, "prod", "--comment", "not this week", api=local.api).returncode == 0
    failed = mlops("status", name, "--watch", "--interval", "0.2", api=local.api)
    assert failed.returncode == 1 and "rejected: not this week" in failed.stdout


def test_refusals_and_unreachable_apis_have_their_exit_codes(local: LocalProcess, tmp_path: Path) -> None:
    refused = mlops("provision", str(EVENTS / "bad/realtime_many_problems.json"), api=local.api)
    assert refused.returncode == 1 and json.loads(refused.stdout)["problems"]
    assert mlops("list", api="http://127.0.0.1:9").returncode == 3
    assert mlops("list").returncode == 2  # no API URL
