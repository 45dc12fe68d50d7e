"""Lifecycle routes against the emulator: list (paginated, filtered), describe, delete, dry run,
and approvals (CodePipeline's approval calls, which moto lacks, answered by Stubber)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.stub import Stubber

from mlops_local.executor import Store, execute
from tests.support.events import load_event
from tests.support.plane import Plane, post


def get(api: Any, path: str) -> tuple[int, Any]:
    response = api.http.get(path)
    return response.status_code, json.loads(response.body)


def delete(api: Any, path: str) -> tuple[int, Any]:
    response = api.http.delete(path)
    return response.status_code, json.loads(response.body)


def named(event: str, name: str) -> dict[str, Any]:
    body = load_event(event)
    body["model_name"] = name
    body.pop("endpoint_name", None)
    return body


def emulator_state(plane: Plane) -> Any:
    """Everything the emulator holds, as its own API dumps it."""
    with urllib.request.urlopen(f"{plane.url}/moto-api/data.json") as answer:
        dumped = json.loads(answer.read())
    # Services appear in the dump once first touched, with nothing in them: only contents count.
    # S3's dump also counts the copies of objects that reads make, so S3 is compared by its
    # object versions below.
    data = {s: {k: v for k, v in models.items() if v} for s, models in dumped.items() if s != "s3"}
    data = {service: models for service, models in data.items() if models}
    s3 = plane.client("s3")
    objects = {
        b["Name"]: [
            (v["Key"], v["VersionId"], v["ETag"]) for v in s3.list_object_versions(Bucket=b["Name"]).get("Versions", [])
        ]
        for b in s3.list_buckets()["Buckets"]
    }
    return data, objects


def test_the_list_pages_and_filters(api: Any, plane: Plane) -> None:
    for name in ("alpha", "beta", "gamma"):
        assert post(api, "/provisionpipeline", named("valid/byom_realtime_builtin", name))[0] == 200
    assert post(api, "/provisionpipeline", named("valid/model_training_builtin", "delta"))[0] == 200
    status, first = get(api, "/pipelines?max_results=3")
    assert status == 200 and len(first["pipelines"]) == 3 and first["next_token"]
    _, second = get(api, f"/pipelines?max_results=3&next_token={first['next_token']}")
    names = [p["name"] for page in (first, second) for p in page["pipelines"]]
    assert names == sorted(names) and len(names) == 4 and "next_token" not in second
    _, trained = get(api, "/pipelines?type=model_training_builtin")
    assert [(p["name"], p["pipeline_type"]) for p in trained["pipelines"]] == [
        ("mlops-pipeline-delta-modeltraining", "model_training_builtin")
    ]
    item = first["pipelines"][0]
    assert (item["model"], item["pipeline_type"]) == ("alpha", "byom_realtime_builtin")
    assert item["status"] == "CREATE_COMPLETE" and item["blueprint_version"].startswith("blueprints/")
    assert item["blueprint"] == "byom_realtime_inference_pipeline.yaml" and item["created"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("max_results=0", "max_results"),
        ("max_results=x", "max_results"),
        ("max_results=%C2%B2", "max_results"),  # a superscript two: a digit to Python, not a number to int()
        ("max_results=%D9%A3", "max_results"),  # an Arabic-Indic three
        ("next_token=%25%25", "next_token"),
        ("type=nope", "pipeline_type"),
    ],
)
def test_bad_list_parameters_are_400s_naming_them(api: Any, plane: Plane, query: str, field: str) -> None:
    status, body = get(api, f"/pipelines?{query}")
    assert status == 400 and body["problems"][0]["field"] == field


def test_describe_shows_the_request_stages_and_outputs(api: Any, plane: Plane) -> None:
    _, answer = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    execute(plane.session, answer["stack_name"], Store())
    status, doc = get(api, f"/pipelines/{answer['stack_name']}")
    assert status == 200
    assert doc["request"]["model_name"] == "churn-xgboost"
    assert doc["summary"]["pipeline_type"] == "byom_realtime_builtin"
    assert doc["deployed_stack"]["outputs"]["InferenceApiUrl"]
    assert doc["awaiting_approval"] == []
    assert get(api, "/pipelines/mlops-pipeline-nothing-here")[0] == 404


def test_delete_removes_what_the_pipeline_deployed_and_is_a_no_op_after(api: Any, plane: Plane) -> None:
    _, answer = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    execute(plane.session, answer["stack_name"], Store())
    assert plane.client("sagemaker").list_endpoints()["Endpoints"]
    stack_roles = [r["RoleName"] for r in plane.client("iam").list_roles()["Roles"]]
    assert [r for r in stack_roles if r.startswith(answer["blueprint_stack_name"][:40])]
    status, gone = delete(api, f"/pipelines/{answer['stack_name']}")
    assert status == 200 and gone["action"] == "deleting"
    assert plane.stacks() == []
    sagemaker = plane.client("sagemaker")
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == []
    assert sagemaker.list_models()["Models"] == []
    assert plane.client("lambda").list_functions()["Functions"] == []
    roles = [r["RoleName"] for r in plane.client("iam").list_roles()["Roles"]]
    assert not [r for r in roles if r.startswith(answer["blueprint_stack_name"][:40])]
    bundles = f"mlops_provisioned_pipelines/{answer['blueprint_stack_name']}/"
    assert plane.client("s3").list_objects_v2(Bucket=plane.config.assets_bucket, Prefix=bundles).get("KeyCount") == 0
    again = {"pipeline_id": answer["stack_name"], "action": "none", "message": "the pipeline is already deleted"}
    assert delete(api, f"/pipelines/{answer['stack_name']}") == (200, again)
    assert delete(api, "/pipelines/mlops-pipeline-never-was")[0] == 404


def test_a_delete_keeps_the_pipeline_until_what_it_deployed_is_gone(api: Any, plane: Plane) -> None:
    """A stack delete outlasts a request: the DELETE answers 202 and a repeat finishes it."""
    from chalicelib import aws

    _, answer = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    execute(plane.session, answer["stack_name"], Store())
    deployed = answer["blueprint_stack_name"]
    cfn = aws.client("cloudformation")
    cfn.delete_stack = lambda **_: plane.set_stack_status(deployed, "DELETE_IN_PROGRESS") or {}
    try:
        status, going = delete(api, f"/pipelines/{answer['stack_name']}")
        assert status == 202, going
        assert going["stacks"] == {deployed: "deleting"} and going["done"] is False
        status, still = delete(api, f"/pipelines/{answer['stack_name']}")  # not started twice
        assert (status, still["stacks"]) == (202, {deployed: "deleting"})
    finally:
        del cfn.delete_stack
    pipeline = plane.client("cloudformation").describe_stacks(StackName=answer["stack_name"])["Stacks"][0]
    assert pipeline["StackStatus"] == "CREATE_COMPLETE"
    bundle = f"mlops_provisioned_pipelines/{deployed}/"
    listed = plane.client("s3").list_objects_v2(Bucket=plane.config.assets_bucket, Prefix=bundle)
    names = {o["Key"].rsplit("/", 1)[1] for o in listed["Contents"]}
    assert len(names) == 2 and "DELETING" in names  # the bundle, and the mark of the delete
    plane.client("cloudformation").delete_stack(StackName=deployed)  # CloudFormation finishes
    status, gone = delete(api, f"/pipelines/{answer['stack_name']}")
    assert status == 200 and gone["done"] is True, gone
    assert gone["stacks"] == {deployed: "absent", answer["stack_name"]: "deleted"}
    assert plane.stacks() == []
    assert plane.client("s3").list_objects_v2(Bucket=plane.config.assets_bucket, Prefix=bundle)["KeyCount"] == 0


def bundle_objects(plane: Plane, blueprint_stack: str) -> list[str]:
    listed = plane.client("s3").list_objects_v2(
        Bucket=plane.config.assets_bucket, Prefix=f"mlops_provisioned_pipelines/{blueprint_stack}/"
    )
    return sorted(o["Key"].rsplit("/", 1)[1] for o in listed.get("Contents", []))


def test_an_update_while_the_pipeline_is_being_deleted_is_a_409_and_writes_nothing(api: Any, plane: Plane) -> None:
    from chalicelib import aws

    body = load_event("valid/byom_realtime_builtin")
    _, answer = post(api, "/provisionpipeline", body)
    execute(plane.session, answer["stack_name"], Store())
    deployed = answer["blueprint_stack_name"]
    cfn = aws.client("cloudformation")
    cfn.delete_stack = lambda **_: plane.set_stack_status(deployed, "DELETE_IN_PROGRESS") or {}
    try:
        assert delete(api, f"/pipelines/{answer['stack_name']}")[0] == 202
    finally:
        del cfn.delete_stack
    before = bundle_objects(plane, deployed)
    for dry_run in (True, False):
        status, refused = post(
            api, "/provisionpipeline", {**body, "inference_instance": "ml.m5.xlarge", "dry_run": dry_run}
        )
        assert status == 409 and refused["deleting"] is True, refused
        assert "being deleted" in refused["message"] and "DELETE" in refused["message"]
    assert bundle_objects(plane, deployed) == before  # nothing written
    plane.client("cloudformation").delete_stack(StackName=deployed)  # CloudFormation finishes
    status, done = delete(api, f"/pipelines/{answer['stack_name']}")
    assert (status, done["done"]) == (200, True), done
    assert plane.stacks() == [] and bundle_objects(plane, deployed) == []
    status, again = post(api, "/provisionpipeline", body)
    assert (status, again["action"]) == (200, "created"), again


def test_an_update_that_a_whole_delete_overtakes_is_a_409_and_leaves_no_stack_without_bundle(
    api: Any, plane: Plane
) -> None:
    """The update read no marker and wrote its bundle; the delete then ran to the end before the
    update's UpdateStack. CloudFormation refuses the update (the stack is gone)."""
    from chalice.test import Client

    from app import app
    from chalicelib import aws

    body = load_event("valid/byom_realtime_builtin")
    _, answer = post(api, "/provisionpipeline", body)

    def whole_delete_first(**_: Any) -> None:
        with Client(app) as other:
            assert delete(other, f"/pipelines/{answer['stack_name']}")[0] == 200

    aws.client("cloudformation").meta.events.register_first(
        "before-parameter-build.cloudformation.UpdateStack", whole_delete_first
    )
    status, lost = post(api, "/provisionpipeline", {**body, "inference_instance": "ml.m5.xlarge"})
    assert status == 409, lost
    assert plane.stacks() == []
    assert bundle_objects(plane, answer["blueprint_stack_name"]) == []  # the delete removed both bundles


def test_an_endpoint_a_monitor_watches_is_not_deleted(api: Any, plane: Plane) -> None:
    _, endpoint = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    execute(plane.session, endpoint["stack_name"], Store())
    monitor_body = {**load_event("valid/byom_data_quality_monitor"), "monitor_engine": "sagemaker"}
    _, monitor = post(api, "/provisionpipeline", monitor_body)
    plane.client("s3").create_bucket(Bucket="my-data-bucket")
    execute(plane.session, monitor["stack_name"], Store())
    status, refused = delete(api, f"/pipelines/{endpoint['stack_name']}")
    assert status == 409 and refused["dependents"] == [monitor["blueprint_stack_name"]]
    assert len(plane.stacks()) == 4  # nothing was deleted
    assert delete(api, f"/pipelines/{monitor['stack_name']}")[0] == 200
    assert delete(api, f"/pipelines/{endpoint['stack_name']}")[0] == 200
    assert plane.stacks() == []


def test_a_dry_run_changes_nothing_and_says_what_would_happen(api: Any, plane: Plane) -> None:
    body = load_event("valid/byom_realtime_builtin")
    before = emulator_state(plane)
    status, preview = post(api, "/provisionpipeline", {**body, "dry_run": True})
    assert status == 200 and preview["action"] == "create" and preview["dry_run"] is True
    assert preview["parameters"]["all"]["InferenceInstance"] == "ml.m5.large"
    assert emulator_state(plane) == before

    post(api, "/provisionpipeline", body)
    before = emulator_state(plane)
    assert post(api, "/provisionpipeline", {**body, "dry_run": "true"})[1]["action"] == "no-op"
    _, preview = post(api, "/provisionpipeline", {**body, "inference_instance": "ml.c5.xlarge", "dry_run": True})
    assert emulator_state(plane) == before
    assert preview["action"] == "update"
    assert preview["changes"] == [{"field": "inference_instance", "old": "ml.m5.large", "new": "ml.c5.xlarge"}]
    rows = {r["parameter"]: r for r in preview["parameter_diff"]["all"]}
    assert rows["InferenceInstance"]["new"] == "ml.c5.xlarge"
    assert rows["EndpointConfigName"]["because_of"] == ["inference_instance"]
    assert "SageMakerModelName" not in rows  # the model is not replaced
    assert preview["replacements"] == ["the endpoint configuration (the endpoint is updated in place)"]
    assert post(api, "/provisionpipeline", {**body, "dry_run": "maybe"})[1]["problems"][0]["field"] == "dry_run"


def pending(stage: str, token: str | None) -> dict[str, Any]:
    latest = {"status": "InProgress", "token": token} if token else {"status": "Succeeded"}
    return {
        "pipelineName": "p",
        "stageStates": [
            {"stageName": "DeployDev", "actionStates": [{"actionName": "StackSetDev"}]},
            {"stageName": stage, "actionStates": [{"actionName": stage, "latestExecution": latest}]},
        ],
    }


def test_an_approval_records_the_decision_on_the_waiting_action(api: Any, plane: Plane) -> None:
    from chalicelib import aws

    _, answer = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    codepipeline = aws.client("codepipeline")
    name = answer["blueprint_stack_name"]
    with Stubber(codepipeline) as stub:
        stub.add_response("get_pipeline_state", pending("ApproveStaging", "tok-1"), {"name": name})
        stub.add_response("put_approval_result", {"approvedAt": "2026-11-22T10:00:00Z"}, {
            "pipelineName": name, "stageName": "ApproveStaging", "actionName": "ApproveStaging",
            "result": {"summary": "metrics look right", "status": "Approved"}, "token": "tok-1"})  # fmt: skip
        decision = {"stage": "staging", "decision": "approve", "comment": "metrics look right"}
        status, decided = post(api, f"/pipelines/{answer['stack_name']}/approval", decision)
        stub.assert_no_pending_responses()
    assert status == 200 and decided["decision"] == "Approved"

    with Stubber(codepipeline) as stub:
        stub.add_response("get_pipeline_state", pending("ApproveProd", None), {"name": name})
        status, refused = post(
            api, f"/pipelines/{answer['stack_name']}/approval", {"stage": "prod", "decision": "reject"}
        )
    assert status == 409 and "nothing awaits approval in ApproveProd" in refused["message"]

    status, bad = post(api, f"/pipelines/{answer['stack_name']}/approval", {"stage": "", "decision": "maybe", "x": 1})
    assert status == 400 and {p["field"] for p in bad["problems"]} == {"stage", "decision", "x"}
