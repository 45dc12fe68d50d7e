"""ExistingConfigBucket: the installation watches a team's bucket for mlops-config.json instead of
creating one, as the original solution's config-bucket parameter did.

SAM's S3 event takes only a bucket of its own template, so the installer function writes the
existing bucket's notification (keeping its others) after the permission that lets S3 invoke the
config handler; real S3 checks that permission when the notification is written and refuses a
notification that overlaps another, which moto does not: both are asserted here.
"""

from __future__ import annotations

import urllib.request
from typing import Any

import boto3
import pytest

from blueprints import installer
from tests.support.iam import Resolver, allows, load
from tests.support.templates import deploy_control_plane

TEAM = "team-configs"
CREATED = ("ConfigBucket", "ConfigBucketPolicy", "ConfigBucketCleanup")
FOR_EXISTING = ("ExistingConfigBucketPermission", "ExistingConfigBucketNotifications")


def test_without_the_parameter_the_config_bucket_is_created() -> None:
    plane = Resolver(load())
    assert all(plane.present(name) for name in CREATED)
    assert not any(plane.present(name) for name in FOR_EXISTING)


def test_an_existing_config_bucket_is_watched_instead_of_creating_one() -> None:
    plane = Resolver(load(), ExistingConfigBucket=TEAM)
    assert not any(plane.present(name) for name in CREATED)
    assert all(plane.present(name) for name in FOR_EXISTING)
    template = load()
    env = plane.resolve(template["Globals"]["Function"]["Environment"]["Variables"])
    assert env["CONFIG_BUCKET"] == TEAM
    assert plane.resolve(template["Outputs"]["ConfigBucket"]["Value"]) == TEAM
    notification = plane.resolve(plane.resources["ExistingConfigBucketNotifications"])
    assert notification["Properties"]["BucketName"] == TEAM
    assert notification["Properties"]["Suffix"] == "mlops-config.json"
    # S3 tests the destination when the notification is written: the permission must exist first.
    assert notification["DependsOn"] == "ExistingConfigBucketPermission"
    permission = plane.resolve(plane.resources["ExistingConfigBucketPermission"]["Properties"])
    assert permission["Principal"] == "s3.amazonaws.com"
    assert permission["SourceArn"] == f"arn:aws:s3:::{TEAM}"
    assert permission["FunctionName"] == "<ConfigHandlerFunction>"


def test_the_roles_reach_the_existing_bucket() -> None:
    plane = Resolver(load(), ExistingConfigBucket=TEAM)
    orchestrator = plane.role_statements("OrchestratorFunctionRole")
    for action in ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"):
        assert allows(orchestrator, action, f"arn:aws:s3:::{TEAM}/mlops-config.json"), action
    assert allows(orchestrator, "s3:ListBucket", f"arn:aws:s3:::{TEAM}")
    installer_role = plane.role_statements("BlueprintInstallerRole")
    for action in ("s3:GetBucketNotification", "s3:PutBucketNotification"):
        assert allows(installer_role, action, f"arn:aws:s3:::{TEAM}"), action
    # ... and no one's notifications but the named bucket's
    assert not allows(installer_role, "s3:PutBucketNotification", "arn:aws:s3:::someone-elses")
    assert not allows(Resolver(load()).role_statements("BlueprintInstallerRole"), "s3:PutBucketNotification", "*")


def test_the_uninstall_guard_still_goes_first_with_either_bucket() -> None:
    # A DependsOn on a resource that is not created keeps the dependent from being created too:
    # the guard refers to the config bucket's resources through its properties instead.
    for overrides, expected in (({}, CREATED), ({"ExistingConfigBucket": TEAM}, FOR_EXISTING)):
        plane = Resolver(load(), **overrides)
        assert plane.present("UninstallGuard")
        depends = plane.resources["UninstallGuard"]["DependsOn"]
        assert all(plane.present(name) for name in depends), overrides
        referenced = str(plane.resolve(plane.resources["UninstallGuard"]["Properties"]))
        assert all(f"<{name}>" in referenced for name in expected), overrides


# --- the installer writing the existing bucket's notification (moto) --------------------------

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:mlops-orchestrator-ConfigHandler"
OURS = "mlops-orchestrator-config-upload"


@pytest.fixture
def s3(moto_url: str) -> Any:
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()
    client = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    client.create_bucket(Bucket=TEAM)
    return client


@pytest.fixture
def queue_arn(moto_url: str, s3: Any) -> str:
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1")
    url = sqs.create_queue(QueueName="team-csv-arrivals")["QueueUrl"]
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the custom resource answered CloudFormation (status and reason)."""
    sent: list[dict[str, Any]] = []

    def respond(event: Any, status: str, physical_id: str, data: Any, reason: str = "") -> None:
        sent.append({"Status": status, "PhysicalResourceId": physical_id, "Reason": reason})

    monkeypatch.setattr(installer, "respond", respond)
    return sent


def event(request_type: str, bucket: str = TEAM) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResourceType": "AWS::CloudFormation::CustomResource",
        "LogicalResourceId": "ExistingConfigBucketNotifications",
        "PhysicalResourceId": bucket,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/mlops-orchestrator/1",
        "RequestId": "r-1",
        "ResponseURL": "https://cloudformation-custom-resource-response.example/",
        "ResourceProperties": {
            "Action": "config-bucket-notifications",
            "BucketName": bucket,
            "FunctionArn": FUNCTION,
            "NotificationId": OURS,
            "Suffix": "mlops-config.json",
        },
    }


def team_notifications(s3: Any, queue_arn: str) -> dict[str, Any]:
    config = {
        "QueueConfigurations": [
            {
                "Id": "csv-arrivals",
                "QueueArn": queue_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}},
            }
        ],
    }
    s3.put_bucket_notification_configuration(Bucket=TEAM, NotificationConfiguration=config)
    return config


def current(s3: Any) -> dict[str, Any]:
    found = s3.get_bucket_notification_configuration(Bucket=TEAM)
    found.pop("ResponseMetadata", None)
    return dict(found)


def test_the_notification_is_added_beside_the_buckets_others(
    s3: Any, queue_arn: str, answers: list[dict[str, Any]]
) -> None:
    team_notifications(s3, queue_arn)
    installer.handler(event("Create"), None, s3=s3)
    installer.handler(event("Update"), None, s3=s3)  # an update writes it again, once
    assert [a["Status"] for a in answers] == ["SUCCESS", "SUCCESS"], answers
    found = current(s3)
    [ours] = found["LambdaFunctionConfigurations"]
    assert ours["Id"] == OURS and ours["LambdaFunctionArn"] == FUNCTION
    assert ours["Events"] == ["s3:ObjectCreated:*"]
    assert ours["Filter"]["Key"]["FilterRules"] == [{"Name": "suffix", "Value": "mlops-config.json"}]
    assert [q["Id"] for q in found["QueueConfigurations"]] == ["csv-arrivals"]


def test_a_bucket_sending_to_eventbridge_keeps_doing_so(answers: list[dict[str, Any]]) -> None:
    # moto drops EventBridgeConfiguration from its answer; S3 returns it, and a write without it
    # would switch the team's EventBridge delivery off.
    from botocore.stub import Stubber

    client = boto3.client("s3", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("get_bucket_notification_configuration", {"EventBridgeConfiguration": {}}, {"Bucket": TEAM})
        ours = {
            "Id": OURS,
            "LambdaFunctionArn": FUNCTION,
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": "mlops-config.json"}]}},
        }
        expected = {"EventBridgeConfiguration": {}, "LambdaFunctionConfigurations": [ours]}
        stub.add_response(
            "put_bucket_notification_configuration", {}, {"Bucket": TEAM, "NotificationConfiguration": expected}
        )
        installer.handler(event("Create"), None, s3=client)
        stub.assert_no_pending_responses()
    assert answers == [{"Status": "SUCCESS", "PhysicalResourceId": TEAM, "Reason": ""}]


def test_delete_removes_only_ours(s3: Any, queue_arn: str, answers: list[dict[str, Any]]) -> None:
    team_notifications(s3, queue_arn)
    installer.handler(event("Create"), None, s3=s3)
    installer.handler(event("Delete"), None, s3=s3)
    assert answers[-1]["Status"] == "SUCCESS", answers
    found = current(s3)
    assert not found.get("LambdaFunctionConfigurations")
    assert [q["Id"] for q in found["QueueConfigurations"]] == ["csv-arrivals"]
    installer.handler(event("Delete", bucket="deleted-before-the-stack"), None, s3=s3)
    assert answers[-1]["Status"] == "SUCCESS", answers


@pytest.mark.parametrize("their_suffix", ["", ".json", "config.json"])
def test_an_overlapping_notification_stops_the_install_naming_it(
    s3: Any, queue_arn: str, answers: list[dict[str, Any]], their_suffix: str
) -> None:
    rules = [{"Name": "suffix", "Value": their_suffix}] if their_suffix else []
    clash = {
        "Id": "everything-to-the-lake",
        "QueueArn": queue_arn,
        "Events": ["s3:ObjectCreated:Put"],
        **({"Filter": {"Key": {"FilterRules": rules}}} if rules else {}),
    }
    s3.put_bucket_notification_configuration(Bucket=TEAM, NotificationConfiguration={"QueueConfigurations": [clash]})
    before = current(s3)
    installer.handler(event("Create"), None, s3=s3)
    [answer] = answers
    assert answer["Status"] == "FAILED"
    assert "everything-to-the-lake" in answer["Reason"] and "overlap" in answer["Reason"]
    assert current(s3) == before  # nothing written


def test_a_notification_on_other_keys_or_events_does_not_clash() -> None:
    csv = {"Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}}}
    removed = {"Events": ["s3:ObjectRemoved:*"]}
    assert not installer.overlapping(csv, "mlops-config.json")
    assert not installer.overlapping(removed, "mlops-config.json")


# --- the control plane deployed into moto with an existing config bucket ---------------------


def test_the_control_plane_deploys_around_an_existing_config_bucket(moto_url: str) -> None:
    import json

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()
    session = boto3.session.Session(region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=moto_url)
    s3.create_bucket(Bucket=TEAM)
    cfn = session.client("cloudformation", endpoint_url=moto_url)
    deploy_control_plane(s3, cfn, {"ExistingConfigBucket": TEAM})
    stack = cfn.describe_stacks(StackName="mlops-orchestrator")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["ConfigBucket"] == TEAM
    assert not [b for b in s3.list_buckets()["Buckets"] if "-config-" in b["Name"]]
    functions = {f["Handler"]: f for f in session.client("lambda", endpoint_url=moto_url).list_functions()["Functions"]}
    assert functions["app.app"]["Environment"]["Variables"]["CONFIG_BUCKET"] == TEAM
    handler = functions["app.on_config_upload"]["FunctionName"]
    policy = json.loads(session.client("lambda", endpoint_url=moto_url).get_policy(FunctionName=handler)["Policy"])
    assert any(
        s["Principal"] == {"Service": "s3.amazonaws.com"}
        and s.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn") == f"arn:aws:s3:::{TEAM}"
        for s in policy["Statement"]
    ), policy
