"""Pipelines that follow a model package group: resolved at request time, moved by approval events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.events import load_event
from tests.support.plane import Plane, post
from tests.support.registry import FOLLOWING, GROUP, deliver, deployed, register, set_status, state_change
from tests.support.registry import FOLLOWING_STACK as STACK


def describe(api: Any, stack: str = STACK) -> dict[str, Any]:
    response = api.http.get(f"/pipelines/{stack}")
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


@pytest.fixture
def following(api: Any, plane: Plane) -> dict[str, str]:
    """A realtime pipeline following GROUP, whose v1 is approved and v2 pending."""
    v1 = register(plane, "Approved")
    v2 = register(plane)
    status, body = post(api, "/provisionpipeline", load_event(FOLLOWING))
    assert status == 200, body
    return {"v1": v1, "v2": v2, "pipeline_id": body["pipeline_id"]}


def test_a_request_naming_a_group_deploys_its_latest_approved_package(
    api: Any, plane: Plane, following: dict[str, str]
) -> None:
    assert deployed(plane)[0] == following["v1"]
    shown = describe(api)["model_package"]
    assert shown["model_package_arn"] == following["v1"]
    assert shown["follows_group"] is True and shown["model_package_group_name"] == GROUP
    assert "latest Approved" in shown["reason"]


def test_a_group_without_an_approved_package_is_a_400_naming_the_field(api: Any, plane: Plane) -> None:
    register(plane, group="nothing-approved")
    status, body = post(
        api, "/provisionpipeline", {**load_event(FOLLOWING), "model_package_group_name": "nothing-approved"}
    )
    assert status == 400, body
    assert [p["field"] for p in body["problems"]] == ["model_package_group_name"]
    assert "no Approved package" in body["problems"][0]["problem"]
    assert plane.stacks() == []


def test_a_group_that_does_not_exist_is_a_400(api: Any, plane: Plane) -> None:
    status, body = post(
        api, "/provisionpipeline", {**load_event(FOLLOWING), "model_package_group_name": "no-such-group"}
    )
    assert status == 400, body
    assert body["problems"][0]["field"] == "model_package_group_name"


def test_a_package_of_another_group_beside_the_group_is_a_400(api: Any, plane: Plane) -> None:
    register(plane, "Approved")
    other = register(plane, "Approved", group="other-models")
    status, body = post(api, "/provisionpipeline", {**load_event(FOLLOWING), "model_package_name": other})
    assert status == 400, body
    assert [p["field"] for p in body["problems"]] == ["model_package_name"]


def test_an_approval_moves_the_pipeline_and_says_who_approved(
    api: Any, plane: Plane, following: dict[str, str]
) -> None:
    set_status(plane, following["v2"], "Approved", "approved by alice: AUC 0.91")
    outcome = deliver(state_change(following["v2"], "Approved", "ev-1"))
    assert outcome["pipelines"] == {STACK: "deployed"}
    assert deployed(plane)[0] == following["v2"]
    shown = describe(api)["model_package"]
    assert shown["model_package_arn"] == following["v2"]
    assert shown["event_id"] == "ev-1" and shown["event_time"] == "2026-12-01T10:00:00Z"
    assert shown["approval_description"] == "approved by alice: AUC 0.91"
    assert shown["previous_model_package_arn"] == following["v1"]


def test_a_replayed_or_late_event_changes_nothing(api: Any, plane: Plane, following: dict[str, str]) -> None:
    set_status(plane, following["v2"], "Approved")
    deliver(state_change(following["v2"], "Approved", "ev-1"))
    _, key = deployed(plane)
    assert deliver(state_change(following["v2"], "Approved", "ev-1"))["pipelines"] == {STACK: "unchanged"}
    # v1's approval, delivered after v2's: the pipeline keeps the higher version.
    assert deliver(state_change(following["v1"], "Approved", "ev-0"))["pipelines"] == {STACK: "unchanged"}
    assert deployed(plane) == (following["v2"], key)
    assert len(describe(api)["model_package"]["changes"]) == 1


def test_a_revoked_approval_moves_the_pipeline_back(api: Any, plane: Plane, following: dict[str, str]) -> None:
    set_status(plane, following["v2"], "Approved")
    deliver(state_change(following["v2"], "Approved", "ev-1"))
    set_status(plane, following["v2"], "Rejected")
    assert deliver(state_change(following["v2"], "Rejected", "ev-2"))["pipelines"] == {STACK: "deployed"}
    assert deployed(plane)[0] == following["v1"]
    shown = describe(api)["model_package"]
    assert shown["model_package_arn"] == following["v1"] and "revoked" in shown["reason"]


def test_an_event_the_listing_has_not_caught_up_with_still_counts(
    api: Any, plane: Plane, following: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import registry

    set_status(plane, following["v2"], "Approved")
    lagging = registry.approved_packages
    monkeypatch.setattr(
        registry,
        "approved_packages",
        lambda group: [p for p in lagging(group) if p["ModelPackageArn"] != following["v2"]],
    )
    assert deliver(state_change(following["v2"], "Approved", "ev-1"))["pipelines"] == {STACK: "deployed"}
    assert deployed(plane)[0] == following["v2"]


def test_the_last_approval_revoked_keeps_the_package_and_tells_the_topic(
    api: Any, plane: Plane, following: dict[str, str]
) -> None:
    sqs = plane.client("sqs")
    queue = sqs.create_queue(QueueName="notices")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    plane.client("sns").subscribe(
        TopicArn=plane.settings().notifications_topic_arn, Protocol="sqs", Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )  # fmt: skip
    set_status(plane, following["v1"], "Rejected")
    assert deliver(state_change(following["v1"], "Rejected", "ev-3"))["pipelines"] == {STACK: "kept"}
    assert deployed(plane)[0] == following["v1"]
    message = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert message["version"] == "1.0" and message["source"] == "custom"
    assert message["content"]["title"].startswith(f"[mlops] {STACK} | model registry: no Approved package left")


def test_a_busy_pipeline_fails_the_event_for_a_retry_that_then_moves_it(
    api: Any, plane: Plane, following: dict[str, str]
) -> None:
    from chalicelib.errors import UpstreamError

    set_status(plane, following["v2"], "Approved")
    plane.set_stack_status(STACK, "UPDATE_IN_PROGRESS")
    with pytest.raises(UpstreamError, match=STACK):
        deliver(state_change(following["v2"], "Approved", "ev-1"))
    assert deployed(plane)[0] == following["v1"]
    assert describe(api)["model_package"]["last_event"]["outcome"] == "failed"
    plane.set_stack_status(STACK, "UPDATE_COMPLETE")
    assert deliver(state_change(following["v2"], "Approved", "ev-1"))["pipelines"] == {STACK: "deployed"}
    assert deployed(plane)[0] == following["v2"]


def test_events_of_other_groups_and_types_touch_nothing(api: Any, plane: Plane, following: dict[str, str]) -> None:
    other = register(plane, "Approved", group="other-models")
    assert deliver(state_change(other, "Approved", "ev-9"))["pipelines"] == {}
    assert "ignored" in deliver({"detail-type": "SageMaker Training Job State Change", "detail": {}})
    assert deployed(plane)[0] == following["v1"]
