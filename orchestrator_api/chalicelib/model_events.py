"""Model registry events: a pipeline that follows a model package group deploys its latest
Approved package.

SageMaker sends "SageMaker Model Package State Change" to EventBridge whenever a package's
approval changes; the control plane's rule hands it to ``app.on_model_package_event``. For every
pipeline whose request names the event's group (``model_package_group_name``), the handler
works out the package it should deploy and, when that differs from the one it deploys, sends the
pipeline's own request with that package through the same provisioning path as a provision
request (plan, assess, apply: a new bundle, one atomic stack update, the pipeline's run).

The package to deploy is read from the registry, never taken from the event alone: the group's
Approved package with the highest version, as SageMaker answers now, with the event's package
counted by its status now (a listing may lag behind the event that reported it). So:
- a duplicate event, or one SageMaker sends twice, finds the pipeline already there: nothing
  happens (recorded as ``unchanged``);
- an event that arrives late (version 2 approved, after version 3) cannot move a pipeline back;
- a revoked approval (Approved -> Rejected or back to PendingManualApproval) moves the
  pipelines to the highest version still Approved; when none is left they keep their package
  and the topic says so.

Every outcome goes to the pipeline's record (:mod:`.package_history`), every change and failure
to the notifications topic. A pipeline that cannot be updated now (its stack is busy) fails the
event after the others were handled, so Lambda retries it; the retry finds the pipelines already
updated unchanged. A stack update is atomic, so no pipeline is ever half-updated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from . import bundles, inventory, notices, package_history, packaging, provisioning, registry
from .errors import OrchestratorError, UpstreamError
from .settings import Settings
from .stacks import REPLACEABLE, TAG_TYPE, tags_of
from .stacks import parameters as stack_parameters

log = logging.getLogger(__name__)

SOURCE = "aws.sagemaker"
DETAIL_TYPE = "SageMaker Model Package State Change"
# The control plane's EventBridge rule matches these (sam/template.yaml, ModelPackageEventsRule).
EVENT_PATTERN: dict[str, Any] = {
    "source": [SOURCE],
    "detail-type": [DETAIL_TYPE],
    "detail": {"ModelApprovalStatus": [registry.APPROVED, registry.REJECTED, registry.PENDING]},
}
FOLLOWING_TYPES = ("byom_realtime_builtin", "byom_realtime_custom", "byom_batch_builtin", "byom_batch_custom")
STAGE = "model registry"


@dataclass(frozen=True)
class Follower:
    """A pipeline that follows a group: its stacks and the request it was provisioned with."""

    pipeline_stack: str
    stack_name: str  # the blueprint's stack: the record's folder
    request: dict[str, Any]


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def followers(group: str, settings: Settings, account: str = "") -> list[Follower]:
    """Every pipeline whose request follows ``group`` (a name or ARN; ``account``: the group's
    account, when known, so a same-named group of another registry is not taken for it)."""
    wanted = registry.group_name(group)
    found = []
    for stack in inventory.pipeline_stacks(settings):
        status = stack["StackStatus"]
        # A failed creation or a delete is left alone (provisioning would start replacing it);
        # a busy stack is kept, so the event fails for it and is retried.
        if tags_of(stack).get(TAG_TYPE) not in FOLLOWING_TYPES or status in REPLACEABLE or status.startswith("DELETE"):
            continue
        key = stack_parameters(stack).get("TemplateZipFileName")
        body = bundles.Named(settings.assets_bucket, key).read().body if key else None
        request = packaging.read_request(body) if body else None
        named = (request or {}).get(registry.GROUP_FIELD)
        if not isinstance(named, str) or registry.group_name(named) != wanted:
            continue
        group_account = _account_of(named) if named.startswith("arn:") else settings.account_id
        if account and group_account and group_account != account:
            continue
        name = stack_parameters(stack).get("StackName") or stack["StackName"].removesuffix(inventory.SUFFIX)
        assert request is not None
        found.append(Follower(stack["StackName"], name, request))
    return found


def target(group: str, package: dict[str, Any] | None) -> dict[str, Any] | None:
    """The package a follower of ``group`` should deploy: the highest Approved version, counting
    the event's ``package`` (described now) by its current status."""
    approved = {p["ModelPackageArn"]: p for p in registry.approved_packages(group)}
    if package is not None:
        arn = package["ModelPackageArn"]
        if package.get("ModelApprovalStatus") == registry.APPROVED:
            approved.setdefault(arn, package)
        else:
            approved.pop(arn, None)
    return max(approved.values(), key=registry.version_of, default=None)


def _event_summary(event: dict[str, Any], detail: dict[str, Any], package: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "event_id": event.get("id", ""),
        "event_time": event.get("time", ""),
        "model_package_arn": detail.get("ModelPackageArn", ""),
        "version": registry.version_of(detail) or None,
        "approval_status": detail.get("ModelApprovalStatus", ""),
        "approved_by": registry.modified_by(package or detail),
        "approval_description": (package or detail).get("ApprovalDescription", ""),
        "handled": package_history.now(),
    }


def _label(arn: str) -> str:
    group, version = registry.group_of(arn), registry.version_of(arn)
    return f"{group} v{version}" if group and version else arn


def _move(follower: Follower, chosen: dict[str, Any], settings: Settings, seen: dict[str, Any]) -> dict[str, Any]:
    """Provision the follower's request with ``chosen``; the change as recorded."""
    old = str(follower.request.get(registry.PACKAGE_FIELD, ""))
    new = chosen["ModelPackageArn"]
    body = {**follower.request, registry.PACKAGE_FIELD: new}
    result = provisioning.apply(
        provisioning.plan(body, settings), settings, caller=f"model registry event {seen['event_id']}"
    )
    revoked = seen["model_package_arn"] == old and seen["approval_status"] != registry.APPROVED
    chosen_by = seen if seen["model_package_arn"] == new else {}
    return {
        "model_package_arn": new,
        "version": registry.version_of(chosen) or None,
        "previous_model_package_arn": old,
        "reason": (
            f"approval of {_label(old)} revoked ({seen['approval_status']}): back to the latest Approved package"
            if revoked
            else f"{_label(new)} is the group's latest Approved package"
        ),
        "event_id": seen["event_id"],
        "event_time": seen["event_time"],
        "approved_by": chosen_by.get("approved_by") or registry.modified_by(chosen),
        "approval_description": chosen_by.get("approval_description") or chosen.get("ApprovalDescription", ""),
        "at": package_history.now(),
        "pipeline_id": result["pipeline_id"],
        "stack_action": result["action"],
    }


def _follow(follower: Follower, package: dict[str, Any] | None, seen: dict[str, Any], settings: Settings) -> str:
    """Bring one follower to its target; the outcome: deployed, unchanged, kept or failed."""
    bucket, stack = settings.assets_bucket, follower.stack_name
    group = str(follower.request[registry.GROUP_FIELD])
    deployed = str(follower.request.get(registry.PACKAGE_FIELD, ""))
    try:
        chosen = target(group, package)
        if chosen is None:
            text = f"no Approved package left in {registry.group_name(group)}; keeps {_label(deployed)}"
            package_history.note(bucket, stack, {**seen, "outcome": "kept"}, {"failure": text, "at": seen["handled"]})
            notices.publish(settings.notifications_topic_arn, follower.pipeline_stack, STAGE, text)
            return "kept"
        if chosen["ModelPackageArn"] == deployed:
            package_history.note(bucket, stack, {**seen, "outcome": "unchanged"})
            return "unchanged"
        if chosen.get("ModelApprovalStatus") is None:  # a summary: describe it for who approved it
            chosen = registry.describe(chosen["ModelPackageArn"]) or chosen
        change = _move(follower, chosen, settings, seen)
    except OrchestratorError as exc:
        text = f"could not move to the group's latest Approved package: {exc.message}"
        try:
            package_history.note(bucket, stack, {**seen, "outcome": "failed"}, {"failure": text, "at": seen["handled"]})
        finally:
            notices.publish(settings.notifications_topic_arn, follower.pipeline_stack, STAGE, text)
        raise
    package_history.note(bucket, stack, {**seen, "outcome": "deployed"}, change, deployed=True)
    notices.publish(
        settings.notifications_topic_arn,
        follower.pipeline_stack,
        STAGE,
        f"deploying {_label(change['model_package_arn'])} (was {_label(deployed)})",
        details=change["reason"] + (f"; approved by {change['approved_by']}" if change["approved_by"] else ""),
        link=f"GET /pipelines/{follower.pipeline_stack}",
    )
    return "deployed"


def handle(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Handle one model package state change; the outcome per pipeline.

    Raises after every follower was tried when one failed, so the event is retried.
    """
    detail = event.get("detail") or {}
    if event.get("detail-type") != DETAIL_TYPE or not isinstance(detail, dict):
        return {"ignored": f"not a {DETAIL_TYPE} event"}
    arn = str(detail.get("ModelPackageArn") or "")
    group = str(detail.get("ModelPackageGroupName") or registry.group_of(arn) or "")
    if not group:
        return {"ignored": "the event names no model package group"}
    package = registry.describe(arn) if arn else None
    seen = _event_summary(event, detail, package)
    outcomes: dict[str, str] = {}
    failures: list[str] = []
    for follower in followers(group, settings, _account_of(arn)):
        try:
            outcomes[follower.pipeline_stack] = _follow(follower, package, seen, settings)
        except OrchestratorError as exc:
            outcomes[follower.pipeline_stack] = "failed"
            failures.append(f"{follower.pipeline_stack}: {exc.message}")
    log.info("model package event %s for %s: %s", seen["event_id"], group, outcomes)
    if failures:
        raise UpstreamError(f"model package event {seen['event_id']} failed for {'; '.join(failures)}")
    return {"event_id": seen["event_id"], "model_package_group_name": group, "pipelines": outcomes}
