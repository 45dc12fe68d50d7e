"""The anchor-compatible routes: ``POST /provisionpipeline`` and ``POST /pipelinestatus``."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from .. import provisioning, status
from ..body import parse_object
from ..settings import get_settings
from .responses import json_view

routes = Blueprint(__name__)
# curl -d sends form encoding; the body is JSON whatever the header says.
ANY = ["*/*"]


def _caller() -> str:
    identity = (routes.current_request.context or {}).get("identity") or {}
    return str(identity.get("userArn") or identity.get("caller") or "")


@routes.route("/provisionpipeline", methods=["POST"], content_types=ANY)
@json_view
def provision_pipeline() -> dict[str, Any]:
    body = parse_object(routes.current_request.raw_body)
    return provisioning.provision(body, get_settings(), caller=_caller())


@routes.route("/pipelinestatus", methods=["POST"], content_types=ANY)
@json_view
def pipeline_status() -> dict[str, Any]:
    body = parse_object(routes.current_request.raw_body)
    return status.status(body.get("pipeline_id"), get_settings())
