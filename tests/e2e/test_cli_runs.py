"""`mlops provision --wait` follows the run its own provision starts; `mlops retry` reruns a pipeline.

A data-quality monitor whose baseline CSV is missing fails its Run stage; that is the failed run
each test starts from.
"""

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
from tests.support.events import load_event


@pytest.fixture(scope="module")
def local() -> Iterator[LocalProcess]:
    process = LocalProcess(0)
    yield process
    assert process.stop(signal.SIGINT) == 0


def mlops(local: LocalProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLOPS_"))}
    env["MLOPS_API_URL"] = local.api
    return subprocess.run([sys.executable, "-m", "mlops_cli.main", *args], env=env, capture_output=True, text=True)


def monitor_body(tmp_path: Path, name: str, baseline: str) -> Path:
    body: dict[str, Any] = {**load_event("valid/byom_data_quality_monitor"), "model_name": name}
    body["baseline_data"] = baseline
    path = tmp_path / f"{name}-{baseline.replace('/', '_')}.json"
    path.write_text(json.dumps(body))
    return path


def failed_first(local: LocalProcess, file: Path) -> subprocess.CompletedProcess[str]:
    run = mlops(local, "provision", str(file), "--wait", "--interval", "0.2")
    assert run.returncode == 1, run.stdout + run.stderr
    return run


def test_wait_after_an_update_follows_the_new_run_not_the_failed_one(local: LocalProcess, tmp_path: Path) -> None:
    missing = "monitoring/churn/not-uploaded-1.csv"
    failed = failed_first(local, monitor_body(tmp_path, "runs-update", missing))
    # The reason, in full, after the stage table; the progress on stderr.
    assert "no baseline data at s3://" in failed.stdout and f"{missing}: upload the baseline CSV there" in failed.stdout
    assert "Run Failed: Run/RunJob: BaselineFailed: no baseline data at s3://" in failed.stderr
    assert "update started" not in failed.stderr and "stack creation started" in failed.stderr
    name = "mlops-pipeline-runs-update-byomdataqualitymonitor"
    before = json.loads(mlops(local, "status", name, "--json").stdout)["pipeline"]["stages"][0]["execution_id"]

    fixed = monitor_body(tmp_path, "runs-update", "monitoring/churn/training-dataset-with-header.csv")
    run = mlops(local, "provision", str(fixed), "--wait", "--interval", "0.2", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    waited = json.loads(run.stdout)  # one JSON document
    assert waited["provision"]["action"] == "updated" and waited["outcome"] == "Run Succeeded"
    assert waited["execution_id"] != before
    assert [s["status"] for s in waited["status"]["pipeline"]["stages"]] == ["Succeeded"] * 4
    assert "update started; waiting for the run it starts" in run.stderr

    again = mlops(local, "provision", str(fixed), "--wait", "--interval", "0.2")
    assert again.returncode == 0 and "no change, nothing to wait for" in again.stderr


def test_an_unchanged_failed_pipeline_says_how_to_retry_and_retry_runs_it(local: LocalProcess, tmp_path: Path) -> None:
    missing = "monitoring/churn/not-uploaded-2.csv"
    file = monitor_body(tmp_path, "runs-retry", missing)
    failed_first(local, file)
    name = "mlops-pipeline-runs-retry-byomdataqualitymonitor"

    same = mlops(local, "provision", str(file), "--wait", "--interval", "0.2")
    assert same.returncode == 1 and "no change, nothing to wait for" in same.stderr
    assert "latest run failed: Run/RunJob: BaselineFailed" in same.stdout
    assert f"mlops retry {name}" in same.stdout and f"POST /pipelines/{name}/retry" in same.stdout
    answer = json.loads(mlops(local, "provision", str(file), "--json").stdout)
    assert answer["action"] == "unchanged" and answer["latest_run"] == "Failed" and "mlops retry" in answer["retry"]

    # The input is fixed: the same request still changes nothing, a retry runs the pipeline again.
    local.client("s3").put_object(
        Bucket=local.banner["assets_bucket"], Key=missing, Body=b"tenure,monthly_spend,plan\n1,2,basic\n3,4,pro\n"
    )
    retried = mlops(local, "retry", name, "--wait", "--interval", "0.2", "--json")
    assert retried.returncode == 0, retried.stdout + retried.stderr
    done = json.loads(retried.stdout)
    assert done["outcome"] == "Run Succeeded" and done["execution_id"] == done["retry"]["execution_id"]
    status, doc = local.request("GET", f"/pipelines/{name}")
    assert status == 200 and doc["latest_failure"] is None
    assert mlops(local, "retry", "mlops-pipeline-no-such-byomdataqualitymonitor").returncode == 1
