"""End to end against `mlops local`: the model registry drives the pipelines that follow a group.

Approvals are made the way a data scientist makes them (UpdateModelPackage against the emulator);
local mode sends the events SageMaker would and delivers them through the control plane's rule.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mlops_local.process import LocalProcess
from tests.support.events import load_event
from tests.support.registry import register

GROUP = "e2e-churn-models"


@pytest.fixture(scope="module")
def local() -> Iterator[LocalProcess]:
    process = LocalProcess()
    yield process
    assert process.stop(signal.SIGINT) == 0


def until(local: LocalProcess, stack: str, done: Callable[[dict[str, Any]], bool], timeout: float = 60) -> Any:
    """The pipeline's description once ``done`` holds for it (or at the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        status, doc = local.request("GET", f"/pipelines/{stack}")
        if (status == 200 and done(doc)) or time.monotonic() > deadline:
            return doc
        time.sleep(0.2)


def package_of(doc: dict[str, Any]) -> str:
    return str((doc.get("model_package") or {}).get("model_package_arn", ""))


@pytest.fixture(scope="module")
def followers(local: LocalProcess) -> dict[str, Any]:
    """Two deployed pipelines following GROUP, whose v1 is approved and v2 pending."""
    local.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
    v1, v2 = register(local, "Approved", GROUP), register(local, "PendingManualApproval", GROUP)
    stacks, runs = [], {}
    for name in ("e2e-follow-a", "e2e-follow-b"):
        body = {**load_event("valid/model_loop/byom_realtime_following_group"), "model_name": name}
        body["model_package_group_name"] = GROUP
        status, answer = local.post("/provisionpipeline", body)
        assert status == 200, answer
        doc = local.wait_for(answer["pipeline_id"])
        assert doc["deployed_stack"]["status"] == "CREATE_COMPLETE", doc
        stacks.append(answer["stack_name"])
        runs[answer["stack_name"]] = doc["pipeline"]["stages"][0]["execution_id"]
    return {"v1": v1, "v2": v2, "stacks": stacks, "runs": runs}


def test_an_approval_moves_every_following_pipeline_and_a_rejection_moves_them_back(
    local: LocalProcess, followers: dict[str, Any]
) -> None:
    v1, v2 = followers["v1"], followers["v2"]
    for stack in followers["stacks"]:
        assert package_of(until(local, stack, lambda d: bool(package_of(d)))) == v1
    local.client("sagemaker").update_model_package(
        ModelPackageArn=v2, ModelApprovalStatus="Approved", ApprovalDescription="approved by alice"
    )
    for stack in followers["stacks"]:
        doc = until(local, stack, lambda d: package_of(d) == v2)
        assert doc["request"]["model_package_name"] == v2
        assert doc["model_package"]["approval_description"] == "approved by alice"
        assert doc["model_package"]["previous_model_package_arn"] == v1
        run = local.wait_for(doc["pipeline_id"], after=followers["runs"][stack])
        assert run["deployed_stack"]["status"] == "UPDATE_COMPLETE", run

    local.client("sagemaker").update_model_package(ModelPackageArn=v2, ModelApprovalStatus="Rejected")
    for stack in followers["stacks"]:
        doc = until(local, stack, lambda d: package_of(d) == v1)
        assert doc["request"]["model_package_name"] == v1
        assert "revoked" in doc["model_package"]["reason"]


def test_a_replayed_event_changes_nothing(local: LocalProcess, followers: dict[str, Any]) -> None:
    stack = followers["stacks"][0]
    before = until(local, stack, lambda d: bool(package_of(d)))
    sagemaker = local.client("sagemaker")
    described = sagemaker.describe_model_package(ModelPackageName=followers["v1"])
    detail = {k: v for k, v in described.items() if k != "ResponseMetadata"}
    entry = {
        "Source": "aws.sagemaker",
        "DetailType": "SageMaker Model Package State Change",
        "Resources": [followers["v1"]],
        "Detail": json.dumps(detail, default=str),
    }
    [sent] = local.client("events").put_events(Entries=[entry])["Entries"]
    doc = until(local, stack, lambda d: d["model_package"].get("last_event", {}).get("event_id") == sent["EventId"])
    assert doc["model_package"]["last_event"]["outcome"] == "unchanged"
    assert package_of(doc) == package_of(before)
    assert doc["summary"]["updated"] == before["summary"]["updated"]
    assert doc["model_package"].get("changes") == before["model_package"].get("changes")


def test_mlops_approve_model_rolls_the_newest_pending_version_out(
    local: LocalProcess, followers: dict[str, Any]
) -> None:
    v3 = register(local, "PendingManualApproval", GROUP)
    env = {**local.aws_env(), "MLOPS_API_URL": local.api}
    command = [sys.executable, "-m", "mlops_cli.main", "approve-model", GROUP, "--comment", "drift fixed", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["model_package_arn"] == v3 and sorted(answer["following_pipelines"]) == sorted(followers["stacks"])
    for stack in followers["stacks"]:
        doc = until(local, stack, lambda d: package_of(d) == v3)
        assert doc["model_package"]["approval_description"].endswith(": drift fixed")
    refused = subprocess.run(
        [sys.executable, "-m", "mlops_cli.main", "approve-model", GROUP, "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1 and "waits for approval" in refused.stdout


def retraining_entries(local: LocalProcess, stack: str) -> list[dict[str, Any]]:
    status, doc = local.request("GET", f"/pipelines/{stack}")
    return list(doc.get("retraining") or []) if status == 200 else []


def publish_violations(local: LocalProcess, report: str) -> None:
    """What the serverless monitor's check publishes when it finds violations."""
    topic = next(t["TopicArn"] for t in local.client("sns").list_topics()["Topics"] if "notifications" in t["TopicArn"])
    attributes = {"mlops-signal": "monitor-violations", "endpoint": "churn-endpoint", "monitor-type": "DataQuality"}
    local.client("sns").publish(
        TopicArn=topic,
        Subject="Monitor violations on churn-endpoint",
        Message="3 violation(s)",
        MessageAttributes={
            k: {"DataType": "String", "StringValue": v} for k, v in {**attributes, "report": report}.items()
        },
    )


def test_drift_restarts_the_training_pipeline_once_per_cooldown_and_it_registers_a_model(
    local: LocalProcess,
) -> None:
    training = load_event("valid/model_loop/model_training_registers")
    training["model_package_group_name"] = GROUP
    status, trained = local.post("/provisionpipeline", training)
    assert status == 200, trained
    first = local.wait_for(trained["pipeline_id"])
    assert first["deployed_stack"]["status"] == "CREATE_COMPLETE", first
    monitor = load_event("valid/model_loop/byom_data_quality_monitor_retraining")
    monitor["monitor_engine"] = "sagemaker"  # either engine's violations reach the same handler
    status, answer = local.post("/provisionpipeline", monitor)
    assert status == 200, answer
    pending_before = local.client("sagemaker").list_model_packages(
        ModelPackageGroupName=GROUP, ModelApprovalStatus="PendingManualApproval"
    )["ModelPackageSummaryList"]

    publish_violations(local, "s3://my-data-bucket/churn/monitor-output/churn-endpoint/2026/12/01/10/report.json")
    stack = trained["stack_name"].removesuffix("-codepipeline")
    deadline = time.monotonic() + 60
    while not retraining_entries(local, stack) and time.monotonic() < deadline:
        time.sleep(0.2)
    [started, *_] = retraining_entries(local, stack)
    assert started["outcome"] == "started" and started["report"].endswith("/10/report.json")
    rerun = local.wait_for(trained["pipeline_id"], after=first["pipeline"]["stages"][0]["execution_id"])
    assert all(s["status"] == "Succeeded" for s in rerun["pipeline"]["stages"]), rerun
    pending = local.client("sagemaker").list_model_packages(
        ModelPackageGroupName=GROUP, ModelApprovalStatus="PendingManualApproval"
    )["ModelPackageSummaryList"]
    assert len(pending) == len(pending_before) + 1  # the retrained model waits for approval

    publish_violations(local, "s3://my-data-bucket/churn/monitor-output/churn-endpoint/2026/12/01/11/report.json")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not [e for e in retraining_entries(local, stack) if "/11/" in e["report"]]:
        time.sleep(0.2)
    [skipped] = [e for e in retraining_entries(local, stack) if "/11/" in e["report"]]
    assert skipped["outcome"] == "skipped" and "cooling down" in skipped["reason"]
