"""Each monitor pipeline makes a CloudWatch dashboard of its endpoint in local mode, and the
status document links to it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from mlops_local.process import LocalProcess
from tests.support.events import load_event


@pytest.fixture(scope="module")
def local() -> Iterator[LocalProcess]:
    process = LocalProcess()
    yield process
    assert process.stop(signal.SIGINT) == 0


def monitor_body(local: LocalProcess, name: str, engine: str) -> dict[str, Any]:
    from tests.unit.monitor import synthetic

    s3 = local.client("s3")
    if "my-data-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket="my-data-bucket")
    body = load_event("valid/byom_data_quality_monitor")
    body["model_name"] = name
    baseline = synthetic.baseline_csv(rows=500)
    s3.put_object(Bucket=local.banner["assets_bucket"], Key=body["baseline_data"], Body=baseline)
    body.update({"endpoint_name": f"{name}-endpoint", "monitor_engine": engine})
    body["baseline_job_output_location"] = f"my-data-bucket/{name}/baseline"
    body["monitoring_output_location"] = f"my-data-bucket/{name}/reports"
    return body


@pytest.mark.parametrize("engine", ["serverless", "sagemaker"])
def test_a_monitor_makes_its_endpoint_s_dashboard_and_the_status_links_it(local: LocalProcess, engine: str) -> None:
    name = f"dash-{engine}"
    status, answer = local.post("/provisionpipeline", monitor_body(local, name, engine))
    assert status == 200, answer
    doc = local.wait_for(answer["pipeline_id"])
    assert doc.get("deployed_stack"), json.dumps(doc)[:3000]
    dashboard_name = doc["deployed_stack"]["outputs"]["DashboardName"]
    assert dashboard_name.endswith("-us-east-1")
    assert doc["dashboard_url"].endswith(f"#dashboards/dashboard/{dashboard_name}")
    body = json.loads(local.client("cloudwatch").get_dashboard(DashboardName=dashboard_name)["DashboardBody"])
    titles = [w["properties"].get("title", "") for w in body["widgets"]]
    assert {"Invocations", "Errors (4XX, 5XX)"} <= set(titles)
    assert f'EndpointName=\\"{name}-endpoint\\"' in json.dumps(body)
    # The CLI's status shows the link among the key outputs.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLOPS_"))} | {"MLOPS_API_URL": local.api}
    shown = subprocess.run([sys.executable, "-m", "mlops_cli.main", "status", answer["pipeline_id"]], env=env,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "DashboardUrl" in shown.stdout and dashboard_name in shown.stdout.replace("\n", "").replace(" ", "")
