"""Settings of an installation as the unit and blueprint tests render against them.

``SETTINGS`` is a single-account installation, ``MULTI`` the same installation promoting to
three stage accounts, ``REGISTRY_MODE`` one that registers models in the model registry;
``problems`` says what a body's 400 would name.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib.errors import ValidationFailed
from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from chalicelib.settings import Settings

SETTINGS = Settings(
    stack_prefix="mlops-pipeline",
    assets_bucket="mlops-assets",
    blueprint_bucket="mlops-blueprints",
    blueprint_prefix="blueprints/1.0.0",
    config_bucket="mlops-config",
    notifications_topic_arn="arn:aws:sns:us-east-1:111122223333:mlops",
    cfn_role_arn="",
    multi_account=False,
    use_model_registry=False,
    ecr_repo_arn="",
    region="us-east-1",
)
MULTI = replace(
    SETTINGS,
    multi_account=True,
    permissions_boundary_arn="arn:aws:iam::111122223333:policy/mlops-pipeline-roles-boundary-us-east-1",
    stage_accounts=(("dev", "222233334444"), ("staging", "333344445555"), ("prod", "444455556666")),
    stage_org_units=(("dev", ""), ("staging", ""), ("prod", "ou-ab12-prod0001")),
)
REGISTRY_MODE = replace(SETTINGS, use_model_registry=True)


def problems(raw: dict[str, Any], settings: Settings = SETTINGS) -> dict[str, str]:
    """The 400's problems (field -> problem) a request body gets under ``settings``; {} when accepted."""
    try:
        parse(REGISTRY.get(raw["pipeline_type"]).model, raw, settings)
    except ValidationFailed as exc:
        return {p.field: p.problem for p in exc.problems}
    return {}
