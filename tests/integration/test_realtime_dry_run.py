"""The dry run of a real-time pipeline says what an update does to the live endpoint."""

from __future__ import annotations

from typing import Any

from tests.support.events import load_event
from tests.support.plane import Plane, post


def preview(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    status, answer = post(api, "/provisionpipeline", {**body, "dry_run": True})
    assert status == 200, answer
    return answer


def test_a_canary_update_is_described_before_it_happens(api: Any, plane: Plane) -> None:
    body = load_event("valid/realtime/blue_green_canary")
    post(api, "/provisionpipeline", body)
    answer = preview(api, {**body, "inference_instance": "ml.c5.xlarge"})
    assert answer["endpoint_update"] == {
        "all": [
            "replaces the endpoint config; blue/green canary 10% for 600 s, then the rest; the old fleet stays "
            "300 s more; rolls back on 3 alarms (churn-business-kpi-drop, model 5xx, p99 model latency > 250 ms)"
        ]
    }


def test_a_change_of_deployment_settings_alone_leaves_the_traffic_alone(api: Any, plane: Plane) -> None:
    body = load_event("valid/realtime/blue_green_canary")
    post(api, "/provisionpipeline", body)
    answer = preview(api, {**body, "deployment": {**body["deployment"], "canary_percent": 20}})
    assert answer["endpoint_update"]["all"] == ["keeps the endpoint config: the endpoint's traffic is not touched"]


def test_an_instance_type_change_of_a_scaled_variant_says_the_variant_is_deregistered_around_it(
    api: Any, plane: Plane
) -> None:
    body = load_event("valid/realtime/autoscaling")
    post(api, "/provisionpipeline", body)
    notes = preview(api, {**body, "inference_instance": "ml.c5.xlarge"})["endpoint_update"]["all"]
    assert notes[0].startswith("replaces the endpoint config; rolling batches of 25% of the instances")
    assert notes[1].startswith("changes the instance type of a scaled variant (ml.m5.large -> ml.c5.xlarge)")
    assert "deregistered from autoscaling before the endpoint update" in notes[1] and "fail" not in notes[1]


def test_a_first_endpoint_has_no_update_to_describe(api: Any, plane: Plane) -> None:
    answer = preview(api, load_event("valid/realtime/blue_green_canary"))
    assert answer["action"] == "create" and "endpoint_update" not in answer


def test_an_endpoint_on_instances_is_not_updated_to_serverless(api: Any, plane: Plane) -> None:
    """AWS refuses UpdateEndpoint from instances to serverless; the orchestrator says so before the
    stack is touched, in the dry run and in the provision, and a new endpoint name goes through."""
    serverless = load_event("valid/realtime/serverless")
    on_instances = {**serverless, "inference_instance": "ml.m5.large",
                    "data_capture_location": "my-data-bucket/churn/datacapture"}  # fmt: skip
    del on_instances["serverless"], on_instances["autoscaling"]
    status, created = post(api, "/provisionpipeline", on_instances)
    assert status == 200, created
    [stack] = plane.client("cloudformation").describe_stacks(StackName=created["stack_name"])["Stacks"]

    assert preview(api, serverless)["endpoint_update"]["all"][0].startswith("refused: AWS does not update")
    status, refused = post(api, "/provisionpipeline", serverless)
    assert status == 400, refused
    [problem] = refused["problems"]
    assert problem["field"] == "serverless" and "give a new endpoint_name" in problem["problem"]
    [after] = plane.client("cloudformation").describe_stacks(StackName=created["stack_name"])["Stacks"]
    assert after["Parameters"] == stack["Parameters"]  # nothing changed

    status, moved = post(api, "/provisionpipeline", {**serverless, "endpoint_name": "churn-serverless-2"})
    assert status == 200 and moved["action"] == "updated", moved
