"""The ML loop on this machine: drift found -> retraining run -> model pending approval ->
``mlops approve-model`` -> the endpoint that follows the group deploys it.

``python -m mlops_local.demo_loop`` starts local mode and runs :func:`loop_demo` (about a
minute); :func:`loop_demo` runs against any started local mode (:class:`~.process.LocalProcess`).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from typing import Any

from .files import EXAMPLES
from .process import LocalProcess

GROUP = "demo-churn-models"
TRAINING_BODY = EXAMPLES / "model_loop" / "model_training_registers.json"
FOLLOWING_BODY = EXAMPLES / "model_loop" / "byom_realtime_following_group.json"
MONITOR_BODY = EXAMPLES / "model_loop" / "byom_data_quality_monitor_retraining.json"
REPORT = "s3://my-data-bucket/churn/monitor-output/demo-registry-endpoint/2026/11/21/10/report.json"


def _step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def _until(local: LocalProcess, path: str, done: Any, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, doc = local.request("GET", path)
        if (status == 200 and done(doc)) or time.monotonic() > deadline:
            return dict(doc)
        time.sleep(0.5)


def _pending(local: LocalProcess) -> list[str]:
    listed = local.client("sagemaker").list_model_packages(
        ModelPackageGroupName=GROUP, ModelApprovalStatus="PendingManualApproval"
    )["ModelPackageSummaryList"]
    return [p["ModelPackageArn"] for p in listed]


def _deployed_package(doc: dict[str, Any]) -> str:
    return str((doc.get("model_package") or {}).get("model_package_arn", ""))


def _approve(local: LocalProcess, comment: str) -> dict[str, Any]:
    """``mlops approve-model``, as a person runs it."""
    command = [sys.executable, "-m", "mlops_cli.main", "--api-url", local.api, "approve-model", GROUP]
    done = subprocess.run(
        [*command, "--comment", comment, "--json"], capture_output=True, text=True, env=local.aws_env()
    )
    print(f"$ mlops approve-model {GROUP} --comment {comment!r}  -> exit {done.returncode}")
    return dict(json.loads(done.stdout)) if done.returncode == 0 else {}


def loop_demo(local: LocalProcess, made: list[tuple[str, str, str, str]]) -> bool:
    """The loop, step by step; True when the followed endpoint ends on the retrained model."""
    _step(f"a training pipeline that registers its model in {GROUP}")
    training = {**json.loads(TRAINING_BODY.read_text()), "model_package_group_name": GROUP}
    status, trained = local.post("/provisionpipeline", training)
    if status != 200:
        print(status, trained)
        return False
    first = local.wait_for(trained["pipeline_id"])
    print(f"training run: {[s['status'] for s in first['pipeline']['stages']]}; pending approval: {_pending(local)}")
    if not _approve(local, "first model"):
        return False

    _step(f"a real-time pipeline that follows {GROUP}: it deploys the latest Approved package")
    following = {**json.loads(FOLLOWING_BODY.read_text()), "model_name": "demo-registry"}
    following["model_package_group_name"] = GROUP
    status, answer = local.post("/provisionpipeline", following)
    if status != 200:
        print(status, answer)
        return False
    stack = answer["stack_name"]
    doc = local.wait_for(answer["pipeline_id"])
    v1 = _deployed_package(_until(local, f"/pipelines/{stack}", _deployed_package))
    print(f"deployed {v1}; endpoint {((doc.get('deployed_stack') or {}).get('outputs') or {}).get('EndpointName')}")

    _step("a monitor of that endpoint that restarts the training pipeline on drift (retraining)")
    monitor = json.loads(MONITOR_BODY.read_text())
    monitor.update(model_name="demo-registry", endpoint_name="demo-registry-endpoint", monitor_engine="sagemaker")
    monitor["retraining"] = {**monitor["retraining"], "pipeline": trained["stack_name"]}
    status, answer = local.post("/provisionpipeline", monitor)
    print(status, answer.get("message"))

    _step("its check finds drift and says so on the topic (as the serverless check does)")
    topic = next(t["TopicArn"] for t in local.client("sns").list_topics()["Topics"] if "notifications" in t["TopicArn"])
    attributes = {
        "mlops-signal": "monitor-violations",
        "endpoint": "demo-registry-endpoint",
        "monitor-type": "DataQuality",
        "report": REPORT,
    }
    local.client("sns").publish(
        TopicArn=topic,
        Subject="Monitor violations on demo-registry-endpoint",
        Message="1 violation(s): tenure drifted",
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )
    training_stack = trained["stack_name"].removesuffix("-codepipeline")
    restarted = _until(local, f"/pipelines/{training_stack}", lambda d: bool(d.get("retraining")))
    entry = (restarted.get("retraining") or [{}])[-1]
    print(f"retraining: {entry.get('outcome')} run_id {entry.get('run_id')} for {entry.get('report')}")
    rerun = local.wait_for(trained["pipeline_id"], after=first["pipeline"]["stages"][0]["execution_id"])
    print(f"retraining run: {[s['status'] for s in rerun['pipeline']['stages']]}; pending approval: {_pending(local)}")

    _step("a person approves the retrained model; the following endpoint moves to it")
    before = local.wait_for(doc["pipeline_id"])["pipeline"]["stages"][0]["execution_id"]
    approved = _approve(local, "retrained on drift, AUC holds")
    v2 = str(approved.get("model_package_arn", ""))
    moved = _until(local, f"/pipelines/{stack}", lambda d: _deployed_package(d) == v2 and bool(v2))
    shown = moved.get("model_package") or {}
    print(f"deployed {shown.get('model_package_arn')} (was {shown.get('previous_model_package_arn')})")
    print(f"why: {shown.get('reason')}; approved: {shown.get('approval_description')}")
    run = local.wait_for(moved.get("pipeline_id", ""), after=before, timeout=90)
    endpoint_ok = (run.get("deployed_stack") or {}).get("status") == "UPDATE_COMPLETE"
    ok = bool(v2) and _deployed_package(moved) == v2 and endpoint_ok and entry.get("outcome") == "started"
    made.append(("ML loop", GROUP, "endpoint on the retrained model" if ok else "incomplete", f"mlops status {stack}"))
    return ok


def main() -> int:
    _step("starting mlops local")
    local = LocalProcess()
    made: list[tuple[str, str, str, str]] = []
    try:
        ok = loop_demo(local, made)
        print("\nthe loop closed: the endpoint serves the retrained model" if ok else "\nthe loop did not close")
        return 0 if ok else 1
    finally:
        _step("stopping mlops local")
        print(f"mlops local exited with {local.stop(signal.SIGINT)}")


if __name__ == "__main__":
    sys.exit(main())
