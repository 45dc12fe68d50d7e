"""``make demo``: the orchestrator's main job on this machine, with no AWS account.

Starts ``mlops local`` (the API against an embedded AWS emulator), provisions a real-time
pipeline over HTTP and a custom-image pipeline by uploading ``mlops-config.json`` to the
config bucket, waits until both pipelines have deployed their stacks, prints their status
documents and the SageMaker resources now in the emulator; then puts a serverless
data-quality monitor on the first endpoint, lets it build its baseline and schedule, feeds
it an hour of drifted captured data and prints the drift report; deletes the pipeline
provisioned from S3 (its endpoint goes, the others stay); then stops local mode.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import uuid
from typing import Any

from .files import EXAMPLES
from .process import LocalProcess

HTTP_BODY = EXAMPLES / "byom_realtime_builtin.json"
S3_BODY = EXAMPLES / "byom_realtime_custom.json"
CONFIG_KEY = "demo/mlops-config.json"


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def show(doc: dict[str, Any]) -> None:
    print(json.dumps(doc, indent=2))


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


def monitor_demo(local: LocalProcess) -> bool:
    """A serverless data-quality monitor of the demo endpoint, and one drifted hour checked by it."""
    from .lambdas import invoke

    rng = random.Random(7)
    s3 = local.client("s3")
    s3.create_bucket(Bucket="demo-data")
    baseline = "tenure,monthly_spend,plan\n" + "\n".join(_row(rng) for _ in range(5_000)) + "\n"
    s3.put_object(Bucket=local.banner["assets_bucket"], Key=MONITOR_BODY["baseline_data"], Body=baseline.encode())
    step("POST /provisionpipeline  <- a serverless data-quality monitor of churn-endpoint")
    status, answer = local.post("/provisionpipeline", MONITOR_BODY)
    print(status, json.dumps({k: answer.get(k) for k in ("pipeline_id", "monitor_engine", "action")}))
    doc = local.wait_for(answer["pipeline_id"])
    print("stages:", ", ".join(f"{s['name']} {s['status']}" for s in doc["pipeline"]["stages"]))
    outputs = doc["deployed_stack"]["outputs"]
    print(f"baseline in {outputs['BaselineLocation']}, schedule {outputs.get('ScheduleName')}")

    step(f"an hour of captured data in which tenure drifted, checked by {outputs['MonitorFunctionName']}")
    lines = "\n".join(_capture(_row(rng, tenure_shift=6.0)) for _ in range(1_000))
    key = f"churn/datacapture/churn-endpoint/AllTraffic/{HOUR}/capture.jsonl"
    s3.put_object(Bucket="demo-data", Key=key, Body=lines.encode())
    os.environ.update({k: v for k, v in local.aws_env().items() if k.startswith("AWS_")})
    result = invoke(local.session(), "us-east-1", outputs["MonitorFunctionName"],
                    {"action": "check", "window_end": "2026-11-21T11:00:00Z"})  # fmt: skip
    report = json.loads(s3.get_object(Bucket="demo-data", Key=result["report"].split("/", 3)[3])["Body"].read())
    print(f"drift report {result['report']}:")
    show({k: report[k] for k in ("status", "records", "malformed", "per_test_alpha", "violations")})
    for name, feature in report["features"].items():
        drift = feature.get("drift", {})
        print(f"  {name:14} {drift.get('test', ''):10} p={drift.get('p_value', float('nan')):.3g}")
    return bool(report["status"] == "violations" and report["violations"][0]["feature_name"] == "tenure")


def delete_demo(local: LocalProcess, pipeline_id: str) -> bool:
    """Delete the pipeline provisioned from S3; its endpoint goes, the other pipelines stay."""
    name = pipeline_id.split("/")[1]
    step(f"DELETE /pipelines/{name}")
    status, answer = local.request("DELETE", f"/pipelines/{name}")
    print(status)
    show(answer)
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

        step(f"POST {local.api}/provisionpipeline  <- {HTTP_BODY}")
        status, http_answer = local.post("/provisionpipeline", HTTP_BODY.read_bytes())
        print(status)
        show(http_answer)
        if status != 200:
            return 1

        step(f"upload {S3_BODY} to s3://{local.banner['config_bucket']}/{CONFIG_KEY}")
        s3 = local.client("s3")
        s3.put_object(Bucket=local.banner["config_bucket"], Key=CONFIG_KEY, Body=S3_BODY.read_bytes())
        result_key = CONFIG_KEY.replace(".json", ".result.json")
        result = json.loads(local.wait_for_object(local.banner["config_bucket"], result_key))
        print(f"result object s3://{local.banner['config_bucket']}/{result_key}:")
        show(result)
        if result["outcome"] == "failed":
            return 1

        ok = True
        for label, pipeline_id in (("HTTP", http_answer["pipeline_id"]), ("S3", result["pipeline_id"])):
            step(f"status of the pipeline provisioned over {label}, once its run has finished")
            doc = local.wait_for(pipeline_id)
            show(doc)
            ok = ok and deployed(doc)

        step("SageMaker resources in the emulator")
        sagemaker = local.client("sagemaker")
        for endpoint in sagemaker.list_endpoints()["Endpoints"]:
            print(f"endpoint        {endpoint['EndpointName']}: {endpoint['EndpointStatus']}")
        for config in sagemaker.list_endpoint_configs()["EndpointConfigs"]:
            print(f"endpoint config {config['EndpointConfigName']}")
        for model in sagemaker.list_models()["Models"]:
            print(f"model           {model['ModelName']}")
        print("\nboth pipelines deployed" if ok else "\na pipeline did not deploy")
        drift = monitor_demo(local)
        print("\nthe monitor flagged the drifted feature" if drift else "\nthe monitor missed the drift")
        gone = delete_demo(local, result["pipeline_id"])
        return 0 if ok and drift and gone else 1
    finally:
        step("stopping mlops local")
        code = local.stop(signal.SIGINT)
        print(f"mlops local exited with {code}")


if __name__ == "__main__":
    sys.exit(main())
