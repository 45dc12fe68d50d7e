"""`make demo` is the README's first command: it must finish and show a deployed endpoint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_provisions_and_deploys_without_an_aws_account() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    run = subprocess.run(
        [sys.executable, "-m", "mlops_local.demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert '"outcome": "provisioned"' in run.stdout
    # The endpoint each pipeline's deployed stack names (its status document) is in service.
    deployed = sorted(set(re.findall(r'"EndpointName": "(mlops-pipeline-[^"]+-Endpoint-[^"]+)"', run.stdout)))
    assert len(deployed) >= 2 and all(f"{name}: InService" in run.stdout for name in deployed), deployed
    assert "both pipelines deployed" in run.stdout
    assert "stages: Source Succeeded, Deploy Succeeded, Run Succeeded, Schedule Succeeded" in run.stdout
    assert '"feature_name": "tenure"' in run.stdout and "the monitor flagged the drifted feature" in run.stdout
    assert "== DELETE /pipelines/mlops-pipeline-fraud-custom-byompipelinerealtimecustom-codepipeline" in run.stdout
    assert "endpoints left: mlops-pipeline-churn-xgboost" in run.stdout
    assert "mlops local exited with 0" in run.stdout
