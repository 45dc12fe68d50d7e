"""The status document of one pipeline: its stacks, its CodePipeline stages, the latest failure.

The document is a superset of the original solution's answer: beside our own keys it carries
CodePipeline's ``GetPipelineState`` answer at the top level (``pipelineName``, ``pipelineVersion``,
``stageStates``, ``created``, ``updated``), so scripts written against that answer keep reading it.
Before CodePipeline has the pipeline, the answer is still a 200 that says so (``message``), with
``pipelineName`` and an empty ``stageStates``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from . import aws, endpoint_status
from .errors import NotFound, Problem, ValidationFailed
from .models.fields import STAGES
from .naming import pipeline_stack_name, stage_stack_set_name
from .pipelines.catalog import ENGINE_OF_BLUEPRINT
from .settings import Settings
from .stacks import TAG_TYPE, promoted, tags_of
from .stacks import describe as describe_stack
from .stacks import parameters as stack_parameters

_STACK_ARN = re.compile(r"arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:[0-9]{12}:stack/([a-zA-Z][-a-zA-Z0-9]*)/[-a-f0-9]+")
_STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")


# The keys of CodePipeline's GetPipelineState answer that the document carries at its top level.
PIPELINE_STATE_KEYS = ("pipelineName", "pipelineVersion", "stageStates", "created", "updated")
NOT_PROVISIONED = "the pipeline stack has not provisioned the pipeline yet"


def iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _plain(value: Any) -> Any:
    """A CodePipeline answer with its timestamps as ISO 8601 text, as JSON carries them."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return iso(value)


def resolve(pipeline_id: Any, settings: Settings) -> dict[str, Any]:
    """The pipeline stack for a ``pipeline_id`` (stack ARN or name); 400 or 404 otherwise."""
    if not isinstance(pipeline_id, str) or not pipeline_id.strip():
        raise ValidationFailed([Problem("pipeline_id", "is required: the pipeline_id a provision call returned")])
    pipeline_id = pipeline_id.strip()
    match = _STACK_ARN.fullmatch(pipeline_id)
    if match:
        name = match.group(1)
    elif _STACK_NAME.fullmatch(pipeline_id):
        name = pipeline_id
        if not name.endswith("-codepipeline"):
            name = pipeline_stack_name(name)
    else:
        raise ValidationFailed([Problem("pipeline_id", "must be a pipeline stack ARN or stack name")])
    if not name.startswith(f"{settings.stack_prefix}-") or not name.endswith("-codepipeline"):
        raise NotFound(f"no pipeline {pipeline_id!r}: pipeline stacks are named {settings.stack_prefix}-*-codepipeline")
    stack = describe_stack(pipeline_id if match else name)
    if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
        raise NotFound(f"no pipeline {pipeline_id!r}")
    return stack


def _failure(stack_name: str) -> str | None:
    try:
        events = aws.client("cloudformation").describe_stack_events(StackName=stack_name)["StackEvents"]
    except Exception:
        return None
    for event in events:  # newest first
        if event.get("ResourceStatus", "").endswith("FAILED") and event.get("ResourceStatusReason"):
            return f"{event['LogicalResourceId']}: {event['ResourceStatusReason']}"
    return None


def _stack_summary(stack: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": stack["StackName"],
        "status": stack["StackStatus"],
        "reason": stack.get("StackStatusReason"),
        "created": iso(stack.get("CreationTime")),
        "updated": iso(stack.get("LastUpdatedTime")),
        "outputs": {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])},
    }


def _pipeline_state(name: str) -> tuple[dict[str, Any] | None, str | None]:
    """CodePipeline's state of the pipeline, or why there is none."""
    try:
        state = aws.client("codepipeline").get_pipeline_state(name=name)
    except Exception as exc:
        if aws.error_code(exc) == "PipelineNotFoundException":
            return None, NOT_PROVISIONED
        return None, f"stage states unavailable: {aws.error_code(exc) or exc}"
    return {k: _plain(state[k]) for k in PIPELINE_STATE_KEYS if k in state}, None


def _stages(state: dict[str, Any]) -> list[dict[str, Any]]:
    stages = []
    for stage in state.get("stageStates", []):
        actions = []
        for action in stage.get("actionStates", []):
            latest = action.get("latestExecution", {})
            actions.append(
                {
                    "name": action.get("actionName"),
                    "status": latest.get("status"),
                    "summary": latest.get("summary"),
                    "error": (latest.get("errorDetails") or {}).get("message"),
                    "updated": iso(latest.get("lastStatusChange")),
                }
            )
        stages.append(
            {
                "name": stage.get("stageName"),
                "status": stage.get("latestExecution", {}).get("status"),
                "execution_id": stage.get("latestExecution", {}).get("pipelineExecutionId"),
                "actions": actions,
            }
        )
    return stages


def _instances(stack_set: str) -> tuple[dict[str, Any], str | None]:
    """Every instance of one stage's stack set, and the first failure among them."""
    cfn = aws.client("cloudformation")
    try:
        summaries = cfn.list_stack_instances(StackSetName=stack_set)["Summaries"]
    except Exception as exc:
        if "StackSetNotFound" in (aws.error_code(exc) + str(exc)):
            return {"stack_set": stack_set, "status": "not deployed yet", "instances": []}, None
        return {"stack_set": stack_set, "status": f"unavailable: {aws.error_code(exc) or exc}", "instances": []}, None
    instances = [
        {
            "account": i.get("Account"),
            "region": i.get("Region"),
            "status": i.get("Status"),
            "detailed_status": (i.get("StackInstanceStatus") or {}).get("DetailedStatus"),
            "reason": i.get("StatusReason"),
            "stack_id": i.get("StackId"),
        }
        for i in summaries
    ]
    failed = [i for i in instances if i["status"] != "CURRENT" or i["detailed_status"] in ("FAILED", "CANCELLED")]
    first = next((f"{i['account']}/{i['region']}: {i['reason'] or i['status']}" for i in failed), None)
    state = "current" if instances and not failed else ("failed" if failed else "no instances")
    return {"stack_set": stack_set, "status": state, "instances": instances}, first


def status(pipeline_id: Any, settings: Settings) -> dict[str, Any]:
    return document_of(resolve(pipeline_id, settings))


def document_of(stack: dict[str, Any]) -> dict[str, Any]:
    """The status document of a resolved pipeline stack."""
    params = stack_parameters(stack)
    document: dict[str, Any] = {
        "pipeline_id": stack["StackId"],
        "pipeline_type": tags_of(stack).get(TAG_TYPE),
        "pipeline_stack": _stack_summary(stack),
        "pipeline": None,
        "deployed_stack": None,
        "latest_failure": None,
    }
    engine = ENGINE_OF_BLUEPRINT.get(params.get("TemplateFileName", ""))
    if engine:
        document["monitor_engine"] = engine
    failures: list[str | None] = []
    deployed_name = params.get("StackName")
    if deployed_name:  # the pipeline is named after the stack it deploys
        state, note = _pipeline_state(deployed_name)
        stages = _stages(state) if state is not None else None
        document["pipeline"] = {"name": deployed_name, "stages": stages, "note": note}
        for stage in stages or []:
            failures += [f"{a['name']}: {a['error']}" for a in stage["actions"] if a["error"]]
        if state is not None:
            document.update(state)
        elif note == NOT_PROVISIONED:
            document.update({"pipelineName": deployed_name, "stageStates": [], "message": NOT_PROVISIONED})
    if promoted(params):  # one stack set per stage
        document["stages"] = {}
        for name in STAGES:
            document["stages"][name], failure = _instances(stage_stack_set_name(str(deployed_name), name))
            failures.append(failure)
    deployed = describe_stack(deployed_name) if deployed_name else None
    if deployed is not None:
        document["deployed_stack"] = _stack_summary(deployed)
        dashboard = document["deployed_stack"]["outputs"].get("DashboardUrl")
        if dashboard:  # monitors: the CloudWatch dashboard of the monitored endpoint
            document["dashboard_url"] = dashboard
        if deployed["StackStatus"].endswith(("FAILED", "ROLLBACK_COMPLETE")):
            failures.append(_failure(deployed["StackId"]))
        endpoint = document["deployed_stack"]["outputs"].get("EndpointName")
        if endpoint and "DeploymentPolicy" in stack_parameters(deployed):  # real-time: the live endpoint
            document["endpoint"] = endpoint_status.describe(endpoint, stack_parameters(deployed), str(deployed_name))
    if stack["StackStatus"].endswith(("FAILED", "ROLLBACK_COMPLETE")):
        failures.append(_failure(stack["StackId"]))
    document["latest_failure"] = next((f for f in failures if f), None)
    return document
