"""`mlops local` (IAM enforced, as by default): each component calls the emulator as its role.

moto checks actions (resources for S3 only; see mlops_local/iam.py), so a role without
an action its component calls fails here as it would in AWS. Each failing case strips one
action from a copy of a role's policy and shows the AccessDenied it causes.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_local.iam import ENFORCE_ENV, TEMPLATE_ENV, deployed_policies
from mlops_local.process import LocalProcess
from tests.support.events import load_event
from tests.support.pipelines import current_bundle, run_with_bundle

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local() -> Iterator[LocalProcess]:
    process = LocalProcess()  # IAM is enforced unless MLOPS_LOCAL_ENFORCE_IAM=0
    yield process
    assert process.stop(signal.SIGINT) == 0


def body_for(model_name: str, event: str) -> dict[str, Any]:
    body = load_event(event)
    body["model_name"] = model_name
    body.pop("endpoint_name", None)
    return body


def without(document: dict[str, Any], action: str) -> dict[str, Any]:
    """``document`` with ``action`` taken out of every statement (statements left empty go)."""
    statements = []
    for statement in document["Statement"]:
        if not statement:
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        kept = [a for a in actions if a != action]
        if kept:
            statements.append({**statement, "Action": kept})
    return {**document, "Statement": statements}


def stages_of(doc: dict[str, Any]) -> dict[str, str | None]:
    return {s["name"]: s["status"] for s in doc["pipeline"]["stages"]}


def test_the_emulator_refuses_unknown_credentials(local: LocalProcess) -> None:
    import boto3

    stranger = boto3.client(
        "s3", endpoint_url=local.endpoint, region_name="us-east-1",
        aws_access_key_id="AKIASTRANGER", aws_secret_access_key="nope",
    )  # fmt: skip
    with pytest.raises(Exception, match="InvalidAccessKeyId"):
        stranger.list_buckets()
    assert local.client("s3").list_buckets()["Buckets"]  # the admin's keys (local/local) work
    # Signed requests without a body verify too (the emulator miscomputed their signature).
    assert "Functions" in local.client("lambda").list_functions()


def test_enforcement_can_be_turned_off() -> None:
    import boto3

    process = LocalProcess(env={ENFORCE_ENV: "0"})
    try:
        stranger = boto3.client(
            "s3", endpoint_url=process.endpoint, region_name="us-east-1",
            aws_access_key_id="AKIASTRANGER", aws_secret_access_key="nope",
        )  # fmt: skip
        assert stranger.list_buckets()["Buckets"]
    finally:
        assert process.stop(signal.SIGINT) == 0


def test_a_batch_pipeline_runs_every_stage_as_its_roles(local: LocalProcess) -> None:
    status, answer = local.post("/provisionpipeline", body_for("iam-batch", "valid/byom_batch_custom"))
    assert status == 200, answer
    doc = local.wait_for(answer["pipeline_id"], timeout=120)
    assert stages_of(doc) == {"Source": "Succeeded", "Deploy": "Succeeded", "Run": "Succeeded"}, doc["latest_failure"]


def _pipeline_role(local: LocalProcess, stack_name: str) -> str:
    resource = local.client("cloudformation").describe_stack_resource(
        StackName=stack_name, LogicalResourceId="PipelineRole"
    )
    return str(resource["StackResourceDetail"]["PhysicalResourceId"])


def test_a_pipeline_role_without_start_execution_fails_its_run_stage(local: LocalProcess) -> None:
    status, answer = local.post("/provisionpipeline", body_for("iam-nostart", "valid/byom_batch_custom"))
    assert status == 200, answer
    first = local.wait_for(answer["pipeline_id"], timeout=120)
    assert stages_of(first)["Run"] == "Succeeded", first["latest_failure"]

    role = _pipeline_role(local, answer["stack_name"])
    iam = local.client("iam")
    for name, document in deployed_policies(iam, role).items():
        iam.put_role_policy(
            RoleName=role, PolicyName=name, PolicyDocument=json.dumps(without(document, "states:StartExecution"))
        )
    # The same bundle under another key, named by the stack, runs the pipeline again.
    run_with_bundle(local, answer["stack_name"], current_bundle(local, answer["stack_name"]), "again")
    doc = local.wait_for(answer["pipeline_id"], after=first["pipeline"]["stages"][0]["execution_id"], timeout=120)
    assert stages_of(doc) == {"Source": "Succeeded", "Deploy": "Succeeded", "Run": "Failed"}
    assert "AccessDenied" in doc["latest_failure"] and "states:StartExecution" in doc["latest_failure"]


def test_an_orchestrator_role_without_put_object_cannot_provision(tmp_path: Path) -> None:
    """The orchestrator's role comes from sam/template.yaml: a copy without s3:PutObject on the
    bundles makes provisioning fail, where the emulator would otherwise accept it."""
    text = (ROOT / "sam/template.yaml").read_text()
    indent = "\n" + " " * 16
    bundles = f"- Sid: Bundles{indent}Effect: Allow{indent}Action: [s3:GetObject, s3:PutObject, s3:DeleteObject]"
    count = text.count(bundles)
    stripped = text.replace(bundles, bundles.replace("s3:PutObject, ", ""))
    assert count == 1, "the Bundles statement of the orchestrator's role"
    template = tmp_path / "template.yaml"
    template.write_text(stripped)
    process = LocalProcess(env={ENFORCE_ENV: "1", TEMPLATE_ENV: str(template)})
    try:
        status, answer = process.post("/provisionpipeline", body_for("iam-noput", "valid/byom_realtime_builtin"))
        assert status == 503, answer  # AccessDenied: retryable, as IAM applies changes after a delay
        assert "AccessDenied" in answer["message"] and "PutObject" in answer["message"]
        stacks = process.client("cloudformation").list_stacks()["StackSummaries"]
        assert not [s for s in stacks if "iam-noput" in s["StackName"]]

        # The same body as a config upload: AccessDenied is not the config's fault, so the
        # handler fails, is retried, and the event ends in the dead-letter queue, as in AWS.
        bucket = process.banner["config_bucket"]
        body = json.dumps(body_for("iam-noput", "valid/byom_realtime_builtin")).encode()
        process.client("s3").put_object(Bucket=bucket, Key="team-x/mlops-config.json", Body=body)
        sqs = process.client("sqs")
        dead = sqs.get_queue_url(QueueName="mlops-config-events-failed")["QueueUrl"]
        deadline = time.monotonic() + 90
        kept: list[dict[str, Any]] = []
        while not kept and time.monotonic() < deadline:
            kept = sqs.receive_message(QueueUrl=dead, WaitTimeSeconds=5).get("Messages", [])
        assert kept, "the failing event never reached the dead-letter queue"
        assert "team-x%2Fmlops-config.json" in kept[0]["Body"]  # S3 event keys are URL-encoded
        listed = process.client("s3").list_objects_v2(Bucket=bucket, Prefix="team-x/").get("Contents", [])
        assert [o["Key"] for o in listed] == ["team-x/mlops-config.json"]  # no failed result for it
    finally:
        assert process.stop(signal.SIGINT) == 0
