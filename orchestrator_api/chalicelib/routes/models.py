"""Model registry routes: decide the approval of a registered model (``POST /models/{group}/approval``)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from .. import model_approvals
from ..body import parse_object
from ..settings import get_settings
from .api import ANY, caller_of
from .responses import json_view

models = Blueprint(__name__)


@models.route("/models/{group}/approval", methods=["POST"], content_types=ANY)
@json_view
def approve_model(group: str) -> dict[str, Any]:
    body = parse_object(models.current_request.raw_body)
    return model_approvals.decide(group, body, get_settings(), caller_of(models.current_request))
