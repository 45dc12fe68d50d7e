"""POST /pipelinestatus answers as a superset of the original solution's answer.

The original returned CodePipeline's GetPipelineState answer as the body, and, before the
pipeline stack had created the pipeline, a 200 saying so. Scripts written for it read
``pipelineName``, ``pipelineVersion``, ``stageStates``, ``created`` and ``updated``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.stub import Stubber

from tests.support.events import load_event
from tests.support.plane import Plane, post

CREATED = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
UPDATED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def pipeline_state(name: str) -> dict[str, Any]:
    return {
        "pipelineName": name,
        "pipelineVersion": 3,
        "created": CREATED,
        "updated": UPDATED,
        "stageStates": [
            {
                "stageName": "Source",
                "latestExecution": {"pipelineExecutionId": "e-1", "status": "Succeeded"},
                "actionStates": [
                    {"actionName": "S3Source", "latestExecution": {"status": "Succeeded", "lastStatusChange": UPDATED}}
                ],
            },
            {
                "stageName": "DeployCloudFormation",
                "latestExecution": {"pipelineExecutionId": "e-1", "status": "Failed"},
                "actionStates": [
                    {
                        "actionName": "deploy_stack",
                        "latestExecution": {
                            "status": "Failed",
                            "errorDetails": {"code": "JobFailed", "message": "stack rolled back"},
                        },
                    }
                ],
            },
        ],
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }


def test_status_carries_codepipeline_state_fields(api: Any, plane: Plane) -> None:
    from chalicelib import aws

    _, answer = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    name = answer["blueprint_stack_name"]
    with Stubber(aws.client("codepipeline")) as stub:
        stub.add_response("get_pipeline_state", pipeline_state(name), {"name": name})
        status, doc = post(api, "/pipelinestatus", {"pipeline_id": answer["pipeline_id"]})
    assert status == 200, doc
    # the original's fields, as a script reads them
    assert doc["pipelineName"] == name
    assert doc["pipelineVersion"] == 3
    assert doc["created"] == CREATED.isoformat() and doc["updated"] == UPDATED.isoformat()
    assert [s["stageName"] for s in doc["stageStates"]] == ["Source", "DeployCloudFormation"]
    assert doc["stageStates"][0]["actionStates"][0]["latestExecution"]["lastStatusChange"] == UPDATED.isoformat()
    assert "ResponseMetadata" not in doc
    # and our own document beside them
    assert doc["pipeline_id"] == answer["pipeline_id"]
    assert [s["status"] for s in doc["pipeline"]["stages"]] == ["Succeeded", "Failed"]
    assert doc["latest_failure"] == "deploy_stack: stack rolled back"


def test_before_the_pipeline_exists_the_answer_is_a_200_that_says_so(api: Any, plane: Plane) -> None:
    from chalicelib import aws

    _, answer = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    name = answer["blueprint_stack_name"]
    with Stubber(aws.client("codepipeline")) as stub:
        stub.add_client_error(
            "get_pipeline_state", "PipelineNotFoundException", f"Pipeline {name} not found", 400, {"name": name}
        )
        status, doc = post(api, "/pipelinestatus", {"pipeline_id": answer["pipeline_id"]})
    assert status == 200, doc
    assert "has not provisioned the pipeline yet" in doc["message"]
    assert doc["pipelineName"] == name and doc["stageStates"] == []
    assert doc["pipeline_stack"]["status"] == "CREATE_COMPLETE"
