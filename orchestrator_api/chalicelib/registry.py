"""The SageMaker model registry as pipelines that follow a model package group read it.

A real-time or batch request may name ``model_package_group_name`` instead of one package: it
then deploys the group's latest Approved version, resolved when the request arrives, and moves
with the group's approvals (:mod:`.model_events`). "Latest" is the highest version number:
SageMaker numbers a group's versions in the order it creates them, so the number orders them
even where two creation times are equal.

A group may live in another account (a central registry): it is then named by its ARN, and the
group's resource policy must let this installation's account list and describe its packages.
"""

from __future__ import annotations

import re
from typing import Any

from . import aws
from .errors import Problem, UpstreamError, ValidationFailed
from .settings import Settings

GROUP_FIELD = "model_package_group_name"
PACKAGE_FIELD = "model_package_name"
APPROVED = "Approved"
REJECTED = "Rejected"
PENDING = "PendingManualApproval"

_GROUP_ARN = re.compile(r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package-group/(?P<name>[^/]+)")
_PACKAGE_ARN = re.compile(
    r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/(?P<group>[^/]+)/(?P<version>[0-9]+)"
)


def group_name(group: str) -> str:
    """The group's name, whether ``group`` is its name or its ARN (lower-cased: SageMaker's
    ARNs carry names in lower case, so names compare that way)."""
    match = _GROUP_ARN.fullmatch(group.strip())
    return (match.group("name") if match else group.strip()).lower()


def group_of(package_arn: str) -> str | None:
    """The group a versioned package's ARN names, None for an unversioned package."""
    match = _PACKAGE_ARN.fullmatch(package_arn or "")
    return match.group("group").lower() if match else None


def version_of(package: dict[str, Any] | str | None) -> int:
    """A package's version (from a summary, a description or an ARN); 0 when it has none."""
    if isinstance(package, dict):
        if package.get("ModelPackageVersion") is not None:
            return int(package["ModelPackageVersion"])
        package = str(package.get("ModelPackageArn", ""))
    match = _PACKAGE_ARN.fullmatch(package or "")
    return int(match.group("version")) if match else 0


def approved_packages(group: str) -> list[dict[str, Any]]:
    """The group's Approved package summaries, highest version first."""
    found: list[dict[str, Any]] = []
    try:
        pages = (
            aws.client("sagemaker")
            .get_paginator("list_model_packages")
            .paginate(
                ModelPackageGroupName=group.strip(),
                ModelApprovalStatus=APPROVED,
                SortBy="CreationTime",
                SortOrder="Descending",
            )
        )
        for page in pages:
            found += page.get("ModelPackageSummaryList", [])
    except Exception as exc:
        if aws.error_code(exc) in ("ValidationException", "ResourceNotFound"):
            raise ValidationFailed(
                [Problem(GROUP_FIELD, f"names no model package group this installation can read ({exc})")],
                "the model package group does not exist",
            ) from None
        raise UpstreamError(f"could not list the packages of model package group {group}: {exc}") from exc
    return sorted(found, key=version_of, reverse=True)


def latest_approved(group: str, excluding: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The group's Approved package with the highest version (``excluding`` those ARNs), or None."""
    for package in approved_packages(group):
        if package["ModelPackageArn"] not in excluding:
            return package
    return None


def describe(package_arn: str) -> dict[str, Any] | None:
    """DescribeModelPackage; None when the package does not exist (any more)."""
    try:
        return dict(aws.client("sagemaker").describe_model_package(ModelPackageName=package_arn))
    except Exception as exc:
        if aws.error_code(exc) in ("ValidationException", "ResourceNotFound"):
            return None
        raise UpstreamError(f"could not describe model package {package_arn}: {exc}") from exc


def modified_by(package: dict[str, Any]) -> str:
    """Who last changed a package's approval: the IAM identity, else the Studio user profile."""
    who = package.get("LastModifiedBy") or package.get("CreatedBy") or {}
    identity = who.get("IamIdentity") or {}
    return str(identity.get("Arn") or who.get("UserProfileName") or "")


def follows(model: Any) -> bool:
    """True for request models that deploy a package and may follow a group (real-time, batch);
    a training request's group is where it registers its model instead."""
    fields = getattr(model, "model_fields", {})
    return GROUP_FIELD in fields and PACKAGE_FIELD in fields


def resolve(body: dict[str, Any], settings: Settings, model: Any) -> dict[str, Any]:
    """``body`` (of the request model ``model``) with the group's latest Approved package as its
    ``model_package_name``.

    A body that names a package too keeps it (the model checks that it is one of the group's);
    a group with no Approved package is a 400, since there is nothing to deploy yet.
    """
    group = body.get(GROUP_FIELD)
    if not follows(model) or not isinstance(group, str) or not group.strip():
        return body
    if body.get(PACKAGE_FIELD) not in (None, ""):
        return body
    package = latest_approved(group)
    if package is None:
        raise ValidationFailed(
            [
                Problem(
                    GROUP_FIELD,
                    f"model package group {group.strip()} has no Approved package in {settings.region} yet; "
                    "approve one (mlops approve-model, or aws sagemaker update-model-package "
                    "--model-approval-status Approved) and send the request again",
                )
            ],
            "the model package group has nothing to deploy",
        )
    return {**body, PACKAGE_FIELD: package["ModelPackageArn"]}
