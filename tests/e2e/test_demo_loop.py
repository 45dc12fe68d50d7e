"""The ML loop's demo: drift found, the training pipeline runs again and registers a model, a
person approves it with mlops approve-model, and the endpoint that follows the group serves it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# A minute or more of local mode for what tests/e2e/test_model_loop.py checks step by step; run by
# make test-long, so make test stays within CI's time.
pytestmark = pytest.mark.long

ROOT = Path(__file__).resolve().parents[2]


def test_the_loop_demo_ends_with_the_endpoint_on_the_retrained_model() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    run = subprocess.run(
        [sys.executable, "-m", "mlops_local.demo_loop"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "retraining: started run_id drift-" in run.stdout
    assert "deployed arn:aws:sagemaker:us-east-1:123456789012:model-package/demo-churn-models/2 (was " in run.stdout
    assert "the loop closed: the endpoint serves the retrained model" in run.stdout
    assert "mlops local exited with 0" in run.stdout
