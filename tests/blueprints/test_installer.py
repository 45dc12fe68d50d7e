"""The installer custom resource, run in-process on recorded CloudFormation events against a
moto server, with CloudFormation's response endpoint captured locally."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from blueprints import installer
from tests.support.events import EVENTS

BUCKET = "mlops-blueprints-123456789012-us-east-1"


class Responses:
    """What the custom resource sent to its (presigned) ResponseURL."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_PUT(self) -> None:
                outer.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/presigned"


@pytest.fixture
def responses() -> Iterator[Responses]:
    capture = Responses()
    yield capture
    capture.server.shutdown()


@pytest.fixture
def s3(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()
    client = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    installer._pack(tmp_path / "payload")  # what `sam build` puts beside the function
    monkeypatch.setattr(installer, "PAYLOAD", tmp_path / "payload")
    return client


def event(name: str, responses: Responses, **changes: Any) -> dict[str, Any]:
    recorded = json.loads((EVENTS / "cfn" / f"{name}.json").read_text())
    return {**recorded, "ResponseURL": responses.url, **changes}


def keys(s3: Any, prefix: str = "blueprints/") -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def test_create_installs_every_blueprint_under_a_version_prefix(s3: Any, responses: Responses) -> None:
    installer.handler(event("blueprint_install_create", responses), None, s3=s3)
    [answer] = responses.received
    assert answer["Status"] == "SUCCESS", answer
    prefix = answer["Data"]["Prefix"]
    assert prefix.startswith("blueprints/0.1.0-") and answer["PhysicalResourceId"] == f"{BUCKET}/{prefix}"
    installed = keys(s3, prefix)
    assert f"{prefix}/byom_realtime_inference_pipeline.yaml" in installed
    assert f"{prefix}/single_account_codepipeline.yaml" in installed
    assert f"{prefix}/functions/inference.zip" in installed
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{prefix}/manifest.json")["Body"].read())
    assert sorted(manifest["files"]) == sorted(k.removeprefix(prefix + "/") for k in installed if "manifest" not in k)


def test_the_same_payload_again_writes_nothing(s3: Any, responses: Responses) -> None:
    installer.handler(event("blueprint_install_create", responses), None, s3=s3)
    before = s3.list_object_versions(Bucket=BUCKET)["Versions"]
    installer.handler(event("blueprint_install_create", responses), None, s3=s3)
    assert responses.received[0]["Data"] == responses.received[1]["Data"]
    assert len(s3.list_object_versions(Bucket=BUCKET)["Versions"]) == len(before)


def test_an_upgrade_installs_a_new_prefix_and_keeps_the_old(s3: Any, responses: Responses) -> None:
    installer.handler(event("blueprint_install_create", responses), None, s3=s3)
    old = responses.received[0]["Data"]["Prefix"]
    old_keys = keys(s3, old)
    installer.handler(event("blueprint_install_update", responses), None, s3=s3)
    new = responses.received[1]["Data"]["Prefix"]
    assert responses.received[1]["Status"] == "SUCCESS"
    assert new.startswith("blueprints/0.2.0-") and new != old
    assert keys(s3, old) == old_keys  # pipelines pinned to the old prefix keep their blueprints


def test_delete_leaves_installed_blueprints(s3: Any, responses: Responses) -> None:
    installer.handler(event("blueprint_install_create", responses), None, s3=s3)
    installed = keys(s3)
    installer.handler(event("blueprint_install_delete", responses), None, s3=s3)
    assert responses.received[1]["Status"] == "SUCCESS"
    assert (
        responses.received[1]["PhysicalResourceId"]
        == event("blueprint_install_delete", responses)["PhysicalResourceId"]
    )
    assert keys(s3) == installed


def test_a_prefix_is_never_overwritten_with_other_content(s3: Any, responses: Responses) -> None:
    prefix = installer.prefix_for("0.1.0", installer.read_payload(installer.PAYLOAD))
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/single_account_codepipeline.yaml", Body=b"tampered")
    installer.handler(event("blueprint_install_create", responses), None, s3=s3)
    [answer] = responses.received
    assert answer["Status"] == "FAILED" and "immutable" in answer["Reason"]
    body = s3.get_object(Bucket=BUCKET, Key=f"{prefix}/single_account_codepipeline.yaml")["Body"].read()
    assert body == b"tampered"


@pytest.mark.parametrize("versioned", [True, False])
def test_an_existing_assets_bucket_must_be_versioned(s3: Any, responses: Responses, versioned: bool) -> None:
    s3.create_bucket(Bucket="team-ml-assets")
    if versioned:
        s3.put_bucket_versioning(Bucket="team-ml-assets", VersioningConfiguration={"Status": "Enabled"})
    installer.handler(event("versioning_check_create", responses), None, s3=s3)
    [answer] = responses.received
    if versioned:
        assert answer["Status"] == "SUCCESS" and answer["Data"] == {"BucketName": "team-ml-assets"}
    else:
        assert answer["Status"] == "FAILED" and "versioning" in answer["Reason"]


def test_an_unknown_action_fails_with_its_name(s3: Any, responses: Responses) -> None:
    recorded = event("blueprint_install_create", responses)
    recorded["ResourceProperties"] = {**recorded["ResourceProperties"], "Action": "format-disk"}
    installer.handler(recorded, None, s3=s3)
    assert responses.received[0]["Status"] == "FAILED" and "format-disk" in responses.received[0]["Reason"]


def test_the_model_registry_is_created_once(s3: Any, responses: Responses, moto_url: str) -> None:
    sagemaker = boto3.client("sagemaker", endpoint_url=moto_url, region_name="us-east-1")
    for _ in range(2):
        installer.handler(event("model_registry_create", responses), None, s3=s3, sagemaker=sagemaker)
    assert [r["Status"] for r in responses.received] == ["SUCCESS", "SUCCESS"]
    assert responses.received[0]["Data"] == {"GroupName": "mlops-models"}
    groups = sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in groups] == ["mlops-models"]


def _key_policy_from_readme() -> dict[str, Any]:
    """The key policy the README tells an installation with stage accounts to use."""
    import re

    from tests.support.iam import ROOT

    block = re.search(r"<!-- key-policy -->\s*```json\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "the README shows no key policy"
    text = block.group(1)
    for placeholder, account in (("ORCHESTRATOR", "123456789012"), ("DEV", "111111111111"),
                                 ("STAGING", "222222222222"), ("PROD", "333333333333")):  # fmt: skip
        text = text.replace(f"<{placeholder}_ACCOUNT_ID>", account)
    return dict(json.loads(text))


@pytest.mark.parametrize(
    ("policy", "stage_accounts", "missing"),
    [
        ("default", [], "events.amazonaws.com"),
        ("readme", ["111111111111", "222222222222", "333333333333"], ""),
        ("readme", ["111111111111", "222222222222", "444444444444"], "444444444444"),
        ("no-account", [], "arn:aws:iam::123456789012:root"),
    ],
)
def test_the_install_stops_on_a_key_policy_that_would_lose_notifications(
    s3: Any, responses: Responses, moto_url: str, policy: str, stage_accounts: list[str], missing: str
) -> None:
    # EventBridge publishes job and pipeline events to the encrypted topic; without a key-policy
    # grant AWS drops them silently. IAM policies grant nothing on a key that does not defer to
    # the account. Neither shows in the emulator, so the install checks the policy itself.
    kms = boto3.client("kms", endpoint_url=moto_url, region_name="us-east-1")
    documents = {
        "readme": _key_policy_from_readme(),
        "no-account": {"Version": "2012-10-17", "Statement": _key_policy_from_readme()["Statement"][1:]},
    }
    key = kms.create_key(**({"Policy": json.dumps(documents[policy])} if policy in documents else {}))["KeyMetadata"]
    recorded = event("key_policy_check_create", responses)
    recorded["ResourceProperties"] = {
        **recorded["ResourceProperties"],
        "KeyArn": key["Arn"],
        "StageAccounts": stage_accounts,
    }
    installer.handler(recorded, None, s3=s3, kms=kms)
    [answer] = responses.received
    if missing:
        assert answer["Status"] == "FAILED" and missing in answer["Reason"], answer["Reason"]
        assert "add these statements" in answer["Reason"]
    else:
        assert answer["Status"] == "SUCCESS", answer["Reason"]


TRIVIAL = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})


@pytest.fixture
def cloudformation(moto_url: str) -> Any:
    return boto3.client("cloudformation", endpoint_url=moto_url, region_name="us-east-1")


def _control_plane(cloudformation: Any, going: bool) -> str:
    """The control-plane stack the custom resource belongs to, being deleted or not."""
    stack_id = str(cloudformation.create_stack(StackName="mlops-orchestrator", TemplateBody=TRIVIAL)["StackId"])
    if going:
        cloudformation.delete_stack(StackName=stack_id)
    return stack_id


@pytest.mark.parametrize("going", [True, False])
def test_the_uninstall_stops_while_a_pipeline_stack_exists(
    s3: Any, responses: Responses, cloudformation: Any, going: bool
) -> None:
    # The deploy role and its boundary go with the installation (a kept fixed-name role would
    # make the next install fail), so the installation must not go while pipelines need them.
    cloudformation.create_stack(
        StackName="mlops-pipeline-churn-byompipelinerealtimebuiltin-codepipeline", TemplateBody=TRIVIAL
    )
    cloudformation.create_stack(StackName="team-b-stack", TemplateBody=TRIVIAL)
    recorded = event("uninstall_guard_delete", responses, StackId=_control_plane(cloudformation, going))
    installer.handler(recorded, None, s3=s3, cloudformation=cloudformation)
    [answer] = responses.received
    if going:
        assert answer["Status"] == "FAILED", answer
        assert "mlops-pipeline-churn-byompipelinerealtimebuiltin-codepipeline" in answer["Reason"]
        assert "team-b-stack" not in answer["Reason"] and "delete the pipelines first" in answer["Reason"]
    else:
        # The resource is replaced or removed in an update: nothing is being uninstalled.
        assert answer["Status"] == "SUCCESS", answer


def test_the_uninstall_goes_on_once_no_pipeline_is_left(s3: Any, responses: Responses, cloudformation: Any) -> None:
    gone = cloudformation.create_stack(StackName="mlops-pipeline-old-codepipeline", TemplateBody=TRIVIAL)["StackId"]
    cloudformation.delete_stack(StackName=gone)
    recorded = event("uninstall_guard_delete", responses, StackId=_control_plane(cloudformation, True))
    installer.handler(recorded, None, s3=s3, cloudformation=cloudformation)
    assert responses.received[0]["Status"] == "SUCCESS", responses.received[0]


def test_the_uninstall_empties_the_blueprint_bucket_so_it_can_be_deleted(
    s3: Any, responses: Responses, cloudformation: Any
) -> None:
    installer.handler(event("blueprint_install_create", responses), None, s3=s3)
    s3.delete_object(Bucket=BUCKET, Key=f"{responses.received[0]['Data']['Prefix']}/manifest.json")  # a marker too
    assert s3.list_object_versions(Bucket=BUCKET).get("Versions")
    recorded = event("blueprint_bucket_cleanup_delete", responses, StackId=_control_plane(cloudformation, True))
    installer.handler(recorded, None, s3=s3, cloudformation=cloudformation)
    assert responses.received[1]["Status"] == "SUCCESS", responses.received[1]
    left = s3.list_object_versions(Bucket=BUCKET)
    assert not left.get("Versions") and not left.get("DeleteMarkers")
    s3.delete_bucket(Bucket=BUCKET)  # what CloudFormation does next; it fails on a bucket with versions


def test_an_update_keeps_the_blueprints(s3: Any, responses: Responses, cloudformation: Any) -> None:
    installer.handler(event("blueprint_install_create", responses), None, s3=s3)
    before = keys(s3)
    recorded = event("blueprint_bucket_cleanup_delete", responses, StackId=_control_plane(cloudformation, False))
    installer.handler(recorded, None, s3=s3, cloudformation=cloudformation)
    assert responses.received[1]["Status"] == "SUCCESS" and keys(s3) == before
