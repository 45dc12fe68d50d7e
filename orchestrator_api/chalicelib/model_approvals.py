"""Approve or reject a registered model: one package version of a model package group.

``POST /models/{group}/approval`` (and ``mlops approve-model``) records the decision on the
package in SageMaker, with who decided and why as its ``ApprovalDescription``. SageMaker then
sends its "Model Package State Change" event, and :mod:`.model_events` moves the pipelines
that follow the group: the decision here deploys nothing itself, so an approval made in
SageMaker Studio or with the AWS CLI has the same effect.
"""

from __future__ import annotations

from typing import Any

from . import aws, model_events, registry
from .errors import Conflict, NotFound, Problem, UpstreamError, ValidationFailed
from .settings import Settings

DECISIONS = {"approve": registry.APPROVED, "reject": registry.REJECTED}
FIELDS = ("decision", "version", "comment")
MAX_DESCRIPTION = 1024  # SageMaker's limit for ApprovalDescription


def _check(body: dict[str, Any]) -> tuple[str, int | None, str]:
    problems = []
    decision, version, comment = body.get("decision"), body.get("version"), body.get("comment", "")
    if not isinstance(decision, str) or decision.strip().lower() not in DECISIONS:
        problems.append(Problem("decision", "must be approve or reject"))
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        problems.append(Problem("version", "must be a package version number (1 or more); leave it out for the newest"))
    if not isinstance(comment, str) or len(comment) > 512:
        problems.append(Problem("comment", "must be text of at most 512 characters"))
    problems += [
        Problem(k, f"is not a field of a model approval ({', '.join(FIELDS)})") for k in sorted(set(body) - set(FIELDS))
    ]
    if problems:
        raise ValidationFailed(problems, "the model approval has problems")
    return DECISIONS[str(decision).strip().lower()], version, str(comment)


def _group_exists(group: str) -> None:
    """A 404 when the group does not exist (listing a missing group's packages answers none)."""
    try:
        aws.client("sagemaker").describe_model_package_group(ModelPackageGroupName=group)
    except Exception as exc:
        if aws.error_code(exc) in ("ValidationException", "ResourceNotFound"):
            raise NotFound(f"no model package group {group} in this installation's registry") from None
        raise UpstreamError(f"could not describe model package group {group}: {exc}") from exc


def _package(group: str, version: int | None) -> dict[str, Any]:
    """The version asked for, or the newest one waiting for approval."""
    sagemaker = aws.client("sagemaker")
    try:
        pages = sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group)
        listed = [p for page in pages for p in page.get("ModelPackageSummaryList", [])]
    except Exception as exc:
        if aws.error_code(exc) in ("ValidationException", "ResourceNotFound"):
            raise NotFound(f"no model package group {group} in this installation's registry") from None
        raise UpstreamError(f"could not list the packages of {group}: {exc}") from exc
    if not listed:
        _group_exists(group)
    if version is not None:
        found = [p for p in listed if registry.version_of(p) == version]
        if not found:
            raise NotFound(f"model package group {group} has no version {version}")
        return found[0]
    pending = [p for p in listed if p.get("ModelApprovalStatus") == registry.PENDING]
    if not pending:
        raise Conflict(f"no version of {group} waits for approval; name one with version")
    return max(pending, key=registry.version_of)


def decide(group: str, body: dict[str, Any], settings: Settings, caller: str = "") -> dict[str, Any]:
    status, version, comment = _check(body)
    group = group.strip()
    package = _package(group, version)
    arn = package["ModelPackageArn"]
    who = caller or "the orchestrator API"
    verb = "approved" if status == registry.APPROVED else "rejected"
    description = f"{verb} by {who}" + (f": {comment}" if comment else "")
    previous = package.get("ModelApprovalStatus", "")
    if previous != status:
        try:
            aws.client("sagemaker").update_model_package(
                ModelPackageArn=arn, ModelApprovalStatus=status, ApprovalDescription=description[:MAX_DESCRIPTION]
            )
        except Exception as exc:
            raise UpstreamError(f"could not record the decision on {arn}: {exc}") from exc
    following = [f.pipeline_stack for f in model_events.followers(group, settings)]
    return {
        "model_package_arn": arn,
        "version": registry.version_of(package),
        "model_package_group_name": group,
        "decision": status,
        "previous_status": previous,
        "changed": previous != status,
        "approval_description": description,
        "following_pipelines": following,
        "message": (
            f"{registry.group_name(group)} v{registry.version_of(package)} {verb}; the pipelines following the group "
            "move to its latest Approved package when SageMaker's event arrives (GET /pipelines/{id}: model_package)"
            if previous != status
            else f"{registry.group_name(group)} v{registry.version_of(package)} was already {status}; nothing changed"
        ),
    }
