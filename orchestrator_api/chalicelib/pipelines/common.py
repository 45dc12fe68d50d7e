"""Parameters every blueprint shares."""

from __future__ import annotations

import json
from typing import Any

from ..models.fields import for_stage
from ..naming import bounded_name, stack_name, state_machine_name
from ..settings import Settings


def compact_json(value: Any) -> str:
    """A rendered parameter holding JSON: compact and key-sorted, so the same request gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def boundary_arn(settings: Settings, stage: str | None) -> str:
    """The roles' permissions boundary; in a stage account, the policy of the same name there."""
    if stage is None or not settings.permissions_boundary_arn:
        return settings.permissions_boundary_arn
    head, _, name = settings.permissions_boundary_arn.partition(":policy/")
    partition = head.split(":")[1]
    return f"arn:{partition}:iam::{settings.stage_account(stage)}:policy/{name}"


def common_params(request: Any, settings: Settings, stage: str | None) -> dict[str, str]:
    """What every blueprint takes: where assets are, the KMS key, the roles' boundary."""
    return {
        "AssetsBucket": settings.assets_bucket,
        "KmsKeyArn": for_stage(getattr(request, "kms_key_arn", None), stage) or "",
        "PermissionsBoundaryArn": boundary_arn(settings, stage),
    }


def stack_name_of(request: Any, settings: Settings) -> str:
    """The blueprint stack a request deploys (the registry knows its naming)."""
    from .catalog import REGISTRY

    entry = REGISTRY.get(request.pipeline_type)
    return stack_name(settings, entry.stack_infix(request), entry.stack_suffix)


def run_role_name(stack: str) -> str:
    """The role a stage account's stack gives the orchestrator's pipeline to start its Run stage."""
    return bounded_name(stack, "run", stack, 64)


def run_params(request: Any, settings: Settings, stage: str | None, cross_account: bool = True) -> dict[str, str]:
    """The state machine the Run stage starts and, promoted across accounts, who may start it."""
    stack = stack_name_of(request, settings)
    params = {"StateMachineName": state_machine_name(stack)}
    if cross_account:
        params["PipelineAccountId"] = settings.account_id if stage else ""
        params["PipelineRunRoleName"] = run_role_name(stack)
    return params


def function_code_params(request: Any, settings: Settings, kind: str) -> dict[str, str]:
    """For blueprints that create a Lambda: where its zipped code was installed, and its name.

    The name starts with the stack's, which the control plane's deploy role may manage.
    """
    stack = stack_name_of(request, settings)
    return {
        "BlueprintBucket": settings.blueprint_bucket,
        "BlueprintPrefix": settings.blueprint_prefix,
        "FunctionName": bounded_name(stack, kind, stack, 64),
    }
