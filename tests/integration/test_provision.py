"""POST /provisionpipeline against a moto server: create, idempotency, updates, conflicts."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from typing import Any

import pytest

from tests.support.events import load_event, valid_types
from tests.support.plane import Plane, post

REALTIME = "valid/byom_realtime_builtin"
PIPELINE_STACK = "mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin-codepipeline"
BUNDLES = "mlops_provisioned_pipelines/mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin/"


def named_bundle(plane: Plane, stack: str = PIPELINE_STACK) -> str:
    """The bundle key the pipeline stack names."""
    described = plane.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return next(p["ParameterValue"] for p in described["Parameters"] if p["ParameterKey"] == "TemplateZipFileName")


def bundles(plane: Plane, prefix: str = BUNDLES) -> list[str]:
    """Every object under the pipeline's bundle folder."""
    listed = plane.client("s3").list_objects_v2(Bucket=plane.config.assets_bucket, Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def read(plane: Plane, key: str) -> bytes:
    return bytes(plane.client("s3").get_object(Bucket=plane.config.assets_bucket, Key=key)["Body"].read())


def request_in(bundle: bytes) -> dict[str, Any]:
    """The request a bundle was made from."""
    from chalicelib.packaging import read_request

    found = read_request(bundle)
    assert found is not None
    return found


def test_provision_creates_the_pipeline_stack_and_bundle(api: Any, plane: Plane) -> None:
    status, body = post(api, "/provisionpipeline", load_event(REALTIME))
    assert status == 200, body
    assert body["pipeline_id"].startswith("arn:aws:cloudformation:us-east-1:123456789012:stack/" + PIPELINE_STACK)
    assert body["action"] == "created" and body["changed"] is True
    assert [s["StackName"] for s in plane.stacks()] == [PIPELINE_STACK]
    stack = plane.client("cloudformation").describe_stacks(StackName=PIPELINE_STACK)["Stacks"][0]
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params["StackName"] == "mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin"
    assert re.fullmatch(BUNDLES + "[0-9a-f]{16}[.]zip", params["TemplateZipFileName"])
    tags = {t["Key"]: t["Value"] for t in stack["Tags"]}
    assert tags["mlops:pipeline-type"] == "byom_realtime_builtin"
    assert bundles(plane) == [params["TemplateZipFileName"]]
    assert len(plane.versions(plane.config.assets_bucket, params["TemplateZipFileName"])) == 1


@pytest.mark.parametrize("pipeline_type", valid_types())
def test_every_type_provisions(api: Any, pipeline_type: str) -> None:
    status, body = post(api, "/provisionpipeline", load_event(f"valid/{pipeline_type}"))
    assert status == 200, body


def test_resubmitting_the_same_meaning_changes_nothing(api: Any, plane: Plane) -> None:
    first = load_event(REALTIME)
    post(api, "/provisionpipeline", first)
    # Other key order, whitespace, s3:// form and a number for a version string.
    again = dict(reversed(list(first.items())))
    again["data_capture_location"] = "s3://my-data-bucket/churn/datacapture/"
    text = json.dumps(again, indent=7)
    status, body = post(api, "/provisionpipeline", text, content_type="application/x-www-form-urlencoded")
    assert status == 200, body
    assert body["changed"] is False and body["action"] == "unchanged"
    assert bundles(plane) == [named_bundle(plane)]
    assert len(plane.versions(plane.config.assets_bucket, named_bundle(plane))) == 1
    events = plane.client("cloudformation").describe_stack_events(StackName=PIPELINE_STACK)["StackEvents"]
    assert not [e for e in events if e["ResourceStatus"].startswith("UPDATE")]


def test_one_and_quoted_one_are_the_same_request(api: Any, plane: Plane) -> None:
    body = load_event("valid/byom_batch_builtin")  # 501, but validation normalises first
    body["pipeline_type"] = "byom_realtime_builtin"
    for key in ("batch_inference_data", "batch_job_output_location"):
        del body[key]
    body["data_capture_location"] = "my-data-bucket/x"
    assert post(api, "/provisionpipeline", body)[0] == 200
    body["model_framework_version"] = 1
    status, answer = post(api, "/provisionpipeline", body)
    assert (status, answer["changed"]) == (200, False)


def test_a_changed_body_updates_and_says_what_changed(api: Any, plane: Plane) -> None:
    body = load_event(REALTIME)
    post(api, "/provisionpipeline", body)
    body["inference_instance"] = "ml.m5.xlarge"
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 200, answer
    assert answer["changed"] is True and answer["action"] == "updated"
    assert answer["changes"] == [{"field": "inference_instance", "old": "ml.m5.large", "new": "ml.m5.xlarge"}]
    assert len(bundles(plane)) == 2  # the old one stays; the stack names the new one
    assert request_in(read(plane, named_bundle(plane)))["inference_instance"] == "ml.m5.xlarge"


@pytest.mark.parametrize("status_now", ["CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS"])
def test_a_request_while_the_stack_is_busy_is_a_409(api: Any, plane: Plane, status_now: str) -> None:
    post(api, "/provisionpipeline", load_event(REALTIME))
    plane.set_stack_status(PIPELINE_STACK, status_now)
    body = load_event(REALTIME)
    body["inference_instance"] = "ml.m5.xlarge"
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 409, answer
    assert status_now in answer["message"] and answer["stack_status"] == status_now
    assert len(bundles(plane)) == 1  # nothing half-written


def test_a_failed_creation_is_deleted_without_waiting_and_a_resubmission_creates_it(api: Any, plane: Plane) -> None:
    """API Gateway ends a request at 29 s; deleting a stack takes longer, so the request only starts it."""
    _, first = post(api, "/provisionpipeline", load_event(REALTIME))
    plane.set_stack_status(PIPELINE_STACK, "ROLLBACK_COMPLETE")
    response = api.http.post(
        "/provisionpipeline", body=json.dumps(load_event(REALTIME)), headers={"Content-Type": "application/json"}
    )
    answer = json.loads(response.body)
    assert response.status_code == 202, answer
    assert response.headers["Retry-After"] == str(answer["retry_after_seconds"])
    assert answer["action"] == "replacing" and answer["stack_status"] == "DELETE_IN_PROGRESS"
    assert answer["previous_stack_status"] == "ROLLBACK_COMPLETE" and "resubmit" in answer["message"]
    assert answer["pipeline_id"] == first["pipeline_id"]
    assert plane.stacks() == []  # the emulator deletes at once
    assert len(bundles(plane)) == 1  # nothing written meanwhile
    status, again = post(api, "/provisionpipeline", load_event(REALTIME))
    assert (status, again["action"]) == (200, "created"), again
    assert again["pipeline_id"] != first["pipeline_id"]
    live = plane.stacks()
    assert [(s["StackName"], s["StackStatus"]) for s in live] == [(PIPELINE_STACK, "CREATE_COMPLETE")]


def slow_delete(plane: Plane) -> Any:
    """Make the orchestrator's DeleteStack leave the stack DELETE_IN_PROGRESS, as AWS does for minutes."""
    from chalicelib import aws

    cfn = aws.client("cloudformation")

    def delete_stack(**kwargs: Any) -> dict[str, Any]:
        plane.set_stack_status(PIPELINE_STACK, "DELETE_IN_PROGRESS")
        return {}

    cfn.delete_stack = delete_stack
    return cfn


def test_a_resubmission_converges_while_the_failed_stack_is_deleted(api: Any, plane: Plane) -> None:
    post(api, "/provisionpipeline", load_event(REALTIME))
    plane.set_stack_status(PIPELINE_STACK, "ROLLBACK_COMPLETE")
    cfn = slow_delete(plane)
    try:
        assert post(api, "/provisionpipeline", load_event(REALTIME))[0] == 202
        status, busy = post(api, "/provisionpipeline", load_event(REALTIME))
        assert (status, busy["stack_status"]) == (409, "DELETE_IN_PROGRESS"), busy
        preview = post(api, "/provisionpipeline", {**load_event(REALTIME), "dry_run": True})
        assert preview[0] == 409  # the dry run decides as apply does
    finally:
        del cfn.delete_stack
    plane.client("cloudformation").delete_stack(StackName=PIPELINE_STACK)  # CloudFormation finishes the delete
    status, done = post(api, "/provisionpipeline", load_event(REALTIME))
    assert (status, done["action"]) == (200, "created"), done
    assert [s["StackStatus"] for s in plane.stacks()] == ["CREATE_COMPLETE"]


def test_a_dry_run_says_a_failed_creation_would_be_replaced(api: Any, plane: Plane) -> None:
    post(api, "/provisionpipeline", load_event(REALTIME))
    plane.set_stack_status(PIPELINE_STACK, "ROLLBACK_COMPLETE")
    status, preview = post(api, "/provisionpipeline", {**load_event(REALTIME), "dry_run": True})
    assert (status, preview["action"]) == (200, "replace"), preview
    assert [s["StackStatus"] for s in plane.stacks()] == ["ROLLBACK_COMPLETE"]  # nothing done


def test_a_stuck_stack_is_a_409_naming_its_state(api: Any, plane: Plane) -> None:
    post(api, "/provisionpipeline", load_event(REALTIME))
    plane.set_stack_status(PIPELINE_STACK, "UPDATE_ROLLBACK_FAILED")
    status, answer = post(api, "/provisionpipeline", load_event(REALTIME))
    assert status == 409 and "UPDATE_ROLLBACK_FAILED" in answer["message"]


def test_in_local_mode_twenty_concurrent_identical_requests_create_one_stack(api: Any, plane: Plane) -> None:
    """In AWS, CloudFormation's unique stack names and S3's conditional writes decide such races.
    The emulator checks neither atomically, so local mode lets requests for one pipeline take
    turns around its calls into the app; the orchestrator itself holds no lock."""
    from chalice.test import Client

    from app import app
    from mlops_local.turns import PipelineTurns, TakingTurns

    results: list[tuple[int, Any]] = []
    barrier = threading.Barrier(20)
    turns = PipelineTurns()

    def send() -> None:
        with Client(TakingTurns(app, turns)) as client:
            barrier.wait()
            results.append(post(client, "/provisionpipeline", load_event(REALTIME)))

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(plane.stacks()) == 1
    assert bundles(plane) == [named_bundle(plane)]
    assert len(plane.versions(plane.config.assets_bucket, named_bundle(plane))) == 1
    assert [status for status, _ in results] == [200] * 20
    assert sorted(body["action"] for _, body in results) == ["created"] + ["unchanged"] * 19
    assert len({body["pipeline_id"] for _, body in results}) == 1


def test_the_orchestrator_holds_no_in_process_lock_around_requests() -> None:
    """Every Lambda invocation is its own process: a lock in the request path proves nothing."""
    import threading as threads

    from chalicelib import provisioning, teardown

    for module in (provisioning, teardown):
        held = [name for name, value in vars(module).items() if isinstance(value, type(threads.Lock()) | dict)
                and name.startswith("_lock")]  # fmt: skip
        assert held == [], f"{module.__name__} keeps {held}"
        assert "threading" not in vars(module), f"{module.__name__} imports threading"


def test_the_bundle_holds_blueprint_parameters_and_request(api: Any, plane: Plane) -> None:
    import io
    import zipfile

    post(api, "/provisionpipeline", load_event(REALTIME))
    archive = zipfile.ZipFile(io.BytesIO(read(plane, named_bundle(plane))))
    assert sorted(archive.namelist()) == [
        "byom_realtime_inference_pipeline.yaml",
        "mlops-request.json",
        "template_params.json",
    ]
    params = json.loads(archive.read("template_params.json"))["Parameters"]
    assert params["ImageUri"] == "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    assert params["EndpointName"] == "churn-endpoint"
    assert params["SageMakerModelName"].startswith("churn-xgboost-") and len(params["SageMakerModelName"]) == 22


def test_errors_are_json_with_every_problem(api: Any) -> None:
    status, body = post(api, "/provisionpipeline", load_event("bad/realtime_many_problems"))
    assert status == 400
    assert {p["field"] for p in body["problems"]} >= {"model_name", "endpont_name", "data_capture_location"}
    assert all(set(p) == {"field", "problem"} for p in body["problems"])


@pytest.mark.parametrize(
    ("raw", "words"),
    [("", "empty"), ("{", "not valid JSON"), ("[1, 2]", "JSON object"), ("{}", "empty object"),
     ('"text"', "JSON object"), ("NaN", "not a JSON number"), ('{"pipeline_type": 7}', "must be a string")],
)  # fmt: skip
def test_malformed_bodies_are_400s(api: Any, raw: str, words: str) -> None:
    status, body = post(api, "/provisionpipeline", raw, content_type="text/plain")
    assert status == 400, body
    assert words in json.dumps(body)


def test_unknown_pipeline_type_lists_the_valid_ones(api: Any) -> None:
    status, body = post(api, "/provisionpipeline", load_event("bad/unknown_pipeline_type"))
    assert status == 400
    assert "model_autopilot_training" in body["problems"][0]["problem"]


def test_a_pipeline_keeps_the_blueprints_it_was_created_with(api: Any, plane: Plane, monkeypatch: Any) -> None:
    from mlops_local.bootstrap import blueprint_files, installer

    _, first = post(api, "/provisionpipeline", load_event(REALTIME))
    pinned = first["blueprint_version"]
    assert pinned == plane.config.blueprint_prefix
    # The control plane is upgraded: a new payload is installed under a new prefix.
    files = {
        **blueprint_files(),
        "byom_realtime_inference_pipeline.yaml": b"# newer\n"
        + blueprint_files()["byom_realtime_inference_pipeline.yaml"],
    }
    newer = installer.install(plane.client("s3"), plane.config.blueprint_bucket, "9.9.9", files)
    monkeypatch.setenv("BLUEPRINT_PREFIX", newer)
    body = load_event(REALTIME)
    body["inference_instance"] = "ml.m5.xlarge"
    status, updated = post(api, "/provisionpipeline", body)
    assert status == 200 and updated["blueprint_version"] == pinned
    import io
    import zipfile

    bundle = read(plane, named_bundle(plane))
    template = zipfile.ZipFile(io.BytesIO(bundle)).read("byom_realtime_inference_pipeline.yaml")
    assert not template.startswith(b"# newer")
    other = load_event("valid/byom_realtime_custom")
    assert post(api, "/provisionpipeline", other)[1]["blueprint_version"] == newer  # new pipelines get the new one


def test_upstream_details_can_be_kept_out_of_answers(api: Any, plane: Plane, monkeypatch: Any) -> None:
    monkeypatch.setenv("BLUEPRINT_PREFIX", "blueprints/not-installed")
    status, answer = post(api, "/provisionpipeline", load_event(REALTIME))
    assert status == 502 and "not-installed" in answer["message"]
    monkeypatch.setenv("ALLOW_DETAILED_ERRORS", "No")
    status, answer = post(api, "/provisionpipeline", load_event(REALTIME))
    assert status == 502 and "not-installed" not in answer["message"] and "logs" in answer["message"]


def test_guardrails_apply_over_the_api(api: Any, plane: Plane, monkeypatch: Any) -> None:
    monkeypatch.setenv("ALLOWED_S3_BUCKETS", "ml-data-*")
    status, answer = post(api, "/provisionpipeline", load_event(REALTIME))
    assert status == 400 and answer["problems"][0]["field"] == "data_capture_location"
    assert plane.stacks() == []


def test_monitor_answers_state_the_engine(api: Any, plane: Plane, monkeypatch: Any) -> None:
    status, body = post(api, "/provisionpipeline", load_event("valid/byom_data_quality_monitor"))
    assert (status, body["monitor_engine"]) == (200, "serverless")
    assert post(api, "/pipelinestatus", {"pipeline_id": body["pipeline_id"]})[1]["monitor_engine"] == "serverless"
    monkeypatch.setenv("DEFAULT_MONITOR_ENGINE", "sagemaker")
    status, body = post(api, "/provisionpipeline", load_event("valid/byom_model_quality_monitor"))
    assert (status, body["monitor_engine"]) == (200, "sagemaker")
    stack = plane.client("cloudformation").describe_stacks(StackName=body["stack_name"])["Stacks"][0]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["TemplateFileName"] == "model_monitor_pipeline.yaml"
    assert "monitor_engine" not in post(api, "/provisionpipeline", load_event(REALTIME))[1]


def test_a_pipeline_whose_blueprints_take_other_parameters_now_is_moved_only_when_asked(
    api: Any, plane: Plane, monkeypatch: Any
) -> None:
    from chalicelib.pipelines.catalog import REGISTRY
    from mlops_local.bootstrap import blueprint_files, installer

    _, first = post(api, "/provisionpipeline", load_event(REALTIME))
    pinned = first["blueprint_version"]
    s3 = plane.client("s3")
    stored = bundles(plane)
    # An upgrade whose realtime blueprint takes one more parameter, which this version renders.
    newer = installer.install(s3, plane.config.blueprint_bucket, "9.9.9", {**blueprint_files(), "NOTES": b"9.9.9"})
    monkeypatch.setenv("BLUEPRINT_PREFIX", newer)
    entry, lookup = REGISTRY.get("byom_realtime_builtin"), REGISTRY.get
    changed = dataclasses.replace(entry, renderer=lambda *a: {**entry.renderer(*a), "WarmPoolSize": "1"})
    monkeypatch.setattr(REGISTRY, "get", lambda name: changed if name == entry.name else lookup(name))
    body = {**load_event(REALTIME), "inference_instance": "ml.m5.xlarge"}

    status, refused = post(api, "/provisionpipeline", body)
    assert status == 409, refused
    assert pinned in refused["message"] and "WarmPoolSize" in refused["message"]
    assert '"upgrade_blueprints": true' in refused["message"]
    assert bundles(plane) == stored  # nothing written

    status, preview = post(api, "/provisionpipeline", {**body, "dry_run": True, "upgrade_blueprints": True})
    assert status == 200 and preview["action"] == "update", preview
    assert preview["parameter_diff"]["all"]
    listed = api.http.get("/pipelines").json_body["pipelines"][0]
    assert (listed["blueprint_version"], listed["blueprints_current"]) == (pinned, False)
    status, moved = post(api, "/provisionpipeline", {**body, "upgrade_blueprints": "true"})
    assert status == 200 and moved["blueprint_version"] == newer, moved
    # Later updates stay on the blueprints it moved to (its bundle says which).
    status, later = post(api, "/provisionpipeline", {**body, "inference_instance": "ml.m5.2xlarge"})
    assert status == 200 and later["blueprint_version"] == newer, later
    assert post(api, "/provisionpipeline", {**body, "upgrade_blueprints": "yes"})[0] == 400


def test_a_request_too_large_for_a_blueprint_parameter_is_a_400_naming_its_field(api: Any, plane: Plane) -> None:
    body = load_event("valid/byom_model_explainability_monitor")
    body["shap_config"] = {"baseline": [[0.5, 1.25, 35, 0, 2.75, 11.5]] * 200, "num_samples": 100}
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 400, answer
    (problem,) = answer["problems"]
    assert problem["field"] == "shap_config"
    assert "ClarifyRequest" in problem["problem"] and "at most 4096" in problem["problem"]
    assert "S3 URI" in problem["problem"]
    assert plane.stacks() == []  # nothing was created

    body["shap_config"] = {"baseline": "s3://my-data-bucket/credit/shap-baseline.csv", "num_samples": 100}
    assert post(api, "/provisionpipeline", body)[0] == 200
