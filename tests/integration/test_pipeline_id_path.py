"""GET and DELETE /pipelines/{pipeline_id} take the pipeline_id exactly as POST /provisionpipeline
returned it: a stack ARN, URL-encoded by the client (curl, requests), as it reaches the app through
local mode's server (encoding intact) and through API Gateway (which decodes %2F before matching,
so the ARN arrives as three path segments)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from mlops_local.executor import Store, execute
from tests.support.events import load_event
from tests.support.plane import Plane, post


def call(api: Any, method: str, path: str) -> tuple[int, Any]:
    response = getattr(api.http, method)(path)
    return response.status_code, json.loads(response.body)


def encoded(arn: str) -> str:
    return quote(arn, safe="")


def provisioned(api: Any, plane: Plane) -> dict[str, Any]:
    _, answer = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    assert answer["pipeline_id"].startswith("arn:aws:cloudformation:") and "/" in answer["pipeline_id"]
    return dict(answer)


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(encoded, id="url-encoded (local mode, curl)"),
        pytest.param(lambda arn: arn, id="decoded by API Gateway (three segments)"),
        pytest.param(lambda arn: quote(encoded(arn), safe=""), id="encoded twice"),
        pytest.param(lambda arn: quote(arn, safe="/"), id="colons encoded, slashes not"),
    ],
)
def test_describe_takes_the_pipeline_id_as_provision_returned_it(api: Any, plane: Plane, form: Any) -> None:
    answer = provisioned(api, plane)
    status, doc = call(api, "get", f"/pipelines/{form(answer['pipeline_id'])}")
    assert status == 200, doc
    assert doc["summary"]["pipeline_id"] == answer["pipeline_id"]


@pytest.mark.parametrize("form", [encoded, lambda arn: arn], ids=["url-encoded", "decoded by API Gateway"])
def test_delete_takes_the_pipeline_id_as_provision_returned_it(api: Any, plane: Plane, form: Any) -> None:
    answer = provisioned(api, plane)
    execute(plane.session, answer["stack_name"], Store())
    path = f"/pipelines/{form(answer['pipeline_id'])}"
    status, gone = call(api, "delete", path)
    assert status == 200 and gone["action"] == "deleting", gone
    assert plane.stacks() == []
    status, again = call(api, "delete", path)
    assert status == 200 and again["action"] == "none", again


@pytest.mark.parametrize(
    "path",
    [
        "/pipelines/not%2Fa%2Fstack",
        "/pipelines/arn:aws:s3:::bucket/key/more",
        "/pipelines/bad%25zz",
    ],
)
def test_an_id_that_is_no_stack_is_a_400_naming_pipeline_id(api: Any, plane: Plane, path: str) -> None:
    for method in ("get", "delete"):
        status, doc = call(api, method, path)
        assert status == 400, (method, doc)
        assert doc["problems"][0]["field"] == "pipeline_id"
