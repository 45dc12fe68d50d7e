"""``make demo``: the orchestrator's main job on this machine, with no AWS account.

Starts ``mlops local`` (the API against an embedded AWS emulator), provisions a real-time
pipeline over HTTP and a custom-image pipeline by uploading ``mlops-config.json`` to the
config bucket, waits until both pipelines have deployed their stacks and prints their stages
and outputs and the SageMaker resources now in the emulator; then puts a serverless
data-quality monitor on the first endpoint, lets it build its baseline and schedule, feeds
it an hour of drifted captured data and prints the drift per feature; deletes the pipeline
provisioned from S3 (its endpoint goes, the others stay); ends with a table of what it made
and where to look, then stops local mode.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from .files import EXAMPLES
from .process import LocalProcess

HTTP_BODY = EXAMPLES / "byom_realtime_builtin.json"
S3_BODY = EXAMPLES / "byom_realtime_custom.json"
CONFIG_KEY = "demo/mlops-config.json"


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def show(doc: dict[str, Any], *keys: str) -> None:
    """The fields of an answer that matter here, one line each (not the whole document)."""
    for key in keys or tuple(doc):
        if key in doc:
            print(f"  {key}: {doc[key]}")


def show_status(doc: dict[str, Any]) -> None:
    """A status document in a few lines: stages, deployed stack, its outputs, the failure."""
    stages = (doc.get("pipeline") or {}).get("stages") or []
    print("stages:", ", ".join(f"{s['name']} {s['status']}" for s in stages) or "none yet")
    deployed = doc.get("deployed_stack") or {}
    print(f"deployed stack: {deployed.get('name')} {deployed.get('status')}")
    for key, value in sorted((deployed.get("outputs") or {}).items()):
        print(f"  {key}: {value}")
    if doc.get("latest_failure"):
        print(f"failure: {doc['latest_failure']}")


def summary(rows: list[tuple[str, str, str, str]]) -> None:
    """What the demo made and where to look, as a table."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title="what the demo made", box=box.SIMPLE_HEAD, title_justify="left")
    for column in ("what", "name", "outcome", "where to look"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console(width=240, soft_wrap=True).print(table)


def _outcome(doc: dict[str, Any]) -> str:
    stages = (doc.get("pipeline") or {}).get("stages") or []
    if any(s["status"] == "Failed" for s in stages):
        return f"run failed: {doc.get('latest_failure')}"
    return "run succeeded" if stages and all(s["status"] == "Succeeded" for s in stages) else "running"


def deployed(doc: dict[str, Any]) -> bool:
    stack = doc.get("deployed_stack") or {}
    return stack.get("status") in ("CREATE_COMPLETE", "UPDATE_COMPLETE")


MONITOR_BODY = {
    "pipeline_type": "byom_data_quality_monitor",
    "monitor_engine": "serverless",
    "model_name": "churn-xgboost",
    "endpoint_name": "churn-endpoint",
    "baseline_data": "monitoring/churn/demo-baseline.csv",
    "baseline_job_output_location": "demo-data/churn/baseline",
    "data_capture_location": "demo-data/churn/datacapture",
    "monitoring_output_location": "demo-data/churn/monitor-output",
    "schedule_expression": "rate(1 hour)",
    "instance_type": "ml.m5.large",
    "instance_volume_size": 20,
    "monitor_max_runtime_seconds": 900,
}
HOUR = "2026/11/21/10"


def _row(rng: random.Random, tenure_shift: float = 0.0) -> str:
    plan = rng.choices(["basic", "plus", "pro"], weights=[5, 3, 2])[0]
    return f"{rng.gauss(30 + tenure_shift, 8):.2f},{rng.gauss(70, 20):.2f},{plan}"


def _capture(row: str) -> str:
    data = {"observedContentType": "text/csv", "mode": "INPUT", "data": row, "encoding": "CSV"}
    answer = {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.5", "encoding": "CSV"}
    return json.dumps(
        {
            "captureData": {"endpointInput": data, "endpointOutput": answer},
            "eventMetadata": {"eventId": str(uuid.uuid4())},
        }
    )


def monitor_demo(local: LocalProcess, made: list[tuple[str, str, str, str]]) -> bool:
    """A serverless data-quality monitor of the demo endpoint, and one drifted hour checked by it."""
    from .lambdas import invoke

    rng = random.Random(7)
    s3 = local.client("s3")
    s3.create_bucket(Bucket="demo-data")
    baseline = "tenure,monthly_spend,plan\n" + "\n".join(_row(rng) for _ in range(5_000)) + "\n"
    s3.put_object(Bucket=local.banner["assets_bucket"], Key=MONITOR_BODY["baseline_data"], Body=baseline.encode())
    step("POST /provisionpipeline  <- a serverless data-quality monitor of churn-endpoint")
    status, answer = local.post("/provisionpipeline", MONITOR_BODY)
    print(status)
    show(answer, "pipeline_id", "monitor_engine", "action")
    doc = local.wait_for(answer["pipeline_id"])
    print("stages:", ", ".join(f"{s['name']} {s['status']}" for s in doc["pipeline"]["stages"]))
    outputs = doc["deployed_stack"]["outputs"]
    name = answer["stack_name"].removesuffix("-codepipeline")
    made.append(
        ("data-quality monitor", name, _outcome(doc), f"mlops status {name}; baseline {outputs['BaselineLocation']}")
    )
    print(f"baseline in {outputs['BaselineLocation']}, schedule {outputs.get('ScheduleName')}")

    step(f"an hour of captured data in which tenure drifted, checked by {outputs['MonitorFunctionName']}")
    lines = "\n".join(_capture(_row(rng, tenure_shift=6.0)) for _ in range(1_000))
    key = f"churn/datacapture/churn-endpoint/AllTraffic/{HOUR}/capture.jsonl"
    s3.put_object(Bucket="demo-data", Key=key, Body=lines.encode())
    os.environ.update({k: v for k, v in local.aws_env().items() if k.startswith("AWS_")})
    result = invoke(local.session(), "us-east-1", outputs["MonitorFunctionName"],
                    {"action": "check", "window_end": "2026-11-21T11:00:00Z"})  # fmt: skip
    report = json.loads(s3.get_object(Bucket="demo-data", Key=result["report"].split("/", 3)[3])["Body"].read())
    print(f"drift report {result['report']}: {report['status']}, {report['records']} records")
    violated = {v["feature_name"] for v in report["violations"]}
    for feature_name, feature in report["features"].items():
        drift = feature.get("drift", {})
        verdict = "drift" if feature_name in violated else "ok"
        print(f"  {feature_name:14} {drift.get('test', ''):10} p={drift.get('p_value', float('nan')):.3g}  {verdict}")
    flagged = ", ".join(sorted(violated)) or "none"
    made.append(("drift report", f"features drifted: {flagged}", report["status"], result["report"]))
    page = Path(tempfile.gettempdir()) / "mlops-demo-drift-report.html"  # the same page, to open locally
    page.write_bytes(s3.get_object(Bucket="demo-data", Key=result["html_report"].split("/", 3)[3])["Body"].read())
    print(f"drift page {result['html_report']}: open {page.as_uri()}")
    made.append(("drift page", "a chart per feature, baseline beside the hour", "written", page.as_uri()))
    return bool(report["status"] == "violations" and report["violations"][0]["feature_name"] == "tenure")


def delete_demo(local: LocalProcess, pipeline_id: str, made: list[tuple[str, str, str, str]]) -> bool:
    """Delete the pipeline provisioned from S3; its endpoint goes, the other pipelines stay."""
    name = pipeline_id.split("/")[1]
    step(f"DELETE /pipelines/{name}")
    status, answer = local.request("DELETE", f"/pipelines/{name}")
    print(status)
    show(answer, "message", "done", "stacks")
    outcome = "deleted" if status == 200 else f"HTTP {status}"
    made.append(
        ("deleted pipeline", name.removesuffix("-codepipeline"), outcome, "its endpoint is gone (endpoints left)")
    )
    _, listed = local.request("GET", "/pipelines")
    print("pipelines left:", ", ".join(p["name"] for p in listed["pipelines"]))
    endpoints = [e["EndpointName"] for e in local.client("sagemaker").list_endpoints()["Endpoints"]]
    print("endpoints left:", ", ".join(endpoints))
    return status == 200 and not any("fraud-custom" in e for e in endpoints)


def main() -> int:
    step("starting mlops local")
    local = LocalProcess()
    try:
        print("\n".join(f"{k}: {v}" for k, v in local.banner.items()))

        made: list[tuple[str, str, str, str]] = []
        step(f"POST {local.api}/provisionpipeline  <- {HTTP_BODY}")
        status, http_answer = local.post("/provisionpipeline", HTTP_BODY.read_bytes())
        print(status)
        show(http_answer, "message", "pipeline_id", "action")
        if status != 200:
            return 1

        step(f"upload {S3_BODY} to s3://{local.banner['config_bucket']}/{CONFIG_KEY}")
        s3 = local.client("s3")
        s3.put_object(Bucket=local.banner["config_bucket"], Key=CONFIG_KEY, Body=S3_BODY.read_bytes())
        result_key = CONFIG_KEY.replace(".json", ".result.json")
        result = json.loads(local.wait_for_object(local.banner["config_bucket"], result_key))
        print(f"result object s3://{local.banner['config_bucket']}/{result_key}:")
        show(result, "outcome", "pipeline_id", "action")
        if result["outcome"] == "failed":
            return 1

        ok = True
        for label, pipeline_id in (("HTTP", http_answer["pipeline_id"]), ("S3", result["pipeline_id"])):
            step(f"status of the pipeline provisioned over {label}, once its run has finished")
            doc = local.wait_for(pipeline_id)
            show_status(doc)
            ok = ok and deployed(doc)
            name = pipeline_id.split("/")[1].removesuffix("-codepipeline")
            endpoint = ((doc.get("deployed_stack") or {}).get("outputs") or {}).get("EndpointName", "-")
            made.append(
                (f"real-time pipeline ({label})", name, _outcome(doc), f"mlops status {name}; endpoint {endpoint}")
            )

        step("SageMaker resources in the emulator")
        sagemaker = local.client("sagemaker")
        for endpoint in sagemaker.list_endpoints()["Endpoints"]:
            print(f"endpoint        {endpoint['EndpointName']}: {endpoint['EndpointStatus']}")
        for config in sagemaker.list_endpoint_configs()["EndpointConfigs"]:
            print(f"endpoint config {config['EndpointConfigName']}")
        for model in sagemaker.list_models()["Models"]:
            print(f"model           {model['ModelName']}")
        print("\nboth pipelines deployed" if ok else "\na pipeline did not deploy")
        drift = monitor_demo(local, made)
        print("\nthe monitor flagged the drifted feature" if drift else "\nthe monitor missed the drift")
        gone = delete_demo(local, result["pipeline_id"], made)
        print()
        summary(made)
        print(
            "to explore on your own: .venv/bin/mlops local --port 8000, then mlops --api-url http://127.0.0.1:8000 list"
        )
        return 0 if ok and drift and gone else 1
    finally:
        step("stopping mlops local")
        code = local.stop(signal.SIGINT)
        print(f"mlops local exited with {code}")


if __name__ == "__main__":
    sys.exit(main())
