"""The original solution's routes: ``POST /provisionpipeline`` (with its dry run) and ``POST /pipelinestatus``."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from .. import intake, status
from ..body import parse_object
from ..settings import get_settings
from .responses import json_view

routes = Blueprint(__name__)
# curl -d sends form encoding; the body is JSON whatever the header says.
ANY = ["*/*"]


def caller_of(request: Any) -> str:
    """The IAM caller API Gateway authenticated (empty where nothing authenticates)."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("userArn") or identity.get("caller") or "")


@routes.route("/provisionpipeline", methods=["POST"], content_types=ANY)
@json_view
def provision_pipeline() -> dict[str, Any]:
    body = parse_object(routes.current_request.raw_body)
    return intake.handle(body, get_settings(), caller=caller_of(routes.current_request))


@routes.route("/pipelinestatus", methods=["POST"], content_types=ANY)
@json_view
def pipeline_status() -> dict[str, Any]:
    body = parse_object(routes.current_request.raw_body)
    return status.status(body.get("pipeline_id"), get_settings())
