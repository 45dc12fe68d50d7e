"""Multi-account promotion in `mlops local --multi-account`: each stage deploys into its own
emulated account, and the pipeline waits at each approval until the API decides it."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator

import boto3
import pytest

from mlops_local.iam import ADMIN
from mlops_local.process import LocalProcess
from tests.support.events import load_event


@pytest.fixture(scope="module")
def local() -> Iterator[LocalProcess]:
    process = LocalProcess(0, "--multi-account")
    yield process
    assert process.stop(signal.SIGINT) == 0


def test_approvals_move_a_promotion_on_and_a_rejection_stops_it(local: LocalProcess) -> None:
    assert local.banner["api"]
    status, answer = local.post("/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    assert status == 200, answer
    pipeline = answer["stack_name"]

    doc = local.wait_for_approval(pipeline, "ApproveStaging")
    assert [a["stage"] for a in doc["awaiting_approval"]] == ["ApproveStaging"]
    assert doc["stages"]["dev"]["status"] == "current"
    assert doc["stages"]["dev"]["instances"][0]["account"] == "111111111111"
    assert doc["stages"]["staging"]["status"] == "not deployed yet"
    diff = {r["parameter"]: r for r in doc["awaiting_approval"][0]["parameter_diff"]}
    assert diff["PermissionsBoundaryArn"]["deployed"] is None  # staging has nothing yet
    assert diff["PermissionsBoundaryArn"]["promoted"].startswith("arn:aws:iam::222222222222:policy/")

    approve = {"stage": "staging", "decision": "approve", "comment": "dev looks right"}
    status, decided = local.request("POST", f"/pipelines/{pipeline}/approval", approve)
    assert (status, decided["decision"]) == (200, "Approved"), decided
    doc = local.wait_for_approval(pipeline, "ApproveProd")
    assert doc["stages"]["staging"]["instances"][0]["account"] == "222222222222"
    stages = {s["name"]: s["status"] for s in doc["pipeline"]["stages"]}
    assert stages["ApproveStaging"] == "Succeeded" and stages["DeployStaging"] == "Succeeded"

    status, _ = local.request("POST", f"/pipelines/{pipeline}/approval", {"stage": "prod", "decision": "reject",
                                                                          "comment": "latency too high"})  # fmt: skip
    assert status == 200
    doc = local.wait_for(answer["pipeline_id"])
    assert doc["latest_failure"] == "ApproveProd: rejected: latency too high"
    assert doc["stages"]["prod"]["status"] == "not deployed yet"
    status, again = local.request("POST", f"/pipelines/{pipeline}/approval", {"stage": "prod", "decision": "approve"})
    assert status == 409 and "nothing awaits approval" in again["message"]


def test_a_promoted_bias_monitor_has_the_sdk_layer_write_its_configs_in_the_dev_account(local: LocalProcess) -> None:
    s3 = local.client("s3")
    s3.create_bucket(Bucket="my-data-bucket")
    body = load_event("valid/byom_model_bias_monitor")
    status, answer = local.post("/provisionpipeline", body)
    assert status == 200, answer
    pipeline = answer["stack_name"]

    doc = local.wait_for_approval(pipeline, "ApproveStaging")
    stages = {s["name"]: s["status"] for s in doc["pipeline"]["stages"]}
    assert stages["DeployDev"] == "Succeeded", doc.get("latest_failure")  # its stack set, baseline run, schedule
    # The Clarify function is in the dev account, with the layer the control plane shares.
    # Read as the dev account's administrator (local mode enforces IAM: an unknown role has no rights).
    role = f"arn:aws:iam::111111111111:role/{ADMIN}"
    credentials = local.client("sts").assume_role(RoleArn=role, RoleSessionName="test")["Credentials"]
    dev = boto3.client(
        "lambda", endpoint_url=local.endpoint, region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )  # fmt: skip
    clarify = [f for f in dev.list_functions()["Functions"] if "-clarify-" in f["FunctionName"]]
    assert [layer["Arn"].split(":")[6] for layer in clarify[0]["Layers"]] == ["mlops-pipeline-sagemaker-sdk"]
    key = body["baseline_job_output_location"].split("/", 1)[1] + "/analysis_config.json"
    analysis = json.loads(s3.get_object(Bucket="my-data-bucket", Key=key)["Body"].read())
    assert analysis["methods"]["post_training_bias"] == {"methods": "all"}
