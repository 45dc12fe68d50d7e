"""Pipeline stacks in CloudFormation: the calls, the tags the orchestrator puts on them, their states.

The orchestrator's truth about a pipeline is its stack: the parameters name the bundle it
deploys, the tags name its type, creator and blueprints. Provisioning, status, inventory,
teardown and approvals read stacks through this module; only provisioning writes them.
"""

from __future__ import annotations

import re
from typing import Any

from . import aws
from .errors import Conflict, UpstreamError

TAG_TYPE = "mlops:pipeline-type"
TAG_CREATOR = "mlops:created-by"
TAG_PIPELINE = "mlops:pipeline"
TAG_BLUEPRINTS = "mlops:blueprint-prefix"

# A stack whose creation failed can only be deleted; these need an operator.
REPLACEABLE = {"ROLLBACK_COMPLETE"}
STUCK = {"ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED"}


def describe(name: str) -> dict[str, Any] | None:
    """The stack called ``name`` (or with that id), None when it does not exist."""
    try:
        found = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except Exception as exc:
        if aws.error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            return None
        raise UpstreamError(f"could not read stack {name}: {exc}") from exc
    return found[0] if found else None


def parameters(stack: dict[str, Any]) -> dict[str, str]:
    """A described stack's parameters as a plain dict."""
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}


def tags_of(stack: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in stack.get("Tags", [])}


def promoted(params: dict[str, str]) -> bool:
    """True for a pipeline stack made from the multi-account template (it takes the stage accounts)."""
    return "DevAccountId" in params


def same_params(stack: dict[str, Any], wanted: dict[str, str]) -> bool:
    current = parameters(stack)
    return all(current.get(key) == value for key, value in wanted.items())


# What every service lets a tag value hold (CloudFormation passes stack tags on to the resources):
# letters, digits, spaces and _ . : / = + - @, at most 256 characters.
_TAG_VALUE_UNSAFE = re.compile(r"[^A-Za-z0-9 _.:/=+\-@]")
MAX_TAG_VALUE = 256


def tag_value(text: str) -> str:
    """``text`` as a valid tag value: other characters become '_', and it is cut to 256."""
    return _TAG_VALUE_UNSAFE.sub("_", text)[:MAX_TAG_VALUE]


def _arguments(
    name: str, template_url: str, params: dict[str, str], tags: dict[str, str], role_arn: str
) -> dict[str, Any]:
    return {
        "StackName": name,
        "TemplateURL": template_url,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(params.items())],
        "Capabilities": ["CAPABILITY_IAM"],
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        **({"RoleARN": role_arn} if role_arn else {}),
    }


def create(name: str, template_url: str, params: dict[str, str], tags: dict[str, str], role_arn: str) -> str:
    """CreateStack (rolled back on failure); its id. AWS errors propagate for the caller to read."""
    response = aws.client("cloudformation").create_stack(
        **_arguments(name, template_url, params, tags, role_arn), OnFailure="ROLLBACK"
    )
    return str(response["StackId"])


# UpdateStack's refusals when another operation got there first (a ValidationError each).
_RACED = re.compile(r"is in ([A-Z_]+) state and can ?not be updated|does not exist")


def update(name: str, template_url: str, params: dict[str, str], tags: dict[str, str], role_arn: str) -> bool:
    """UpdateStack; False when CloudFormation has nothing to do, a 409 when another change raced it."""
    try:
        aws.client("cloudformation").update_stack(**_arguments(name, template_url, params, tags, role_arn))
    except Exception as exc:
        if "No updates are to be performed" in str(exc):
            return False
        raced = _RACED.search(str(exc)) if aws.error_code(exc) == "ValidationError" else None
        if raced:
            status = raced.group(1) or "DELETE_COMPLETE"
            raise Conflict(
                f"stack {name} was changed by another request meanwhile ({status}); resubmit when it has finished",
                stack_status=status,
            ) from exc
        raise UpstreamError(f"could not update stack {name}: {exc}") from exc
    return True


def delete(stack: dict[str, Any], role_arn: str = "") -> None:
    """Start deleting ``stack`` (by its id, so a newer stack of the same name is never touched)."""
    try:
        extra = {"RoleARN": role_arn} if role_arn else {}
        aws.client("cloudformation").delete_stack(StackName=stack["StackId"], **extra)
    except Exception as exc:
        raise UpstreamError(f"could not delete stack {stack['StackName']}: {exc}") from exc
