"""The invariant, request by request: the bundle a pipeline reads is the one its stack's last
successful update named; every 200 describes what is deployed; a loser of a race gets a 409.

Failures and races are made with botocore event hooks on the orchestrator's own clients
(``chalicelib.aws.client(...).meta.events``): a hook answers a call with the error AWS would
give, or runs a competing request at the moment the call is made.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.events import load_event
from tests.support.plane import Plane, post

REALTIME = "valid/byom_realtime_builtin"
PIPELINE_STACK = "mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin-codepipeline"
BUNDLES = "mlops_provisioned_pipelines/mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin/"
LEGACY = BUNDLES + "template.zip"


def body(instance: str = "ml.m5.large") -> dict[str, Any]:
    return {**load_event(REALTIME), "inference_instance": instance}


def stack_params(plane: Plane) -> dict[str, str]:
    described = plane.client("cloudformation").describe_stacks(StackName=PIPELINE_STACK)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}


def objects(plane: Plane) -> list[str]:
    listed = plane.client("s3").list_objects_v2(Bucket=plane.config.assets_bucket, Prefix=BUNDLES)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def deployed_request(plane: Plane) -> dict[str, Any]:
    """The request held by the bundle the pipeline stack names (which must exist)."""
    key = stack_params(plane)["TemplateZipFileName"]
    data = plane.client("s3").get_object(Bucket=plane.config.assets_bucket, Key=key)["Body"].read()
    return dict(json.loads(zipfile.ZipFile(io.BytesIO(data)).read("mlops-request.json")))


def stack_updates(plane: Plane) -> int:
    events = plane.client("cloudformation").describe_stack_events(StackName=PIPELINE_STACK)["StackEvents"]
    return len(
        [e for e in events if e["LogicalResourceId"] == PIPELINE_STACK and e["ResourceStatus"] == "UPDATE_COMPLETE"]
    )


def on_call(service: str, operation: str, action: Callable[[dict[str, Any]], None], times: int = 1) -> None:
    """Run ``action(params)`` as the orchestrator makes its next ``times`` ``operation`` calls."""
    from chalicelib import aws

    left = [times]

    def hook(params: dict[str, Any], **_: Any) -> None:
        if left[0] > 0:
            left[0] -= 1
            action(params)

    aws.client(service).meta.events.register(f"before-parameter-build.{service}.{operation}", hook)


def refuse(operation: str, code: str, message: str) -> Callable[[dict[str, Any]], None]:
    def action(_: dict[str, Any]) -> None:
        raise ClientError(
            {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}, operation
        )

    return action


def test_a_failed_update_leaves_the_old_bundle_and_the_next_request_repairs_and_runs(api: Any, plane: Plane) -> None:
    """The bundle is written before UpdateStack; when UpdateStack fails, the stack must still
    read its old bundle, and a resubmission must update the stack (which runs the pipeline)."""
    assert post(api, "/provisionpipeline", body())[0] == 200
    on_call("cloudformation", "UpdateStack", refuse("UpdateStack", "Throttling", "Rate exceeded"))
    status, failed = post(api, "/provisionpipeline", body("ml.m5.xlarge"))
    assert status >= 500, failed
    assert deployed_request(plane)["inference_instance"] == "ml.m5.large"  # the stack still reads the old one
    assert stack_updates(plane) == 0

    status, repaired = post(api, "/provisionpipeline", body("ml.m5.xlarge"))
    assert (status, repaired["action"]) == (200, "updated"), repaired
    assert repaired["changes"] == [{"field": "inference_instance", "old": "ml.m5.large", "new": "ml.m5.xlarge"}]
    assert deployed_request(plane)["inference_instance"] == "ml.m5.xlarge"
    assert stack_updates(plane) == 1  # an update of the pipeline stack: CodePipeline runs the new bundle
    assert post(api, "/provisionpipeline", body("ml.m5.xlarge"))[1]["action"] == "unchanged"


def test_an_update_refused_because_another_runs_is_a_409_and_changes_nothing(api: Any, plane: Plane) -> None:
    post(api, "/provisionpipeline", body())
    arn = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{PIPELINE_STACK}/x"
    busy = f"Stack:{arn} is in UPDATE_IN_PROGRESS state and can not be updated."
    on_call("cloudformation", "UpdateStack", refuse("UpdateStack", "ValidationError", busy))
    status, lost = post(api, "/provisionpipeline", body("ml.m5.xlarge"))
    assert (status, lost["stack_status"]) == (409, "UPDATE_IN_PROGRESS"), lost
    assert deployed_request(plane)["inference_instance"] == "ml.m5.large"


def test_the_loser_of_two_creations_with_different_bodies_gets_a_409(api: Any, plane: Plane) -> None:
    from chalice.test import Client

    from app import app

    def other_request_first(_: dict[str, Any]) -> None:
        with Client(app) as other:
            assert post(other, "/provisionpipeline", body("ml.m5.2xlarge"))[1]["action"] == "created"

    on_call("cloudformation", "CreateStack", other_request_first)
    status, lost = post(api, "/provisionpipeline", body())
    assert status == 409, lost
    assert deployed_request(plane)["inference_instance"] == "ml.m5.2xlarge"  # the winner's, intact


def test_the_loser_of_two_identical_creations_answers_unchanged(api: Any, plane: Plane) -> None:
    from chalice.test import Client

    from app import app

    def other_request_first(_: dict[str, Any]) -> None:
        with Client(app) as other:
            assert post(other, "/provisionpipeline", body())[1]["action"] == "created"

    on_call("cloudformation", "CreateStack", other_request_first)
    status, second = post(api, "/provisionpipeline", body())
    assert (status, second["action"]) == (200, "unchanged"), second
    assert len(objects(plane)) == 1


def test_a_changed_body_whose_old_bundle_cannot_be_read_says_why_changes_are_missing(api: Any, plane: Plane) -> None:
    post(api, "/provisionpipeline", body())
    old = stack_params(plane)["TemplateZipFileName"]

    def deny_old_bundle(params: dict[str, Any]) -> None:
        if params.get("Key") == old:
            refuse("GetObject", "AccessDenied", "Access Denied")(params)

    on_call("s3", "GetObject", deny_old_bundle, times=2)
    status, preview = post(api, "/provisionpipeline", {**body("ml.m5.xlarge"), "dry_run": True})
    assert (status, preview["action"]) == (200, "update"), preview
    assert "changes" not in preview and "AccessDenied" in preview["changes_unavailable"]
    status, answer = post(api, "/provisionpipeline", body("ml.m5.xlarge"))
    assert (status, answer["action"]) == (200, "updated"), answer
    assert "changes" not in answer
    assert old in answer["changes_unavailable"] and "AccessDenied" in answer["changes_unavailable"]
    assert deployed_request(plane)["inference_instance"] == "ml.m5.xlarge"


def test_a_pipeline_on_the_older_template_zip_keeps_working_and_moves_on_its_next_change(
    api: Any, plane: Plane
) -> None:
    """Pipelines made before bundles were named by content name ``template.zip``."""
    make_legacy(api, plane)
    status, again = post(api, "/provisionpipeline", body())
    assert (status, again["action"]) == (200, "unchanged"), again  # the same bundle under its older name
    assert stack_params(plane)["TemplateZipFileName"] == LEGACY

    status, moved = post(api, "/provisionpipeline", body("ml.m5.xlarge"))
    assert (status, moved["action"]) == (200, "updated"), moved
    assert moved["changes"] == [{"field": "inference_instance", "old": "ml.m5.large", "new": "ml.m5.xlarge"}]
    assert stack_params(plane)["TemplateZipFileName"] != LEGACY
    assert deployed_request(plane)["inference_instance"] == "ml.m5.xlarge"


def make_legacy(api: Any, plane: Plane) -> None:
    """A pipeline whose stack names ``template.zip``, as releases before content-named bundles made it."""
    post(api, "/provisionpipeline", body())
    s3, cfn = plane.client("s3"), plane.client("cloudformation")
    key = stack_params(plane)["TemplateZipFileName"]
    held = s3.get_object(Bucket=plane.config.assets_bucket, Key=key)
    s3.put_object(Bucket=plane.config.assets_bucket, Key=LEGACY, Body=held["Body"].read(), Metadata=held["Metadata"])
    s3.delete_object(Bucket=plane.config.assets_bucket, Key=key)
    params = {**stack_params(plane), "TemplateZipFileName": LEGACY}
    cfn.update_stack(
        StackName=PIPELINE_STACK,
        UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM"],
    )


def test_local_mode_runs_a_pipeline_when_codepipeline_would(api: Any, plane: Plane) -> None:
    """On creation and after each update that names another bundle, an earlier one included."""
    from mlops_local.executor import Restarts

    restarts, cfn = Restarts(), plane.client("cloudformation")

    def due() -> bool:
        return restarts.due(cfn, cfn.describe_stacks(StackName=PIPELINE_STACK)["Stacks"][0])

    post(api, "/provisionpipeline", body())
    assert (due(), due()) == (True, False)
    assert post(api, "/provisionpipeline", body())[1]["action"] == "unchanged"
    assert due() is False
    assert post(api, "/provisionpipeline", body("ml.m5.xlarge"))[1]["action"] == "updated"
    assert (due(), due()) == (True, False)
    assert post(api, "/provisionpipeline", body())[1]["action"] == "updated"  # back to the first bundle
    assert due() is True


# --- the dry run and apply decide alike, in every state of the pipeline stack -----------------


def _failed_update(api: Any, plane: Plane) -> None:
    post(api, "/provisionpipeline", body())
    on_call("cloudformation", "UpdateStack", refuse("UpdateStack", "Throttling", "Rate exceeded"))
    assert post(api, "/provisionpipeline", body("ml.m5.xlarge"))[0] >= 500
    plane.set_stack_status(PIPELINE_STACK, "UPDATE_ROLLBACK_COMPLETE")


def _being_deleted(api: Any, plane: Plane) -> None:
    from chalicelib import aws

    post(api, "/provisionpipeline", body())
    deployed = PIPELINE_STACK.removesuffix("-codepipeline")
    plane.client("cloudformation").create_stack(StackName=deployed, TemplateBody=EMPTY)
    cfn = aws.client("cloudformation")
    cfn.delete_stack = lambda **_: plane.set_stack_status(deployed, "DELETE_IN_PROGRESS") or {}
    try:
        assert api.http.delete(f"/pipelines/{PIPELINE_STACK}").status_code == 202
    finally:
        del cfn.delete_stack


EMPTY = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
STATES: dict[str, tuple[Callable[[Any, Plane], Any], str, tuple[int, str]]] = {
    # state: (how to reach it, the instance type asked for, (status, action) of apply)
    "absent": (lambda api, plane: None, "ml.m5.large", (200, "created")),
    "the same request deployed": (
        lambda api, plane: post(api, "/provisionpipeline", body()),
        "ml.m5.large",
        (200, "unchanged"),
    ),
    "another request deployed": (
        lambda api, plane: post(api, "/provisionpipeline", body()),
        "ml.m5.xlarge",
        (200, "updated"),
    ),
    "a new bundle behind the old stack": (_failed_update, "ml.m5.xlarge", (200, "updated")),
    "its creation failed": (
        lambda api, plane: (
            post(api, "/provisionpipeline", body()),
            plane.set_stack_status(PIPELINE_STACK, "ROLLBACK_COMPLETE"),
        ),
        "ml.m5.large",
        (202, "replacing"),
    ),
    "an update runs": (
        lambda api, plane: (
            post(api, "/provisionpipeline", body()),
            plane.set_stack_status(PIPELINE_STACK, "UPDATE_IN_PROGRESS"),
        ),
        "ml.m5.xlarge",
        (409, ""),
    ),
    "it needs an operator": (
        lambda api, plane: (
            post(api, "/provisionpipeline", body()),
            plane.set_stack_status(PIPELINE_STACK, "UPDATE_ROLLBACK_FAILED"),
        ),
        "ml.m5.xlarge",
        (409, ""),
    ),
    "it is being deleted": (_being_deleted, "ml.m5.xlarge", (409, "")),
    "the same request under template.zip": (make_legacy, "ml.m5.large", (200, "unchanged")),
    "another request under template.zip": (make_legacy, "ml.m5.xlarge", (200, "updated")),
}
DRY_RUN_WORD = {"created": "create", "unchanged": "no-op", "updated": "update", "replacing": "replace"}


@pytest.mark.parametrize("state", list(STATES))
def test_the_dry_run_and_apply_agree(api: Any, plane: Plane, state: str) -> None:
    reach, instance, expected = STATES[state]
    reach(api, plane)
    status, preview = post(api, "/provisionpipeline", {**body(instance), "dry_run": True})
    response = api.http.post(
        "/provisionpipeline", body=json.dumps(body(instance)), headers={"Content-Type": "application/json"}
    )
    applied = json.loads(response.body)
    assert (response.status_code, applied.get("action", "")) == expected, applied
    if expected[0] == 409:
        assert status == 409 and preview["message"] == applied["message"], preview
    else:
        assert (status, preview["action"]) == (200, DRY_RUN_WORD[applied["action"]]), preview
    if expected[0] == 200:
        assert deployed_request(plane)["inference_instance"] == instance  # the 200 describes what is deployed
