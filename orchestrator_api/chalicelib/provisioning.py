"""Provision a pipeline: validate, render, bundle, then create or update its stack idempotently.

Stages, in order:
1. ``plan`` validates the request against its type's model and renders every parameter
   and the source bundle. It writes nothing anywhere.
2. ``apply`` compares the plan with what is deployed and does the least work: nothing when
   the bundle and the pipeline stack's parameters are unchanged; a conditional put of the
   bundle (so two concurrent writers cannot interleave); a create or an update. A stack
   operation in progress is a 409.

A pipeline stack whose creation failed (ROLLBACK_COMPLETE) cannot be updated, only deleted.
API Gateway ends a request at 29 s and a stack delete takes longer, so the request only starts
the delete and answers 202 (:class:`~.accepted.Accepted`) with the stack's status; while the
delete runs a resubmission is a 409, and once the stack is gone it creates the pipeline again.
Nothing is written to the bundle until then. :func:`decide` makes this choice for apply and
the dry run alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from . import aws, blueprints, packaging
from .accepted import Accepted
from .errors import Conflict, Problem, UpstreamError, ValidationFailed
from .models.base import RequestModel, parse
from .models.fields import STAGES
from .naming import pipeline_stack_name, stack_name, state_machine_name
from .pipelines.catalog import MULTI_ACCOUNT_PIPELINE, REGISTRY, SINGLE_ACCOUNT_PIPELINE
from .pipelines.common import run_role_name
from .pipelines.registry import PipelineType
from .settings import Settings

MAX_STACK_NAME = 128
MAX_PIPELINE_NAME = 100  # the CodePipeline is named after the blueprint stack
SHA_METADATA = "bundle-sha256"
PREFIX_METADATA = "blueprint-prefix"  # the blueprints the bundle was made from
TAG_TYPE = "mlops:pipeline-type"
TAG_CREATOR = "mlops:created-by"
TAG_PIPELINE = "mlops:pipeline"
TAG_BLUEPRINTS = "mlops:blueprint-prefix"
# A failed creation: the stack can only be deleted, then created again.
REPLACEABLE = {"ROLLBACK_COMPLETE"}
STUCK = {"ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED"}


@dataclass(frozen=True)
class Plan:
    entry: PipelineType
    request: RequestModel
    stack_name: str  # the blueprint's stack
    pipeline_stack: str  # the stack holding the CodePipeline
    zip_key: str
    bundle: packaging.Bundle
    pipeline_params: dict[str, str]
    pipeline_template: str


def validate(raw: dict[str, Any], settings: Settings) -> tuple[PipelineType, RequestModel]:
    entry = REGISTRY.get(raw.get("pipeline_type"))
    request = parse(entry.model, raw, settings)
    name = stack_name(settings, entry.stack_infix(request), entry.stack_suffix)
    if len(name) > MAX_PIPELINE_NAME or len(pipeline_stack_name(name)) > MAX_STACK_NAME:
        raise ValidationFailed(
            [
                Problem(
                    entry.infix_field,
                    f"makes the pipeline name {name!r} {len(name)} characters long; "
                    f"CodePipeline allows at most {MAX_PIPELINE_NAME}",
                )
            ]
        )
    return entry, request


def _pipeline_template(entry: PipelineType, settings: Settings) -> str:
    if settings.multi_account and entry.multi_account:
        return MULTI_ACCOUNT_PIPELINE
    return SINGLE_ACCOUNT_PIPELINE


def plan(raw: dict[str, Any], settings: Settings) -> Plan:
    return plan_request(*validate(raw, settings), settings)


# CloudFormation's largest parameter value, in bytes; and the request fields whose JSON fills
# the parameters that can grow that large.
MAX_PARAMETER_BYTES = 4096
PARAMETER_FIELDS = {
    "ClarifyRequest": ("shap_config", "bias_config"),
    "HyperParameters": ("algo_hyperparamaters",),
    "TuningJobConfig": ("hyperparamaters_ranges",),
}


def _check_sizes(request: RequestModel, params: dict[str | None, dict[str, str]]) -> None:
    """A 400 naming the field when a rendered parameter is over CloudFormation's limit."""
    problems = []
    for stage_params in params.values():
        for name, value in stage_params.items():
            size = len(value.encode())
            if size <= MAX_PARAMETER_BYTES:
                continue
            given = [f for f in PARAMETER_FIELDS.get(name, ()) if getattr(request, f, None) is not None]
            field = given[0] if given else "body"
            hint = " (give a SHAP baseline as an S3 URI instead of rows)" if field == "shap_config" else ""
            problem = (
                f"makes the blueprint parameter {name} {size} bytes long; CloudFormation takes at most "
                f"{MAX_PARAMETER_BYTES}{hint}"
            )
            if Problem(field, problem) not in problems:
                problems.append(Problem(field, problem))
    if problems:
        raise ValidationFailed(problems, "the request is too large for its blueprint")


def render(entry: PipelineType, request: RequestModel, settings: Settings) -> dict[str | None, dict[str, str]]:
    """The blueprint's parameters per stage (None: one account), each within CloudFormation's limit."""
    multi = _pipeline_template(entry, settings) == MULTI_ACCOUNT_PIPELINE
    stages: tuple[str | None, ...] = STAGES if multi else (None,)
    params = {stage: entry.render(request, settings, stage) for stage in stages}
    _check_sizes(request, params)
    return params


def plan_request(entry: PipelineType, request: RequestModel, settings: Settings) -> Plan:
    pipeline_template = _pipeline_template(entry, settings)
    stack = stack_name(settings, entry.stack_infix(request), entry.stack_suffix)
    multi = pipeline_template == MULTI_ACCOUNT_PIPELINE
    params = render(entry, request, settings)
    zip_key = f"mlops_provisioned_pipelines/{stack}/template.zip"
    blueprint = entry.blueprint_for(request, settings)
    bundle = packaging.build(
        blueprint,
        blueprints.read(settings, blueprint),
        request.normalized(),
        params,
        {TAG_PIPELINE: stack},
        scheduled=entry.schedule_after_run,
    )
    pipeline_params = {
        "NotificationsSNSTopicArn": settings.notifications_topic_arn,
        "TemplateZipFileName": zip_key,
        "TemplateFileName": blueprint,
        "AssetsBucket": settings.assets_bucket,
        "StackName": stack,
        "PermissionsBoundaryArn": settings.permissions_boundary_arn,
        "InstallationKmsKeyArn": settings.installation_kms_key_arn,
        "RunStateMachineName": state_machine_name(stack) if entry.run_stage else "",
        "ScheduleAfterRun": "true" if entry.schedule_after_run else "false",
    }
    if multi:
        pipeline_params["RunRoleName"] = run_role_name(stack)
        for stage in STAGES:
            pipeline_params[f"{stage.title()}AccountId"] = settings.stage_account(stage)
            pipeline_params[f"{stage.title()}OrgId"] = settings.stage_org_unit(stage)
    else:
        pipeline_params["TemplateParamsName"] = packaging.PARAMS_FILE
        pipeline_params["DeployRoleArn"] = settings.cfn_role_arn
    return Plan(entry, request, stack, pipeline_stack_name(stack), zip_key, bundle, pipeline_params, pipeline_template)


def engine_of(request: RequestModel, settings: Settings) -> dict[str, str]:
    """``{"monitor_engine": ...}`` for monitors that have a choice of engine, else nothing."""
    engine = getattr(request, "engine", None)
    return {"monitor_engine": engine(settings)} if callable(engine) else {}


def provision(raw: dict[str, Any], settings: Settings, caller: str = "", upgrade: bool = False) -> dict[str, Any]:
    """``upgrade``: an existing pipeline moves to the installed blueprints (else it keeps its own)."""
    return apply(plan(raw, settings), settings, caller, upgrade)


# --- apply -------------------------------------------------------------------------------


def describe_stack(name: str) -> dict[str, Any] | None:
    try:
        stacks = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except Exception as exc:
        if aws.error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            return None
        raise UpstreamError(f"could not read stack {name}: {exc}") from exc
    return stacks[0] if stacks else None


def stack_parameters(stack: dict[str, Any]) -> dict[str, str]:
    """A described stack's parameters as a plain dict."""
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}


def promoted(params: dict[str, str]) -> bool:
    """True for a pipeline stack made from the multi-account template (it takes the stage accounts)."""
    return "DevAccountId" in params


def same_params(stack: dict[str, Any], wanted: dict[str, str]) -> bool:
    current = stack_parameters(stack)
    return all(current.get(key) == value for key, value in wanted.items())


def _as_cfn(params: dict[str, str]) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(params.items())]


def head_bundle(settings: Settings, key: str) -> dict[str, str] | None:
    try:
        head = aws.head_object(settings.assets_bucket, key)
    except Exception as exc:
        raise UpstreamError(f"could not read s3://{settings.assets_bucket}/{key}: {exc}") from exc
    if head is None:
        return None
    meta = head.get("Metadata", {})
    return {"etag": head["ETag"], "sha": meta.get(SHA_METADATA, ""), "prefix": meta.get(PREFIX_METADATA, "")}


def read_bundle(settings: Settings, key: str) -> bytes | None:
    """The pipeline's current bundle from the assets bucket, if it can be read."""
    try:
        return bytes(aws.client("s3").get_object(Bucket=settings.assets_bucket, Key=key)["Body"].read())
    except Exception:
        return None


def pinned(
    plan: Plan, stack: dict[str, Any], settings: Settings, head: dict[str, str] | None, upgrade: bool = False
) -> tuple[Plan, Settings]:
    """The plan against the blueprints the pipeline was created with, whatever is installed since.

    Its blueprints take the parameters its last bundle gave them. When this version of the
    orchestrator renders other ones for them (a newer release changed the blueprint), the
    update would fail in CloudFormation, so it is refused before anything is written: with
    ``upgrade`` the pipeline moves to the installed blueprints instead. ``head``: the
    pipeline's bundle as :func:`head_bundle` read it (None: there is none).
    """
    prefix = pinned_prefix(head, stack)
    if not prefix or prefix == settings.blueprint_prefix or upgrade:
        return plan, settings
    old_settings = replace(settings, blueprint_prefix=prefix)
    old_plan = plan_request(plan.entry, plan.request, old_settings)
    previous = read_bundle(settings, plan.zip_key)
    deployed = packaging.read_params(previous) if previous else {}
    differences = sorted(
        f"{stage or 'stack'}: {', '.join(sorted(set(params) ^ set(deployed[stage])))}"
        for stage, params in old_plan.bundle.params.items()
        if stage in deployed and set(params) != set(deployed[stage])
    )
    if differences:
        raise Conflict(
            f"pipeline {plan.pipeline_stack} runs the blueprints {prefix}, whose parameters this version of the "
            f"orchestrator no longer renders the same way ({'; '.join(differences)}); send the request with "
            f'"upgrade_blueprints": true to move it to {settings.blueprint_prefix}',
            field="upgrade_blueprints",
        )
    return old_plan, old_settings


def _put_bundle(settings: Settings, plan: Plan, previous: dict[str, str] | None) -> bool:
    """Write the bundle unless an identical one is there; True when this call wrote it."""
    try:
        written = aws.put_if_unchanged(
            settings.assets_bucket,
            plan.zip_key,
            plan.bundle.zip_bytes,
            previous["etag"] if previous else None,
            ContentType="application/zip",
            Metadata={SHA_METADATA: plan.bundle.sha256, PREFIX_METADATA: settings.blueprint_prefix},
        )
    except Exception as exc:
        raise UpstreamError(f"could not write the pipeline bundle: {exc}") from exc
    if written:
        return True
    # Another request wrote the bundle between our read and our write.
    now = head_bundle(settings, plan.zip_key)
    if now and now["sha"] == plan.bundle.sha256:
        return False
    raise Conflict(f"pipeline {plan.stack_name} was changed by another request at the same time; retry")


def changed_fields(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    if old is None:
        return []
    return [
        {"field": key, "old": old.get(key), "new": new.get(key)}
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]


def decide(stack: dict[str, Any] | None, pipeline_stack: str) -> str:
    """What a provision does with the pipeline stack as it is now: ``create``, ``update`` or
    ``replace`` (delete a failed creation first); a 409 when it cannot act now."""
    if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
        return "create"
    status = stack["StackStatus"]
    if status.endswith("_IN_PROGRESS"):
        raise Conflict(f"stack {pipeline_stack} is {status}; resubmit when it has finished", stack_status=status)
    if status in STUCK:
        raise Conflict(f"stack {pipeline_stack} is {status} and needs an operator; see its events", stack_status=status)
    return "replace" if status in REPLACEABLE else "update"


def _start_replacement(plan: Plan, stack: dict[str, Any], settings: Settings) -> Accepted:
    """Start deleting a pipeline stack whose creation failed; a resubmission creates it again."""
    status = stack["StackStatus"]
    try:
        aws.client("cloudformation").delete_stack(StackName=stack["StackId"])
    except Exception as exc:
        raise UpstreamError(f"could not delete failed stack {stack['StackName']}: {exc}") from exc
    reason = f" ({stack['StackStatusReason']})" if stack.get("StackStatusReason") else ""
    return Accepted(
        {
            "message": (
                f"stack {plan.pipeline_stack} was {status}{reason}: its creation failed, so it is being deleted; "
                "resubmit this request when it is deleted and the pipeline is created again"
            ),
            "pipeline_id": stack["StackId"],
            "pipeline_type": plan.entry.name,
            "stack_name": plan.pipeline_stack,
            "blueprint_stack_name": plan.stack_name,
            "stack_status": "DELETE_IN_PROGRESS",
            "previous_stack_status": status,
            "changed": True,
            "action": "replacing",
            "blueprint_version": settings.blueprint_prefix,
        }
    )


# What every service lets a tag value hold (CloudFormation passes stack tags on to the resources):
# letters, digits, spaces and _ . : / = + - @, at most 256 characters.
_TAG_VALUE_UNSAFE = re.compile(r"[^A-Za-z0-9 _.:/=+\-@]")
MAX_TAG_VALUE = 256


def tag_value(text: str) -> str:
    """``text`` as a valid tag value: other characters become '_', and it is cut to 256."""
    return _TAG_VALUE_UNSAFE.sub("_", text)[:MAX_TAG_VALUE]


def _create(settings: Settings, plan: Plan, caller: str) -> str:
    cfn = aws.client("cloudformation")
    tags = {TAG_TYPE: plan.entry.name, TAG_PIPELINE: plan.stack_name, TAG_BLUEPRINTS: settings.blueprint_prefix}
    if caller:
        # A caller ARN's session name may hold ',' and a config's key anything S3 allows.
        tags[TAG_CREATOR] = tag_value(caller)
    extra = {"RoleARN": settings.cfn_role_arn} if settings.cfn_role_arn else {}
    response = cfn.create_stack(
        StackName=plan.pipeline_stack,
        TemplateURL=blueprints.url(settings, plan.pipeline_template),
        Parameters=_as_cfn(plan.pipeline_params),
        Capabilities=["CAPABILITY_IAM"],
        OnFailure="ROLLBACK",
        Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        **extra,
    )
    return str(response["StackId"])


def tags_of(stack: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in stack.get("Tags", [])}


def pinned_prefix(head: dict[str, str] | None, stack: dict[str, Any]) -> str | None:
    """The blueprints a pipeline runs: its bundle's (``head``), else its stack's tag (older bundles)."""
    if head and head["prefix"]:
        return head["prefix"]
    return tags_of(stack).get(TAG_BLUEPRINTS)


def _update(settings: Settings, plan: Plan, stack: dict[str, Any]) -> bool:
    extra = {"RoleARN": settings.cfn_role_arn} if settings.cfn_role_arn else {}
    tags = tags_of(stack)
    if TAG_BLUEPRINTS in tags:
        tags[TAG_BLUEPRINTS] = settings.blueprint_prefix
    try:
        aws.client("cloudformation").update_stack(
            StackName=plan.pipeline_stack,
            TemplateURL=blueprints.url(settings, plan.pipeline_template),
            Parameters=_as_cfn(plan.pipeline_params),
            Capabilities=["CAPABILITY_IAM"],
            Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
            **extra,
        )
    except Exception as exc:
        if "No updates are to be performed" in str(exc):
            return False
        raise UpstreamError(f"could not update stack {plan.pipeline_stack}: {exc}") from exc
    return True


def apply(plan: Plan, settings: Settings, caller: str = "", upgrade: bool = False) -> dict[str, Any]:
    """Create, update or repair the pipeline ``plan`` describes.

    Every invocation is its own process in AWS, so nothing here serialises requests:
    CloudFormation's unique stack names and the conditional bundle write keep concurrent
    requests apart. (Local mode's emulator is not atomic; local mode lets requests for one
    pipeline take turns itself.)
    """
    return _apply(plan, settings, caller, upgrade)


def _apply(plan: Plan, settings: Settings, caller: str, upgrade: bool) -> dict[str, Any]:
    stack = describe_stack(plan.pipeline_stack)
    decision = decide(stack, plan.pipeline_stack)
    if decision == "replace":
        assert stack is not None
        return _start_replacement(plan, stack, settings)
    if decision == "create":
        stack = None
    # The bundle's key and bucket do not depend on the blueprints, so one head serves both.
    previous = head_bundle(settings, plan.zip_key)
    if stack is not None:
        plan, settings = pinned(plan, stack, settings, previous, upgrade)
    bundle_changed = previous is None or previous["sha"] != plan.bundle.sha256
    changes: list[dict[str, Any]] = []
    if bundle_changed:
        old_bundle = read_bundle(settings, plan.zip_key) if previous else None
        old_request = packaging.read_request(old_bundle) if old_bundle else None
        changes = changed_fields(old_request, plan.request.normalized())
        bundle_changed = _put_bundle(settings, plan, previous)

    if stack is None:
        try:
            stack_id = _create(settings, plan, caller)
            action = "created"
        except Exception as exc:
            if aws.error_code(exc) != "AlreadyExistsException":
                raise UpstreamError(f"could not create stack {plan.pipeline_stack}: {exc}") from exc
            # A concurrent request created it first; identical parameters make this a no-op.
            stack = describe_stack(plan.pipeline_stack)
            if stack is None or not same_params(stack, plan.pipeline_params):
                raise Conflict(f"stack {plan.pipeline_stack} was created by another request; retry") from exc
            stack_id, action = stack["StackId"], "unchanged"
    else:
        stack_id = stack["StackId"]
        # An upgraded pipeline's stack tag names its new blueprints too.
        tag = tags_of(stack).get(TAG_BLUEPRINTS)
        moved = tag is not None and tag != settings.blueprint_prefix
        if (moved or not same_params(stack, plan.pipeline_params)) and _update(settings, plan, stack):
            action = "updated"
        else:
            action = "updated" if bundle_changed else "unchanged"

    messages = {
        "created": "success: stack creation started",
        "updated": f"pipeline {plan.pipeline_stack} is being updated",
        "unchanged": f"pipeline {plan.pipeline_stack} is already provisioned; no updates are to be performed",
    }
    result: dict[str, Any] = {
        "message": messages[action],
        "pipeline_id": stack_id,
        "pipeline_type": plan.entry.name,
        "stack_name": plan.pipeline_stack,
        "blueprint_stack_name": plan.stack_name,
        "changed": action != "unchanged",
        "action": action,
        "blueprint_version": settings.blueprint_prefix,
        **engine_of(plan.request, settings),
    }
    if changes:
        result["changes"] = changes
    return result
