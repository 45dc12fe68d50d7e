"""POST /models/{group}/approval: a registered model is approved or rejected, and the pipelines
that follow its group move when SageMaker's event arrives."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.events import load_event
from tests.support.plane import Plane, post
from tests.support.registry import FOLLOWING_STACK as STACK
from tests.support.registry import deliver, deployed, register, state_change

GROUP = "churn-models"


def status_of(plane: Plane, arn: str) -> dict[str, Any]:
    return dict(plane.client("sagemaker").describe_model_package(ModelPackageName=arn))


def test_approving_the_newest_pending_version_records_who_and_why(api: Any, plane: Plane) -> None:
    register(plane, "Approved")
    older, newest = register(plane), register(plane)
    status, answer = post(api, f"/models/{GROUP}/approval", {"decision": "approve", "comment": "AUC 0.91"})
    assert status == 200, answer
    assert answer["model_package_arn"] == newest and answer["changed"] is True
    package = status_of(plane, newest)
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["ApprovalDescription"].endswith(": AUC 0.91")
    assert status_of(plane, older)["ModelApprovalStatus"] == "PendingManualApproval"


def test_the_approval_then_moves_the_following_pipelines(api: Any, plane: Plane) -> None:
    register(plane, "Approved")
    pending = register(plane)
    status, body = post(api, "/provisionpipeline", load_event("valid/model_loop/byom_realtime_following_group"))
    assert status == 200, body
    status, answer = post(api, f"/models/{GROUP}/approval", {"decision": "approve"})
    assert status == 200 and answer["following_pipelines"] == [STACK], answer
    assert deliver(state_change(pending, "Approved", "ev-approval"))["pipelines"] == {STACK: "deployed"}
    assert deployed(plane)[0] == pending
    again = post(api, f"/models/{GROUP}/approval", {"decision": "approve", "version": 2})[1]
    assert again["changed"] is False


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"decision": "maybe"}, ["decision"]),
        ({"decision": "approve", "version": 0, "stage": "prod"}, ["version", "stage"]),
        ({"decision": "approve", "version": True}, ["version"]),
        ({"comment": "why not"}, ["decision"]),
    ],
)
def test_a_bad_decision_is_a_400_naming_each_field(
    api: Any, plane: Plane, body: dict[str, Any], fields: list[str]
) -> None:
    register(plane)
    status, answer = post(api, f"/models/{GROUP}/approval", body)
    assert status == 400
    assert sorted(p["field"] for p in answer["problems"]) == sorted(fields)


def test_unknown_groups_versions_and_nothing_pending_are_404_and_409(api: Any, plane: Plane) -> None:
    assert post(api, "/models/no-such-group/approval", {"decision": "approve"})[0] == 404
    register(plane, "Approved")
    assert post(api, f"/models/{GROUP}/approval", {"decision": "approve", "version": 7})[0] == 404
    status, answer = post(api, f"/models/{GROUP}/approval", {"decision": "approve"})
    assert status == 409 and "version" in answer["message"]
