"""Pipeline lifecycle routes: list, describe, delete, approve, retry; and the OpenAPI document.

A pipeline is named in the path by its stack name or by the ``pipeline_id`` that
``POST /provisionpipeline`` returned: a stack ARN, ``arn:...:stack/<name>/<id>``, whose two
slashes a client URL-encodes (``%2F``). Where that encoding reaches the app intact (Chalice's
local server, and so local mode) the path parameter is decoded here. API Gateway decodes
``%2F`` before it matches a resource, so there the ARN arrives as three path segments: the
``/pipelines/{pipeline_id}/{stack_name}/{stack_id}`` routes take it back together.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from chalice.app import Blueprint

from .. import approvals, inventory, openapi, runs, status, teardown
from ..body import parse_object
from ..settings import get_settings
from ..stacks import parameters as stack_parameters
from .api import ANY, caller_of
from .responses import json_view

lifecycle = Blueprint(__name__)


@lifecycle.route("/pipelines", methods=["GET"])
@json_view
def list_pipelines() -> dict[str, Any]:
    query = dict(lifecycle.current_request.query_params or {})
    return inventory.list_pipelines(
        get_settings(),
        pipeline_type=query.get("type"),
        stack_status=query.get("status"),
        next_token=query.get("next_token"),
        max_results=query.get("max_results"),
    )


def path_pipeline_id(*segments: str) -> str:
    """The pipeline_id a path names: its segments rejoined, percent-encoding undone.

    Stack names and ARNs hold no ``%``, so decoding cannot change a valid id; twice covers a
    client that encoded an already encoded ARN.
    """
    pipeline_id = "/".join(segments)
    for _ in range(2):
        if "%" not in pipeline_id:
            break
        pipeline_id = unquote(pipeline_id)
    return pipeline_id


# The ARN's path as API Gateway matches it: "arn:...:stack" / stack name / stack id.
ARN_PATH = "/pipelines/{pipeline_id}/{stack_name}/{stack_id}"


@lifecycle.route("/pipelines/{pipeline_id}", methods=["GET"])
@json_view
def describe_pipeline(pipeline_id: str) -> dict[str, Any]:
    return inventory.describe(path_pipeline_id(pipeline_id), get_settings())


@lifecycle.route(ARN_PATH, methods=["GET"])
@json_view
def describe_pipeline_by_arn(pipeline_id: str, stack_name: str, stack_id: str) -> dict[str, Any]:
    return inventory.describe(path_pipeline_id(pipeline_id, stack_name, stack_id), get_settings())


@lifecycle.route("/pipelines/{pipeline_id}", methods=["DELETE"])
@json_view
def delete_pipeline(pipeline_id: str) -> dict[str, Any]:
    return teardown.delete(path_pipeline_id(pipeline_id), get_settings())


@lifecycle.route(ARN_PATH, methods=["DELETE"])
@json_view
def delete_pipeline_by_arn(pipeline_id: str, stack_name: str, stack_id: str) -> dict[str, Any]:
    return teardown.delete(path_pipeline_id(pipeline_id, stack_name, stack_id), get_settings())


@lifecycle.route("/pipelines/{pipeline_id}/approval", methods=["POST"], content_types=ANY)
@json_view
def approve(pipeline_id: str) -> dict[str, Any]:
    body = parse_object(lifecycle.current_request.raw_body)
    return approvals.decide(path_pipeline_id(pipeline_id), body, get_settings(), caller_of(lifecycle.current_request))


@lifecycle.route("/pipelines/{pipeline_id}/retry", methods=["POST"], content_types=ANY)
@json_view
def retry(pipeline_id: str) -> dict[str, Any]:
    """A new run of the pipeline as it is: for a run that failed on inputs fixed since."""
    stack = status.resolve(path_pipeline_id(pipeline_id), get_settings())
    pipeline = stack_parameters(stack).get("StackName") or stack["StackName"].removesuffix("-codepipeline")
    return runs.retry(pipeline, stack["StackId"])


@lifecycle.route("/openapi.json", methods=["GET"])
@json_view
def openapi_document() -> dict[str, Any]:
    return openapi.document()
