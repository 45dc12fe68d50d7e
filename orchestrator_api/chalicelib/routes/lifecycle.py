"""Pipeline lifecycle routes: list, describe, delete, approve; and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from .. import approvals, inventory, openapi, teardown
from ..body import parse_object
from ..settings import get_settings
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


@lifecycle.route("/pipelines/{pipeline_id}", methods=["GET"])
@json_view
def describe_pipeline(pipeline_id: str) -> dict[str, Any]:
    return inventory.describe(pipeline_id, get_settings())


@lifecycle.route("/pipelines/{pipeline_id}", methods=["DELETE"])
@json_view
def delete_pipeline(pipeline_id: str) -> dict[str, Any]:
    return teardown.delete(pipeline_id, get_settings())


@lifecycle.route("/pipelines/{pipeline_id}/approval", methods=["POST"], content_types=ANY)
@json_view
def approve(pipeline_id: str) -> dict[str, Any]:
    body = parse_object(lifecycle.current_request.raw_body)
    return approvals.decide(pipeline_id, body, get_settings(), caller_of(lifecycle.current_request))


@lifecycle.route("/openapi.json", methods=["GET"])
@json_view
def openapi_document() -> dict[str, Any]:
    return openapi.document()
