"""mlops-config.json uploads: provisioning, result objects, SNS on failure, event order."""

from __future__ import annotations

import json
from typing import Any

from tests.support.events import load_event
from tests.support.plane import Plane

KEY = "team-a/mlops-config.json"
RESULT = "team-a/mlops-config.result.json"
BUNDLES = "mlops_provisioned_pipelines/mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin/"


def named_bundle(plane: Plane) -> str:
    """The bundle key the pipeline stack names (keys are named by their content)."""
    stack = plane.client("cloudformation").describe_stacks(StackName=BUNDLES.split("/")[1] + "-codepipeline")
    return next(
        p["ParameterValue"] for p in stack["Stacks"][0]["Parameters"] if p["ParameterKey"] == "TemplateZipFileName"
    )


def upload(plane: Plane, body: Any, key: str = KEY) -> str:
    data = body if isinstance(body, str) else json.dumps(body)
    put = plane.client("s3").put_object(Bucket=plane.config.config_bucket, Key=key, Body=data.encode())
    return str(put["VersionId"])


def deliver(api: Any, plane: Plane, key: str = KEY) -> Any:
    event = api.events.generate_s3_event(bucket=plane.config.config_bucket, key=key)
    return api.lambda_.invoke("on_config_upload", event).payload


def result(plane: Plane, key: str = RESULT) -> dict[str, Any]:
    body = plane.client("s3").get_object(Bucket=plane.config.config_bucket, Key=key)["Body"].read()
    return json.loads(body)


def test_a_valid_config_provisions_and_records_the_result(api: Any, plane: Plane) -> None:
    version = upload(plane, load_event("valid/byom_realtime_builtin"))
    deliver(api, plane)
    recorded = result(plane)
    assert recorded["outcome"] == "provisioned"
    assert recorded["config_version_id"] == version
    assert recorded["config"] == f"s3://{plane.config.config_bucket}/{KEY}"
    assert recorded["pipeline_id"].startswith("arn:aws:cloudformation:")
    assert len(plane.stacks()) == 1


def test_a_bad_config_names_the_field_and_notifies(api: Any, plane: Plane) -> None:
    sqs = plane.client("sqs")
    queue = sqs.create_queue(QueueName="watch")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    plane.client("sns").subscribe(TopicArn=plane.config.topic_arn, Protocol="sqs", Endpoint=queue_arn)
    body = load_event("valid/byom_realtime_builtin")
    body["inference_instance"] = "large"
    upload(plane, body)
    deliver(api, plane)
    recorded = result(plane)
    assert recorded["outcome"] == "failed" and recorded["status"] == 400
    assert recorded["errors"][0]["field"] == "inference_instance"
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert "inference_instance" in json.loads(messages[0]["Body"])["Message"]
    assert plane.stacks() == []


def test_malformed_json_is_recorded_not_raised(api: Any, plane: Plane) -> None:
    upload(plane, '{"pipeline_type": ')
    deliver(api, plane)
    recorded = result(plane)
    assert recorded["outcome"] == "failed" and recorded["errors"][0]["field"] == "body"


def test_a_duplicate_event_changes_nothing(api: Any, plane: Plane) -> None:
    upload(plane, load_event("valid/byom_realtime_builtin"))
    deliver(api, plane)
    deliver(api, plane)
    assert len(plane.versions(plane.config.config_bucket, RESULT)) == 1
    assert result(plane)["outcome"] == "provisioned"
    assert (
        len(plane.client("s3").list_object_versions(Bucket=plane.config.assets_bucket, Prefix=BUNDLES)["Versions"]) == 1
    )


def test_an_older_event_does_not_undo_a_newer_config(api: Any, plane: Plane) -> None:
    first = load_event("valid/byom_realtime_builtin")
    old_event = api.events.generate_s3_event(bucket=plane.config.config_bucket, key=KEY)
    upload(plane, first)
    newer = {**first, "inference_instance": "ml.m5.xlarge"}
    new_version = upload(plane, newer)
    deliver(api, plane)  # the newer upload's event
    api.lambda_.invoke("on_config_upload", old_event)  # the first upload's event, late
    recorded = result(plane)
    assert recorded["config_version_id"] == new_version
    import io
    import zipfile

    data = plane.client("s3").get_object(Bucket=plane.config.assets_bucket, Key=named_bundle(plane))["Body"].read()
    request = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("mlops-request.json"))
    assert request["inference_instance"] == "ml.m5.xlarge"


def test_keys_arrive_url_encoded(api: Any, plane: Plane) -> None:
    key = "team b/mlops-config.json"
    upload(plane, load_event("valid/byom_realtime_builtin"), key=key)
    event = api.events.generate_s3_event(bucket=plane.config.config_bucket, key="team+b/mlops-config.json")
    api.lambda_.invoke("on_config_upload", event)
    assert result(plane, "team b/mlops-config.result.json")["outcome"] == "provisioned"


def test_test_events_and_other_keys_are_ignored(api: Any, plane: Plane) -> None:
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": plane.config.config_bucket}
    assert api.lambda_.invoke("on_config_upload", test_event).payload == []
    upload(plane, load_event("valid/byom_realtime_builtin"), key="notes/readme.json")
    assert deliver(api, plane, key="notes/readme.json") == []
    assert plane.stacks() == []


def test_a_handler_that_applies_an_old_version_late_reapplies_the_newest(
    api: Any, plane: Plane, monkeypatch: Any
) -> None:
    """Handler A reads v1; meanwhile v2 is uploaded and handled in full; then A applies v1."""
    import io
    import zipfile

    from chalicelib import config_trigger

    first = load_event("valid/byom_realtime_builtin")
    newer = {**first, "inference_instance": "ml.m5.xlarge"}
    upload(plane, first)
    real_read = config_trigger._read_latest
    calls = {"n": 0}

    def interleaved(bucket: str, key: str) -> Any:
        calls["n"] += 1
        held = real_read(bucket, key)
        if calls["n"] == 1:  # handler A now holds v1; handler B uploads and applies v2 in full
            upload(plane, newer)
            config_trigger.process(bucket, key, plane.settings())
        return held

    monkeypatch.setattr(config_trigger, "_read_latest", interleaved)
    deliver(api, plane)
    data = plane.client("s3").get_object(Bucket=plane.config.assets_bucket, Key=named_bundle(plane))["Body"].read()
    request = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("mlops-request.json"))
    assert request["inference_instance"] == "ml.m5.xlarge"
    versions = plane.versions(plane.config.config_bucket, KEY)
    newest = next(v["VersionId"] for v in versions if v["IsLatest"])
    assert result(plane)["config_version_id"] == newest


def test_a_dry_run_config_records_the_preview_and_creates_nothing(api: Any, plane: Plane) -> None:
    upload(plane, {**load_event("valid/byom_realtime_builtin"), "dry_run": True})
    deliver(api, plane)
    recorded = result(plane)
    assert (recorded["outcome"], recorded["action"]) == ("dry run", "create")
    assert plane.stacks() == []
    assert plane.client("s3").list_objects_v2(Bucket=plane.config.assets_bucket).get("KeyCount", 0) == 0


def test_a_model_card_config_is_carried_out(api: Any, plane: Plane) -> None:
    upload(plane, load_event("model_cards/create_model_card"))
    deliver(api, plane)
    assert result(plane)["outcome"] == "created"
    cards = plane.client("sagemaker").list_model_cards()["ModelCardSummaries"]
    assert [c["ModelCardName"] for c in cards] == ["churn-xgboost-card"]


PIPELINE_STACK = "mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin-codepipeline"


def test_a_config_for_a_failed_creation_waits_for_the_delete_then_creates(api: Any, plane: Plane) -> None:
    upload(plane, load_event("valid/byom_realtime_builtin"))
    deliver(api, plane)
    first = result(plane)["pipeline_id"]
    plane.set_stack_status(PIPELINE_STACK, "ROLLBACK_COMPLETE")
    body = load_event("valid/byom_realtime_builtin")
    body["inference_instance"] = "ml.m5.xlarge"
    upload(plane, body)
    deliver(api, plane)
    recorded = result(plane)
    assert recorded["outcome"] == "provisioned" and recorded["action"] == "created", recorded
    assert "ROLLBACK_COMPLETE" in recorded["replaced"]
    assert recorded["pipeline_id"] != first
    assert [(s["StackName"], s["StackStatus"]) for s in plane.stacks()] == [(PIPELINE_STACK, "CREATE_COMPLETE")]


def test_a_config_whose_failed_stack_is_still_deleting_fails_the_invocation_so_lambda_retries(
    api: Any, plane: Plane, monkeypatch: Any
) -> None:
    import pytest

    from chalicelib import aws, config_trigger

    upload(plane, load_event("valid/byom_realtime_builtin"))
    deliver(api, plane)
    before = result(plane)
    plane.set_stack_status(PIPELINE_STACK, "ROLLBACK_COMPLETE")
    monkeypatch.setattr(config_trigger, "REPLACEMENT_WAIT_SECONDS", 0)
    cfn = aws.client("cloudformation")
    cfn.delete_stack = lambda **_: plane.set_stack_status(PIPELINE_STACK, "DELETE_IN_PROGRESS") or {}
    try:
        with pytest.raises(config_trigger.RetryLater, match="being deleted"):
            deliver(api, plane)
    finally:
        del cfn.delete_stack
    assert result(plane) == before  # no result recorded for a config that was not applied
    plane.client("cloudformation").delete_stack(StackName=PIPELINE_STACK)  # the delete finishes
    deliver(api, plane)  # Lambda's retry of the same event
    assert result(plane)["outcome"] == "provisioned"
    assert [s["StackStatus"] for s in plane.stacks()] == ["CREATE_COMPLETE"]


def test_the_creator_tag_is_a_valid_tag_value_whatever_the_config_key(api: Any, plane: Plane) -> None:
    """Tag values take letters, digits, spaces and _ . : / = + - @ (at most 256); moto checks none of it."""
    import re

    key = "team (a)/é#1/" + "x" * 250 + "/mlops-config.json"
    upload(plane, load_event("valid/byom_realtime_builtin"), key=key)
    deliver(api, plane, key=key)
    [stack] = plane.stacks()
    tags = {t["Key"]: t["Value"] for t in plane.client("cloudformation").describe_stacks(
        StackName=stack["StackName"])["Stacks"][0]["Tags"]}  # fmt: skip
    creator = tags["mlops:created-by"]
    assert re.fullmatch(r"[A-Za-z0-9 _.:/=+\-@]{1,256}", creator), creator
    assert creator.startswith(f"s3://{plane.config.config_bucket}/team _a_/__1/")
