"""`make demo` is the README's first command: it must finish and show a deployed endpoint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_provisions_and_deploys_without_an_aws_account() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    run = subprocess.run(
        [sys.executable, "-m", "mlops_local.demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "  outcome: provisioned" in run.stdout
    # Each pipeline's endpoint has the name its request gives (or the name derived from it), as in AWS.
    assert "churn-endpoint: InService" in run.stdout and "fraud-custom-endpoint: InService" in run.stdout
    assert "  EndpointName: churn-endpoint" in run.stdout
    assert "both pipelines deployed" in run.stdout
    assert "stages: Source Succeeded, Deploy Succeeded, Run Succeeded, Schedule Succeeded" in run.stdout
    assert (
        re.search(r"tenure +ks +p=\S+ +drift", run.stdout) and "the monitor flagged the drifted feature" in run.stdout
    )
    assert "== DELETE /pipelines/mlops-pipeline-fraud-custom-byompipelinerealtimecustom-codepipeline" in run.stdout
    assert "endpoints left: churn-endpoint\n" in run.stdout
    # A summary of what it made and where to look, not pages of JSON documents.
    summary = run.stdout[run.stdout.index("what the demo made") :]
    for made in ("real-time pipeline (HTTP)", "real-time pipeline (S3)", "data-quality monitor", "drift report"):
        assert made in summary
    assert "mlops status mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin" in summary
    # Where to look at the drift: the page the monitor wrote, copied to a local file.
    page = re.search(r"drift page s3://\S+/report\.html: open (file://\S+)", run.stdout)
    assert page and "drift page" in summary
    html = Path(urllib.parse.urlparse(page.group(1)).path).read_text()
    assert ">tenure</a>" in html and html.count('<svg class="chart"') >= 3
    assert not re.search(r"^\s*[{}]\s*$", run.stdout, re.M), "no JSON documents in the demo's output"
    assert len(run.stdout.splitlines()) < 100
    assert "mlops local exited with 0" in run.stdout


def test_make_demo_says_what_it_installs_on_its_first_run_and_help_says_what_it_makes() -> None:
    first = subprocess.run(
        ["make", "-s", "demo-note-venv", "demo-note-layer", "STAMP=/nonexistent/a", "LAYER_STAMP=/nonexistent/b"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "first run: installing the project and its tools into .venv/" in first.stdout
    assert "installing the SageMaker SDK layer's packages into .layer-venv/" in first.stdout
    helped = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    assert "two pipelines, a drift monitor, a deletion; then the ML loop" in helped
