"""`make demo` is the README's first command: it must finish and show a deployed endpoint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_provisions_and_deploys_without_an_aws_account() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    run = subprocess.run(
        [sys.executable, "-m", "mlops_cli.demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert '"action": "created"' in run.stdout
    assert "changed: False" in run.stdout
    assert "Deploy   Succeeded" in run.stdout
    assert ": InService" in run.stdout
