"""Config uploads under AWS faults: a failure that passes makes the handler raise, so Lambda
delivers the event again, and that redelivery records the right outcome for the right version.

Faults are injected with botocore event hooks on the orchestrator's own clients
(``tests.support.faults.fault``), once, into the first matching call; the emulator sees nothing of
a fault raised before the send, and the whole call of one raised after it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.events import load_event
from tests.support.faults import ACCESS_DENIED, SERVER_ERROR, THROTTLE, TIMEOUT_AFTER, TIMEOUT_BEFORE, Fault, fault
from tests.support.plane import Plane

KEY = "team-a/mlops-config.json"
RESULT = "team-a/mlops-config.result.json"
PIPELINE_STACK = "mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin-codepipeline"

KINDS = (THROTTLE, SERVER_ERROR, TIMEOUT_BEFORE, TIMEOUT_AFTER)


def upload(plane: Plane, body: Any) -> str:
    put = plane.client("s3").put_object(Bucket=plane.config.config_bucket, Key=KEY, Body=json.dumps(body).encode())
    return str(put["VersionId"])


def deliver(api: Any, plane: Plane) -> Any:
    event = api.events.generate_s3_event(bucket=plane.config.config_bucket, key=KEY)
    return api.lambda_.invoke("on_config_upload", event).payload


def recorded(plane: Plane) -> dict[str, Any] | None:
    try:
        body = plane.client("s3").get_object(Bucket=plane.config.config_bucket, Key=RESULT)["Body"].read()
    except Exception:
        return None
    return dict(json.loads(body))


def stacks(plane: Plane) -> list[tuple[str, str]]:
    return [(s["StackName"], s["StackStatus"]) for s in plane.stacks()]


def bundle_request(plane: Plane) -> dict[str, Any]:
    """The request the pipeline's bundle holds: the one its stack names."""
    import io
    import zipfile

    stack = plane.client("cloudformation").describe_stacks(StackName=PIPELINE_STACK)["Stacks"][0]
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    data = plane.client("s3").get_object(Bucket=params["AssetsBucket"], Key=params["TemplateZipFileName"])["Body"]
    return dict(json.loads(zipfile.ZipFile(io.BytesIO(data.read())).read("mlops-request.json")))


# Every call a first upload makes, named by operation and something only that call sends.
CREATE_CALLS = {
    "read the config": ("s3", "GetObject", "mlops-config.json"),
    "read the result": ("s3", "HeadObject", "result.json"),
    "read the blueprint": ("s3", "GetObject", "mlops-blueprints-"),
    "read the stack": ("cloudformation", "DescribeStacks", ""),
    "write the bundle": ("s3", "PutObject", "mlops-assets-"),
    "create the stack": ("cloudformation", "CreateStack", ""),
    "write the result": ("s3", "PutObject", "result.json"),
}


@pytest.mark.parametrize("kind", KINDS, ids=lambda f: f.name)
@pytest.mark.parametrize("call", sorted(CREATE_CALLS))
def test_a_passing_fault_while_creating_raises_and_the_redelivery_records_the_creation(
    api: Any, plane: Plane, call: str, kind: Fault
) -> None:
    version = upload(plane, load_event("valid/byom_realtime_builtin"))
    with fault(*CREATE_CALLS[call], kind) as tap, pytest.raises(Exception):  # noqa: B017 (any error: Lambda retries)
        deliver(api, plane)
    assert tap.fired == 1, f"the handler never made the call to {call}"
    failed = recorded(plane)
    assert failed is None or failed["outcome"] != "failed", failed  # nothing recorded as the config's fault
    deliver(api, plane)  # Lambda's retry of the same event
    result = recorded(plane)
    assert result is not None
    assert (result["outcome"], result["action"], result["config_version_id"]) == ("provisioned", "created", version)
    assert stacks(plane) == [(PIPELINE_STACK, "CREATE_COMPLETE")]


UPDATE_CALLS = {
    "read the config": ("s3", "GetObject", "mlops-config.json"),
    "read the stack": ("cloudformation", "DescribeStacks", ""),
    "write the bundle": ("s3", "PutObject", "mlops-assets-"),
    "update the stack": ("cloudformation", "UpdateStack", ""),
    "write the result": ("s3", "PutObject", "result.json"),
}


@pytest.mark.parametrize("kind", KINDS, ids=lambda f: f.name)
@pytest.mark.parametrize("call", sorted(UPDATE_CALLS))
def test_a_passing_fault_while_updating_raises_and_the_redelivery_records_the_update(
    api: Any, plane: Plane, call: str, kind: Fault
) -> None:
    first = load_event("valid/byom_realtime_builtin")
    upload(plane, first)
    deliver(api, plane)
    version = upload(plane, {**first, "inference_instance": "ml.m5.xlarge"})
    with fault(*UPDATE_CALLS[call], kind) as tap, pytest.raises(Exception):  # noqa: B017 (any error: Lambda retries)
        deliver(api, plane)
    assert tap.fired == 1, f"the handler never made the call to {call}"
    deliver(api, plane)  # Lambda's retry of the same event
    result = recorded(plane)
    assert result is not None
    assert (result["outcome"], result["action"], result["config_version_id"]) == ("provisioned", "updated", version)
    assert bundle_request(plane)["inference_instance"] == "ml.m5.xlarge"


def test_a_duplicate_event_after_a_redelivered_creation_records_nothing_new(api: Any, plane: Plane) -> None:
    version = upload(plane, load_event("valid/byom_realtime_builtin"))
    with fault(*CREATE_CALLS["write the result"], THROTTLE), pytest.raises(Exception):  # noqa: B017
        deliver(api, plane)
    deliver(api, plane)
    deliver(api, plane)  # S3 delivers at least once
    versions = plane.versions(plane.config.config_bucket, RESULT)
    assert len(versions) == 1
    result = recorded(plane)
    assert result is not None and (result["outcome"], result["config_version_id"]) == ("provisioned", version)


def test_an_upload_of_the_same_config_again_is_unchanged(api: Any, plane: Plane) -> None:
    """The credit for an earlier attempt's change goes only to a version that made one."""
    body = load_event("valid/byom_realtime_builtin")
    upload(plane, body)
    deliver(api, plane)
    again = upload(plane, body)
    deliver(api, plane)
    result = recorded(plane)
    assert result is not None
    assert (result["outcome"], result["action"], result["config_version_id"]) == ("unchanged", "unchanged", again)


def test_an_access_denied_is_not_recorded_as_the_configs_fault(api: Any, plane: Plane) -> None:
    """An installation that may not read its blueprints: the event goes to the dead-letter queue
    after Lambda's retries, to be sent again once the role is fixed."""
    version = upload(plane, load_event("valid/byom_realtime_builtin"))
    with fault(*CREATE_CALLS["read the blueprint"], ACCESS_DENIED), pytest.raises(Exception, match="AccessDenied"):
        deliver(api, plane)
    assert recorded(plane) is None
    deliver(api, plane)
    result = recorded(plane)
    assert result is not None and (result["outcome"], result["config_version_id"]) == ("provisioned", version)


def test_a_config_for_a_stack_that_is_updating_raises_and_applies_once_the_update_ends(api: Any, plane: Plane) -> None:
    first = load_event("valid/byom_realtime_builtin")
    upload(plane, first)
    deliver(api, plane)
    version = upload(plane, {**first, "inference_instance": "ml.m5.xlarge"})
    plane.set_stack_status(PIPELINE_STACK, "UPDATE_IN_PROGRESS")
    with pytest.raises(Exception, match="UPDATE_IN_PROGRESS"):
        deliver(api, plane)
    assert (recorded(plane) or {}).get("outcome") == "provisioned"  # still the first version's
    plane.set_stack_status(PIPELINE_STACK, "UPDATE_COMPLETE")
    deliver(api, plane)
    result = recorded(plane)
    assert result is not None
    assert (result["outcome"], result["action"], result["config_version_id"]) == ("provisioned", "updated", version)


def test_a_config_for_a_stack_that_needs_an_operator_records_a_409_and_names_the_version_in_effect(
    api: Any, plane: Plane
) -> None:
    first = load_event("valid/byom_realtime_builtin")
    in_effect = upload(plane, first)
    deliver(api, plane)
    version = upload(plane, {**first, "inference_instance": "ml.m5.xlarge"})
    plane.set_stack_status(PIPELINE_STACK, "UPDATE_ROLLBACK_FAILED")
    deliver(api, plane)  # returns: a retry cannot help until an operator acts
    result = recorded(plane)
    assert result is not None
    assert (result["outcome"], result["status"], result["config_version_id"]) == ("failed", 409, version)
    assert "needs an operator" in result["message"]
    assert result["version_in_effect"] == in_effect


def test_a_refused_config_names_the_version_still_in_effect(api: Any, plane: Plane) -> None:
    first = load_event("valid/byom_realtime_builtin")
    in_effect = upload(plane, first)
    deliver(api, plane)
    refused = upload(plane, {**first, "inference_instance": "large"})
    deliver(api, plane)
    result = recorded(plane)
    assert result is not None
    assert (result["outcome"], result["status"], result["config_version_id"]) == ("failed", 400, refused)
    assert result["version_in_effect"] == in_effect


@pytest.mark.parametrize("kind", [THROTTLE, TIMEOUT_AFTER], ids=lambda f: f.name)
def test_a_first_upload_that_updated_a_pipeline_made_over_http_is_credited_on_redelivery(
    api: Any, plane: Plane, kind: Fault
) -> None:
    """No result records this config yet, so the credit comes from when the bundle was written."""
    first = load_event("valid/byom_realtime_builtin")
    created = api.http.post("/provisionpipeline", body=json.dumps(first), headers={"Content-Type": "application/json"})
    assert created.status_code == 200, created.body
    version = upload(plane, {**first, "inference_instance": "ml.m5.xlarge"})
    with fault(*UPDATE_CALLS["write the result"], kind), pytest.raises(Exception):  # noqa: B017
        deliver(api, plane)
    deliver(api, plane)
    result = recorded(plane)
    assert result is not None
    assert (result["outcome"], result["action"], result["config_version_id"]) == ("provisioned", "updated", version)
