"""POST /pipelinestatus: one readable document, by stack ARN or name; 404 when unknown."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.events import load_event
from tests.support.plane import Plane, post

PIPELINE_STACK = "mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin-codepipeline"


def test_status_of_a_provisioned_pipeline(api: Any, plane: Plane) -> None:
    _, provisioned = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    status, doc = post(api, "/pipelinestatus", {"pipeline_id": provisioned["pipeline_id"]})
    assert status == 200, doc
    assert doc["pipeline_id"] == provisioned["pipeline_id"]
    assert doc["pipeline_type"] == "byom_realtime_builtin"
    assert doc["pipeline_stack"]["name"] == PIPELINE_STACK
    assert doc["pipeline_stack"]["status"] == "CREATE_COMPLETE"
    # moto runs no CodePipeline: the document names the pipeline and says its stages are unknown.
    assert doc["pipeline"]["name"] == PIPELINE_STACK.removesuffix("-codepipeline")
    assert doc["pipeline"]["stages"] is None and "unavailable" in doc["pipeline"]["note"]
    assert doc["deployed_stack"] is None and doc["latest_failure"] is None


@pytest.mark.parametrize("form", [PIPELINE_STACK, PIPELINE_STACK.removesuffix("-codepipeline")])
def test_status_accepts_the_stack_name(api: Any, plane: Plane, form: str) -> None:
    _, provisioned = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    status, doc = post(api, "/pipelinestatus", {"pipeline_id": form})
    assert status == 200 and doc["pipeline_id"] == provisioned["pipeline_id"]


def test_status_shows_the_deployed_stack_and_its_failure(api: Any, plane: Plane) -> None:
    _, provisioned = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    deployed = "mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin"
    cfn = plane.client("cloudformation")
    cfn.create_stack(StackName=deployed, TemplateBody='{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}')
    plane.set_stack_status(deployed, "ROLLBACK_COMPLETE")
    status, doc = post(api, "/pipelinestatus", {"pipeline_id": provisioned["pipeline_id"]})
    assert status == 200
    assert doc["deployed_stack"]["name"] == deployed
    assert doc["deployed_stack"]["status"] == "ROLLBACK_COMPLETE"


@pytest.mark.parametrize(
    ("pipeline_id", "code"),
    [
        ("mlops-pipeline-nothing-byompipelinerealtimebuiltin-codepipeline", 404),
        ("arn:aws:cloudformation:us-east-1:123456789012:stack/mlops-pipeline-x-codepipeline/"
         "0f0f0f0f-0000-1111-2222-333333333333", 404),
        ("someone-elses-stack", 404),
        ("not a stack!", 400),
        ("", 400),
        (17, 400),
    ],
)  # fmt: skip
def test_unknown_or_malformed_ids(api: Any, plane: Plane, pipeline_id: Any, code: int) -> None:
    status, doc = post(api, "/pipelinestatus", {"pipeline_id": pipeline_id})
    assert status == code, doc
    assert doc["message"]


def test_status_refuses_stacks_outside_the_pipeline_prefix(api: Any, plane: Plane) -> None:
    plane.client("cloudformation").create_stack(
        StackName="payroll-codepipeline", TemplateBody='{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}'
    )
    assert post(api, "/pipelinestatus", {"pipeline_id": "payroll-codepipeline"})[0] == 404


def test_missing_pipeline_id_is_named(api: Any, plane: Plane) -> None:
    status, doc = post(api, "/pipelinestatus", {"pipeline": "x"})
    assert status == 400 and doc["problems"][0]["field"] == "pipeline_id"
