"""Parameters every blueprint shares, rendered from what the renderer is handed (its context)."""

from __future__ import annotations

import json
from typing import Any

from ..models.fields import for_stage
from ..naming import bounded_name, state_machine_name
from ..settings import Settings
from .pipeline_type import RenderContext


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


def common_params(request: Any, ctx: RenderContext) -> dict[str, str]:
    """What every blueprint takes: where assets are, the request's and the installation's KMS
    keys, the roles' boundary.

    The installation's key (which encrypts its buckets and topic) lives in the orchestrator's
    account, so every stage names the same key; stage accounts use it through its key policy.
    """
    return {
        "AssetsBucket": ctx.settings.assets_bucket,
        "KmsKeyArn": for_stage(getattr(request, "kms_key_arn", None), ctx.stage) or "",
        "InstallationKmsKeyArn": ctx.settings.installation_kms_key_arn,
        "PermissionsBoundaryArn": boundary_arn(ctx.settings, ctx.stage),
    }


def sagemaker_name(name: str) -> str:
    """A name SageMaker puts in a resource ARN, as the ARN carries it: in lower case.

    SageMaker names are case-insensitive, but the ARNs it builds from them are lower case and
    IAM compares ARNs case-sensitively, so a role scoped to ``training-job/Churn-...`` would
    never match the job it started. Request fields keep their capitals; the names we derive
    from them do not.
    """
    return name.lower()


def run_role_name(stack: str) -> str:
    """The role a stage account's stack gives the orchestrator's pipeline to start its Run stage."""
    return bounded_name(stack, "run", stack, 64)


def run_params(ctx: RenderContext, cross_account: bool = True) -> dict[str, str]:
    """The state machine the Run stage starts and, promoted across accounts, who may start it."""
    params = {"StateMachineName": state_machine_name(ctx.stack)}
    if cross_account:
        params["PipelineAccountId"] = ctx.settings.account_id if ctx.stage else ""
        params["PipelineRunRoleName"] = run_role_name(ctx.stack)
    return params


def function_code_params(ctx: RenderContext, kind: str) -> dict[str, str]:
    """For blueprints that create a Lambda: where its zipped code was installed, and its name.

    The name starts with the stack's, which the control plane's deploy role may manage.
    """
    return {
        "BlueprintBucket": ctx.settings.blueprint_bucket,
        "BlueprintPrefix": ctx.settings.blueprint_prefix,
        "FunctionName": bounded_name(ctx.stack, kind, ctx.stack, 64),
    }
