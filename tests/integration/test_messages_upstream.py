"""What the API says when AWS fails under it: a failure that passes is a 503 with
``Retry-After`` naming what was being done; a permanent refusal keeps its status; only a
missing blueprint is "not installed"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.events import load_event
from tests.support.faults import ACCESS_DENIED, SERVER_ERROR, THROTTLE, TIMEOUT_BEFORE, Fault, fault
from tests.support.plane import Plane, post

BLUEPRINT_READ = ("s3", "GetObject", "mlops-blueprints-")
STACK_READ = ("cloudformation", "DescribeStacks", "")


def provision(api: Any, body: dict[str, Any]) -> Any:
    return api.http.post("/provisionpipeline", body=json.dumps(body), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("kind", [THROTTLE, SERVER_ERROR, TIMEOUT_BEFORE], ids=lambda f: f.name)
def test_a_blueprint_read_that_fails_for_a_passing_reason_is_a_503_with_retry_after(
    api: Any, plane: Plane, kind: Fault
) -> None:
    with fault(*BLUEPRINT_READ, kind):
        answer = provision(api, load_event("valid/byom_realtime_builtin"))
    body = json.loads(answer.body)
    assert answer.status_code == 503, body
    assert int(answer.headers["Retry-After"]) > 0
    assert body["retry_after_seconds"] == int(answer.headers["Retry-After"])
    assert "could not read blueprint" in body["message"]
    assert "not installed" not in body["message"]
    assert plane.stacks() == []
    again = provision(api, load_event("valid/byom_realtime_builtin"))  # after Retry-After
    assert again.status_code == 200, again.body


def test_a_throttled_stack_read_is_a_503_naming_the_stack_and_the_call(api: Any, plane: Plane) -> None:
    with fault(*STACK_READ, THROTTLE):
        answer = provision(api, load_event("valid/byom_realtime_builtin"))
    body = json.loads(answer.body)
    assert answer.status_code == 503, body
    assert "Retry-After" in answer.headers
    assert "could not read stack mlops-pipeline-churn-xgboost" in body["message"]
    assert "Throttling from DescribeStacks" in body["message"]


def test_a_throttled_list_is_a_503(api: Any, plane: Plane) -> None:
    with fault(*STACK_READ, SERVER_ERROR):
        answer = api.http.get("/pipelines")
    assert answer.status_code == 503, answer.body
    assert "Retry-After" in answer.headers
    assert json.loads(answer.body)["message"].startswith("could not list stacks: AWS answered InternalFailure")


def test_a_refused_blueprint_read_is_a_503_that_names_the_refusal(api: Any, plane: Plane) -> None:
    # IAM applies changes after a delay (a fresh install's roles, an edited key policy), so a
    # refusal may pass: the caller is told to send the request again, and what to check if it persists.
    with fault(*BLUEPRINT_READ, ACCESS_DENIED):
        answer = provision(api, load_event("valid/byom_realtime_builtin"))
    body = json.loads(answer.body)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5", body
    assert "AccessDenied" in body["message"] and "role lacks the permission" in body["message"]
    assert "not installed" not in body["message"]
    assert provision(api, load_event("valid/byom_realtime_builtin")).status_code == 200


def test_only_a_missing_blueprint_is_not_installed(api: Any, plane: Plane) -> None:
    s3 = plane.client("s3")
    bucket = plane.config.blueprint_bucket
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    [key] = [k for k in keys if k.endswith("/byom_realtime_inference_pipeline.yaml")]
    s3.delete_object(Bucket=bucket, Key=key)
    status, body = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    assert status == 502, body
    assert f"blueprint byom_realtime_inference_pipeline.yaml is not installed in s3://{bucket}/{key}" == body["message"]
