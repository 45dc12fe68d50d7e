"""Dry run: what a provision request would do, and nothing else.

The request is validated and rendered exactly as a real one; then it is compared with what is
deployed, by the same :func:`~.provisioning.assess` apply uses: ``create`` (no pipeline yet),
``replace`` (its creation failed: it would be deleted first and created on a resubmission),
``no-op`` (the stack already names this bundle with these parameters) or ``update``, with
the request fields that changed (or why they cannot be listed), the parameter diff per stage
and the parameters whose change replaces a resource (names that carry a content hash, and
jobs, which a new name runs again), each traced to the request fields that caused it, and for
real-time pipelines what the update does to the live endpoint (a new endpoint config and how
traffic moves to it, an update Application Auto Scaling would refuse, a shadow variant added or
removed). Reads only: nothing is written anywhere.
"""

from __future__ import annotations

from typing import Any

from . import packaging, provisioning
from .models.base import parse
from .pipelines.inference import endpoint_update
from .settings import Settings

# Parameters whose new value means a new resource (or a new job run), and what it is.
REPLACES = {
    "SageMakerModelName": "the SageMaker model",
    "ShadowSageMakerModelName": "the shadow variant's SageMaker model",
    "EndpointConfigName": "the endpoint configuration (the endpoint is updated in place)",
    "JobDefinitionName": "the monitoring job definition",
    "FunctionName": "the Lambda function",
    "EndpointName": "the endpoint",
    "ScheduleName": "the schedule",
    "BuildProjectName": "the CodeBuild project",
    "TransformJobName": "a new transform job run",
    "JobName": "a new job run",
    "BaselineJobName": "a new baseline job run",
}


def _diff(old: dict[str, str], new: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            row: dict[str, Any] = {"parameter": name, "old": old.get(name), "new": new.get(name)}
            # An empty value names no resource (a shadow variant added or removed): nothing is replaced.
            if name in REPLACES and old.get(name) and new.get(name):
                row["replaces"] = REPLACES[name]
            rows.append(row)
    return rows


def _causes(plan: provisioning.Plan, old_request: dict[str, Any], settings: Settings) -> dict[str, list[str]]:
    """Replacing parameter -> the request fields whose change alone changes it."""
    causes: dict[str, list[str]] = {}
    new_request = plan.request.normalized()
    try:
        baseline_params = plan.entry.render(parse(plan.entry.model, old_request, settings), settings, None)
    except Exception:
        return {}
    for field in sorted(set(old_request) | set(new_request)):
        if old_request.get(field) == new_request.get(field) or field == "pipeline_type":
            continue
        body = dict(old_request)
        if field in new_request:
            body[field] = new_request[field]
        else:
            body.pop(field, None)
        try:
            params = plan.entry.render(parse(plan.entry.model, body, settings), settings, None)
        except Exception:
            continue  # the field only makes sense with other changes; its effect is in the diff
        for name in REPLACES:
            if params.get(name) != baseline_params.get(name):
                causes.setdefault(name, []).append(field)
    return causes


def dry_run(raw: dict[str, Any], settings: Settings, upgrade: bool = False) -> dict[str, Any]:
    plan = provisioning.plan(raw, settings)
    found = provisioning.assess(plan, settings, upgrade)  # the same reads and choice apply makes
    plan, stack = found.plan, found.stack
    answer: dict[str, Any] = {
        "dry_run": True,
        "pipeline_type": plan.entry.name,
        "stack_name": plan.pipeline_stack,
        "blueprint_stack_name": plan.stack_name,
        "blueprint": plan.pipeline_params["TemplateFileName"],
        **provisioning.engine_of(plan.entry, plan.request, settings),
    }
    if found.action == "create":
        answer["action"] = "create"
        answer["parameters"] = {str(k) if k else "all": v for k, v in plan.bundle.params.items()}
        return answer
    assert stack is not None
    if found.action == "replace":
        answer["action"] = "replace"
        answer["message"] = (
            f"stack {plan.pipeline_stack} is {stack['StackStatus']}: a provision starts deleting it (202) and "
            "a resubmission once it is deleted creates the pipeline again"
        )
        return answer
    if found.action == "unchanged":
        answer["action"] = "no-op"
        return answer
    answer["action"] = "update"
    read = found.previous.read()
    old_request = packaging.read_request(read.body) if read.body else None
    old_params = packaging.read_params(read.body) if read.body else {}
    if old_request is None:
        answer["changes_unavailable"] = read.problem or (
            f"the deployed bundle {found.previous.where} holds no request to compare with"
        )
    else:
        answer["changes"] = provisioning.changed_fields(old_request, plan.request.normalized())
    answer["parameter_diff"] = {
        str(stage) if stage else "all": _diff(old_params.get(stage, {}), params)
        for stage, params in plan.bundle.params.items()
    }
    if old_request and None in plan.bundle.params:
        causes = _causes(plan, old_request, settings)
        for row in answer["parameter_diff"]["all"]:
            if "replaces" in row and causes.get(row["parameter"]):
                row["because_of"] = causes[row["parameter"]]
    answer["replacements"] = sorted(
        {row["replaces"] for rows in answer["parameter_diff"].values() for row in rows if "replaces" in row}
    )
    # Real-time pipelines: what the update does to the live endpoint, per stage.
    endpoint = {
        str(stage) if stage else "all": notes
        for stage, params in plan.bundle.params.items()
        if (notes := endpoint_update(old_params.get(stage, {}), params))
    }
    if endpoint:
        answer["endpoint_update"] = endpoint
    return answer
