"""Provision a pipeline: validate, render, bundle, then create or update its stack idempotently.

The invariant: once every request has returned, the bundle the pipeline reads is the one its
stack's last successful update named; every 200 describes what is deployed; a loser of a race
gets a 409.

How it holds. A bundle's key is named by its content
(``mlops_provisioned_pipelines/<blueprint stack>/<sha256, 16 hex>.zip``, see
:func:`~.naming.bundle_key`) and written once, before any stack names it; the pipeline stack's
``TemplateZipFileName`` parameter names it, and CloudFormation changes that parameter
atomically with the rest of the stack. So a stack only ever names a bundle that exists and never
changes, and "already provisioned" means "the stack names this key with these parameters":

- a failed or refused UpdateStack leaves the stack naming its old bundle, which is still there;
  the new bundle is unreferenced. The next request for the pipeline sees another key and updates
  the stack, and the pipeline template's ``RestartExecutionOnUpdate`` starts a run: this is the
  repair.
- a failed creation leaves an unreferenced bundle; a resubmission writes the same key (an
  existing object is fine) and creates the stack.
- two racing creations: CloudFormation's unique stack names let one win; the other gets
  AlreadyExists and answers "unchanged" when it asked for the same thing, else 409.
- two racing updates: CloudFormation refuses the second while the first runs (409).
- a delete writes a marker (:func:`~.naming.deletion_marker`) before it removes anything and
  removes bundles only after the pipeline stack is gone; a provision that sees the marker is a
  409. See :mod:`.teardown`.

Stages, in order:
1. ``plan`` validates the request against its type's model and renders every parameter
   and the source bundle. It writes nothing anywhere.
2. ``assess`` reads the pipeline stack and the deletion marker, pins the plan to the
   blueprints the pipeline runs, and :func:`decide` says what to do: ``create``, ``replace``,
   ``update`` or ``unchanged`` (or a 409). The dry run stops here; it and apply share it, so
   they cannot disagree.
3. ``apply`` does it: a conditional put of the bundle under its new key, then CreateStack or
   UpdateStack.

A pipeline stack whose creation failed (ROLLBACK_COMPLETE) cannot be updated, only deleted.
API Gateway ends a request at 29 s and a stack delete takes longer, so the request only starts
the delete and answers 202 (:class:`~.accepted.Accepted`) with the stack's status; while the
delete runs a resubmission is a 409, and once the stack is gone it creates the pipeline again.
Nothing is written to the bundle folder until then.

Pipelines created before bundles were named by content name ``.../template.zip``; they keep
working and move to a content-named key on their next change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import aws, blueprint_store, bundles, packaging, runs, stacks
from .accepted import Accepted
from .errors import Busy, Conflict, Problem, UpstreamError, ValidationFailed
from .models.base import RequestModel, parse
from .models.fields import STAGES
from .naming import (
    bundle_key,
    content_addressed,
    deletion_marker,
    pipeline_stack_name,
    state_machine_name,
)
from .pipelines.catalog import MULTI_ACCOUNT_PIPELINE, REGISTRY, SINGLE_ACCOUNT_PIPELINE
from .pipelines.common import run_role_name
from .pipelines.inference import refused_update
from .pipelines.pipeline_type import PipelineType
from .settings import Settings

MAX_STACK_NAME = 128
MAX_PIPELINE_NAME = 100  # the CodePipeline is named after the blueprint stack
# A failed creation: the stack can only be deleted, then created again.


@dataclass(frozen=True)
class Plan:
    entry: PipelineType
    request: RequestModel
    stack_name: str  # the blueprint's stack
    pipeline_stack: str  # the stack holding the CodePipeline
    zip_key: str  # the bundle's content-named key
    bundle: packaging.Bundle
    pipeline_params: dict[str, str]
    pipeline_template: str
    # The blueprints the bundle was made from: the installed ones, or those the pipeline is pinned to.
    blueprint_prefix: str
    # The pipeline template always comes from the installed release: it defines how a pipeline
    # runs (its parameters are this release's), while the blueprint inside the bundle is pinned.
    pipeline_template_url: str


def validate(raw: dict[str, Any], settings: Settings) -> tuple[PipelineType, RequestModel]:
    entry = REGISTRY.get(raw.get("pipeline_type"))
    request = parse(entry.model, raw, settings)
    name = entry.stack_name(request, settings)
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


def plan_request(
    entry: PipelineType, request: RequestModel, settings: Settings, blueprint_prefix: str | None = None
) -> Plan:
    """The plan against the installed blueprints, or those under ``blueprint_prefix``."""
    prefix = settings.blueprint_prefix if blueprint_prefix is None else blueprint_prefix
    pipeline_template = _pipeline_template(entry, settings)
    stack = entry.stack_name(request, settings)
    multi = pipeline_template == MULTI_ACCOUNT_PIPELINE
    params = render(entry, request, settings)
    blueprint = entry.blueprint_for(request, settings)
    bundle = packaging.build(
        blueprint,
        blueprint_store.read(settings, blueprint, prefix),
        request.normalized(),
        params,
        {stacks.TAG_PIPELINE: stack},
        scheduled=entry.schedule_after_run,
    )
    zip_key = bundle_key(stack, bundle.sha256)
    pipeline_params = {
        "NotificationsSNSTopicArn": settings.notifications_topic_arn,
        "TemplateZipFileName": zip_key,
        "TemplateFileName": blueprint,
        "AssetsBucket": settings.assets_bucket,
        "StackName": stack,
        "PermissionsBoundaryArn": settings.permissions_boundary_arn,
        "InstallationKmsKeyArn": settings.installation_kms_key_arn,
        "RunStateMachineName": state_machine_name(stack) if entry.has_run_stage(request) else "",
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
    return Plan(
        entry,
        request,
        stack,
        pipeline_stack_name(stack),
        zip_key,
        bundle,
        pipeline_params,
        pipeline_template,
        prefix,
        blueprint_store.url(settings, pipeline_template),
    )


def engine_of(entry: PipelineType, request: RequestModel, settings: Settings) -> dict[str, str]:
    """``{"monitor_engine": ...}`` for monitors that have a choice of engine, else nothing."""
    engine = entry.engine(request, settings)
    return {"monitor_engine": engine} if engine else {}


def provision(raw: dict[str, Any], settings: Settings, caller: str = "", upgrade: bool = False) -> dict[str, Any]:
    """``upgrade``: an existing pipeline moves to the installed blueprints (else it keeps its own)."""
    return apply(plan(raw, settings), settings, caller, upgrade)


# --- apply -------------------------------------------------------------------------------


def pinned_prefix(stack: dict[str, Any], previous: bundles.Named) -> str | None:
    """The blueprints a pipeline runs: its stack's tag, which CloudFormation changes together
    with the bundle the stack names; else (stacks made before the tag) that bundle's metadata."""
    tag = stacks.tags_of(stack).get(stacks.TAG_BLUEPRINTS)
    if tag:
        return tag
    return previous.read().metadata.get(bundles.PREFIX_METADATA) or None


def pinned(
    plan: Plan, stack: dict[str, Any], settings: Settings, previous: bundles.Named, upgrade: bool = False
) -> Plan:
    """The plan against the blueprints the pipeline was created with, whatever is installed since.

    Its blueprints take the parameters its last bundle gave them. When this version of the
    orchestrator renders other ones for them (a newer release changed the blueprint), the
    update would fail in CloudFormation, so it is refused before anything is written: with
    ``upgrade`` the pipeline moves to the installed blueprints instead. ``previous``: the bundle
    the stack names. The pipeline template itself always comes from the installed release.
    """
    prefix = pinned_prefix(stack, previous)
    if not prefix or prefix == plan.blueprint_prefix or upgrade:
        return plan
    old_plan = plan_request(plan.entry, plan.request, settings, prefix)
    body = previous.read().body
    deployed = packaging.read_params(body) if body else {}
    differences = sorted(
        f"{stage or 'stack'}: {', '.join(sorted(set(params) ^ set(deployed[stage])))}"
        for stage, params in old_plan.bundle.params.items()
        if stage in deployed and set(params) != set(deployed[stage])
    )
    if differences:
        raise Conflict(
            f"pipeline {plan.pipeline_stack} runs the blueprints {prefix}, whose parameters this version of the "
            f"orchestrator no longer renders the same way ({'; '.join(differences)}); send the request with "
            f'"upgrade_blueprints": true to move it to {plan.blueprint_prefix}',
            field="upgrade_blueprints",
        )
    return old_plan


def changed_fields(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    if old is None:
        return []
    return [
        {"field": key, "old": old.get(key), "new": new.get(key)}
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]


# --- decide ------------------------------------------------------------------------------


def stack_state(stack: dict[str, Any] | None, pipeline_stack: str, deleting: bool = False) -> str:
    """``absent``, ``failed`` (its creation failed: delete it first) or ``ready`` (it can be
    updated); a 409 when nothing can be done now."""
    if deleting:
        raise Conflict(
            f"pipeline {pipeline_stack} is being deleted; resubmit once the delete has finished "
            f"(repeat DELETE /pipelines/{pipeline_stack} until it answers 200)",
            deleting=True,
        )
    if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
        return "absent"
    status = stack["StackStatus"]
    if status.endswith("_IN_PROGRESS"):
        raise Conflict(f"stack {pipeline_stack} is {status}; resubmit when it has finished", stack_status=status)
    if status in stacks.STUCK:
        raise Conflict(f"stack {pipeline_stack} is {status} and needs an operator; see its events", stack_status=status)
    return "failed" if status in stacks.REPLACEABLE else "ready"


def current(stack: dict[str, Any], plan: Plan, named_sha: str | None = None) -> bool:
    """True when ``stack`` already names ``plan``'s bundle with ``plan``'s parameters.

    ``named_sha``: the content hash of the bundle the stack names, when that key is the older
    ``template.zip`` (only its metadata says what it holds).
    """
    tag = stacks.tags_of(stack).get(stacks.TAG_BLUEPRINTS)
    if tag is not None and tag != plan.blueprint_prefix:
        return False  # an upgraded pipeline's stack tag names its new blueprints too
    wanted = dict(plan.pipeline_params)
    named = stacks.parameters(stack).get("TemplateZipFileName", "")
    if named != plan.zip_key and named_sha == plan.bundle.sha256:
        wanted["TemplateZipFileName"] = named  # the same bundle under its older name
    return stacks.same_params(stack, wanted)


def decide(stack: dict[str, Any] | None, plan: Plan, deleting: bool = False, named_sha: str | None = None) -> str:
    """What a provision does, from what it read: ``create``, ``replace`` (delete a failed
    creation first), ``update`` or ``unchanged``; a 409 when it cannot act now.

    ``plan`` is already pinned to the pipeline's blueprints (:func:`assess`). The dry run and
    apply both take this answer.
    """
    state = stack_state(stack, plan.pipeline_stack, deleting)
    if state == "absent":
        return "create"
    if state == "failed":
        return "replace"
    assert stack is not None
    return "unchanged" if current(stack, plan, named_sha) else "update"


@dataclass(frozen=True)
class Assessment:
    """What :func:`assess` read and decided."""

    action: str  # create | replace | update | unchanged
    plan: Plan  # pinned to the pipeline's blueprints
    stack: dict[str, Any] | None
    previous: bundles.Named  # the bundle the stack names (read on demand, at most once)


def assess(plan: Plan, settings: Settings, upgrade: bool = False) -> Assessment:
    """Read the pipeline stack and the deletion marker, pin the plan, and :func:`decide`."""
    stack = stacks.describe(plan.pipeline_stack)
    deleting = bundles.being_deleted(settings.assets_bucket, deletion_marker(plan.stack_name))
    named = stacks.parameters(stack).get("TemplateZipFileName") if stack else None
    previous = bundles.Named(settings.assets_bucket, named)
    named_sha = None
    if stack_state(stack, plan.pipeline_stack, deleting) == "ready":
        assert stack is not None
        plan = pinned(plan, stack, settings, previous, upgrade)
        if named and not content_addressed(named):
            named_sha = previous.read().metadata.get(bundles.SHA_METADATA)
    return Assessment(decide(stack, plan, deleting, named_sha), plan, stack, previous)


# --- apply -------------------------------------------------------------------------------


def _start_replacement(plan: Plan, stack: dict[str, Any]) -> Accepted:
    """Start deleting a pipeline stack whose creation failed; a resubmission creates it again."""
    status = stack["StackStatus"]
    stacks.delete(stack)
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
            "blueprint_version": plan.blueprint_prefix,
        }
    )


def _create(settings: Settings, plan: Plan, caller: str) -> str:
    tags = {
        stacks.TAG_TYPE: plan.entry.name,
        stacks.TAG_PIPELINE: plan.stack_name,
        stacks.TAG_BLUEPRINTS: plan.blueprint_prefix,
    }
    if caller:
        # A caller ARN's session name may hold ',' and a config's key anything S3 allows.
        tags[stacks.TAG_CREATOR] = stacks.tag_value(caller)
    return stacks.create(
        plan.pipeline_stack, plan.pipeline_template_url, plan.pipeline_params, tags, settings.cfn_role_arn
    )


def _update(settings: Settings, plan: Plan, stack: dict[str, Any]) -> bool:
    """Point the stack at the plan's bundle and parameters; False when CloudFormation has nothing to do."""
    tags = {**stacks.tags_of(stack), stacks.TAG_BLUEPRINTS: plan.blueprint_prefix}
    return stacks.update(
        plan.pipeline_stack, plan.pipeline_template_url, plan.pipeline_params, tags, settings.cfn_role_arn
    )


def apply(plan: Plan, settings: Settings, caller: str = "", upgrade: bool = False) -> dict[str, Any]:
    """Create, update or repair the pipeline ``plan`` describes.

    Every invocation is its own process in AWS, so nothing here serialises requests:
    CloudFormation's unique stack names and atomic stack updates, and bundle keys named by their
    content, keep concurrent requests apart. (Local mode's emulator is not atomic; local mode
    lets requests for one pipeline take turns itself.)
    """
    found = assess(plan, settings, upgrade)
    plan, stack = found.plan, found.stack
    if found.action == "replace":
        assert stack is not None
        return _start_replacement(plan, stack)
    if found.action == "unchanged":
        assert stack is not None
        return _result(plan, settings, stack["StackId"], "unchanged")
    what_changed = _what_changed(found) if found.action == "update" else {}
    if found.action == "update":
        _refuse_endpoint_updates(found)
    bundles.put(settings.assets_bucket, plan.zip_key, plan.bundle, plan.blueprint_prefix)
    if found.action == "create":
        try:
            return _result(plan, settings, _create(settings, plan, caller), "created")
        except Exception as exc:
            if aws.error_code(exc) != "AlreadyExistsException":
                raise UpstreamError(f"could not create stack {plan.pipeline_stack}: {exc}") from exc
            # A concurrent request created it first; the same bundle and parameters make this a no-op.
            stack = stacks.describe(plan.pipeline_stack)
            if stack is None or not stacks.same_params(stack, plan.pipeline_params):
                raise Busy(
                    f"stack {plan.pipeline_stack} was created by another request with another bundle or "
                    "parameters; resubmit to update it to this request"
                ) from exc
            return _result(plan, settings, stack["StackId"], "unchanged")
    assert stack is not None
    if not _update(settings, plan, stack):
        return _result(plan, settings, stack["StackId"], "unchanged")
    return _result(plan, settings, stack["StackId"], "updated", what_changed)


def _refuse_endpoint_updates(found: Assessment) -> None:
    """A 400 for a change SageMaker would refuse on the live endpoint, before the stack is touched."""
    read = found.previous.read()
    old = packaging.read_params(read.body) if read.body else {}
    problems = [
        Problem("serverless", f"{why}" + (f" (stage {stage})" if stage else ""))
        for stage, params in found.plan.bundle.params.items()
        if (why := refused_update(old.get(stage, {}), params))
    ]
    if problems:
        raise ValidationFailed(problems, "the live endpoint cannot take this change")


def _what_changed(found: Assessment) -> dict[str, Any]:
    """``changes`` (the request fields that differ from the deployed bundle's), or
    ``changes_unavailable`` saying why they cannot be listed."""
    read = found.previous.read()
    if read.body is None:
        return {"changes_unavailable": read.problem}
    old = packaging.read_request(read.body)
    if old is None:
        return {"changes_unavailable": f"the deployed bundle {found.previous.where} holds no request to compare with"}
    return {"changes": changed_fields(old, found.plan.request.normalized())}


_MESSAGES = {
    "created": "success: stack creation started",
    "updated": "pipeline {} is being updated",
    "unchanged": "pipeline {} is already provisioned; no updates are to be performed",
}


def _result(
    plan: Plan, settings: Settings, stack_id: str, action: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "message": _MESSAGES[action].format(plan.pipeline_stack),
        "pipeline_id": stack_id,
        "pipeline_type": plan.entry.name,
        "stack_name": plan.pipeline_stack,
        "blueprint_stack_name": plan.stack_name,
        "changed": action != "unchanged",
        "action": action,
        "blueprint_version": plan.blueprint_prefix,
        **engine_of(plan.entry, plan.request, settings),
        # An unchanged pipeline whose latest run failed: how to run it again.
        **(runs.retry_hint(plan.stack_name) if action == "unchanged" else {}),
        **(extra or {}),
    }
