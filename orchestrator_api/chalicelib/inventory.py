"""The pipelines that exist: a paginated, filterable list, and one pipeline described in full.

Stacks and their tags are the source of truth: a pipeline is a ``<prefix>-*-codepipeline``
stack; its tags say its type, who created it and the blueprint version it is pinned to; its
bundle in the assets bucket holds the request it was provisioned with.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from . import aws, bundles, package_history, packaging, status
from .errors import Problem, UpstreamError, ValidationFailed
from .naming import stage_stack_set_name
from .settings import Settings
from .stacks import TAG_BLUEPRINTS, TAG_CREATOR, TAG_TYPE, promoted, tags_of
from .stacks import parameters as stack_parameters

MAX_RESULTS = 100
DEFAULT_RESULTS = 20
SUFFIX = "-codepipeline"
GONE = "DELETE_COMPLETE"


def _token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _after(token: str | None) -> str:
    if not token:
        return ""
    try:
        name = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        name = ""
    if not name.endswith(SUFFIX) or _token(name) != token:
        raise ValidationFailed([Problem("next_token", "is not a token this API returned")])
    return name


def _count(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_RESULTS
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_RESULTS:
        raise ValidationFailed([Problem("max_results", f"must be a whole number from 1 to {MAX_RESULTS}")])
    return int(value)


def pipeline_stacks(settings: Settings) -> list[dict[str, Any]]:
    """The pipeline stacks that exist, described (tags, parameters), sorted by name.

    DescribeStacks without a name pages through every stack with its tags and parameters:
    one call per hundred stacks rather than one per pipeline.
    """
    stacks: dict[str, dict[str, Any]] = {}
    try:
        for page in aws.client("cloudformation").get_paginator("describe_stacks").paginate():
            for stack in page["Stacks"]:
                name = stack["StackName"]
                ours = name.startswith(f"{settings.stack_prefix}-") and name.endswith(SUFFIX)
                if ours and stack["StackStatus"] != GONE:
                    stacks[name] = stack
    except Exception as exc:
        raise UpstreamError(f"could not list stacks: {exc}") from exc
    return [stacks[name] for name in sorted(stacks)]


def _model(name: str, pipeline_type: str | None, settings: Settings) -> str | None:
    """The model (or image tag) a pipeline is named after: ``<prefix>-<model>-<suffix>``."""
    from .pipelines.catalog import REGISTRY

    if pipeline_type not in REGISTRY.names():
        return None
    suffix = f"-{REGISTRY.get(pipeline_type).stack_suffix}"
    head = f"{settings.stack_prefix}-"
    return name[len(head) : -len(suffix)] if name.startswith(head) and name.endswith(suffix) else None


def summary(stack: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """One pipeline as the list shows it."""
    tags = tags_of(stack)
    params = stack_parameters(stack)
    name = params.get("StackName") or stack["StackName"].removesuffix(SUFFIX)
    return {
        "pipeline_id": stack["StackId"],
        "name": name,
        "model": _model(name, tags.get(TAG_TYPE), settings),
        "pipeline_type": tags.get(TAG_TYPE),
        "status": stack["StackStatus"],
        "blueprint": params.get("TemplateFileName"),
        "blueprint_version": tags.get(TAG_BLUEPRINTS),
        # False once the control plane installs newer blueprints: see "upgrade_blueprints".
        "blueprints_current": tags.get(TAG_BLUEPRINTS) == settings.blueprint_prefix,
        "multi_account": promoted(params),
        "created": status.iso(stack.get("CreationTime")),
        "updated": status.iso(stack.get("LastUpdatedTime") or stack.get("CreationTime")),
        "created_by": tags.get(TAG_CREATOR),
    }


def list_pipelines(
    settings: Settings,
    pipeline_type: str | None = None,
    stack_status: str | None = None,
    next_token: str | None = None,
    max_results: str | None = None,
) -> dict[str, Any]:
    """A page of pipelines after ``next_token``, filtered by type and stack status."""
    after, count = _after(next_token), _count(max_results)
    if pipeline_type:
        from .pipelines.catalog import REGISTRY

        REGISTRY.get(pipeline_type)  # a 400 listing the valid types
    items: list[dict[str, Any]] = []
    more = False
    for stack in pipeline_stacks(settings):
        if stack["StackName"] <= after:
            continue
        item = summary(stack, settings)
        if pipeline_type and item["pipeline_type"] != pipeline_type:
            continue
        if stack_status and item["status"] != stack_status.upper():
            continue
        if len(items) == count:
            more = True
            break
        items.append(item)
    page: dict[str, Any] = {"pipelines": items}
    if more:
        page["next_token"] = _token(items[-1]["name"] + SUFFIX)
    return page


def _promotion_diff(stack_set: str, wanted: dict[str, str]) -> list[dict[str, Any]]:
    """What approving would change: the stage's stack set now against the bundle's parameters."""
    try:
        current = aws.client("cloudformation").describe_stack_set(StackSetName=stack_set)["StackSet"]
        deployed = {p["ParameterKey"]: p.get("ParameterValue") for p in current.get("Parameters", [])}
    except Exception:
        deployed = {}
    return [
        {"parameter": name, "deployed": deployed.get(name), "promoted": wanted.get(name)}
        for name in sorted(set(deployed) | set(wanted))
        if deployed.get(name) != wanted.get(name)
    ]


def _awaiting(doc: dict[str, Any], bundle: bytes | None) -> list[dict[str, Any]]:
    """Each approval that waits, with the parameter diff its stage would get."""
    params = packaging.read_params(bundle) if bundle else {}
    name = (doc.get("pipeline") or {}).get("name", "")
    waiting = []
    for stage in (doc.get("pipeline") or {}).get("stages") or []:
        for action in stage["actions"]:
            if action.get("status") == "InProgress" and action["name"].startswith("Approve"):
                target = stage["name"].removeprefix("Approve").lower()
                entry = {"stage": stage["name"], "action": action["name"], "since": action.get("updated")}
                if target in params:
                    entry["parameter_diff"] = _promotion_diff(stage_stack_set_name(name, target), params[target])
                waiting.append(entry)
    return waiting


def describe(pipeline_id: Any, settings: Settings) -> dict[str, Any]:
    """The status document, with the request, the list's summary, and each approval that waits
    with the parameters its promotion would change."""
    stack = status.resolve(pipeline_id, settings)
    doc = status.document_of(stack)
    key = stack_parameters(stack).get("TemplateZipFileName")
    bundle = bundles.Named(settings.assets_bucket, key).read().body
    doc["summary"] = summary(stack, settings)
    doc["request"] = packaging.read_request(bundle) if bundle else None
    doc["awaiting_approval"] = _awaiting(doc, bundle)
    doc["model_package"] = package_history.deployed_package(
        settings.assets_bucket, doc["summary"]["name"], doc["request"]
    )
    doc["retraining"] = package_history.retraining(settings.assets_bucket, doc["summary"]["name"])
    return doc
