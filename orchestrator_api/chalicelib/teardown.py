"""Delete a pipeline: what it deployed, then the pipeline itself; data stays.

Order: the deployed blueprint stack (single account, with the deploy role the pipeline used),
or every stage's stack-set instances and stack sets (multi-account); then the pipeline stack
and its bundle. Buckets named in the request (captured data, job outputs, reports) are not
the pipeline's and are kept. A real-time pipeline whose endpoint a monitor pipeline still
watches is refused (409, naming the monitors). Deleting a pipeline that is already gone, or
going, changes nothing.

Removing what a pipeline deployed takes minutes, and a request ends after 29 s, so a delete is
a resumable operation: each call moves every deployed stack and stack set one step on and
answers 202 (:class:`~.accepted.Accepted`) with the state of each while any still exists. The
pipeline stack and its bundle stay until all are gone, so a pipeline is never half deleted and
the same DELETE, repeated, finishes it. A stack set is emptied first: DeleteStackInstances
starts an operation that runs on its own, and DeleteStackSet fails
(OperationInProgressException, StackSetNotEmptyException) until its instances are gone.
Service-managed stack sets (stages deployed to organizational units) take their instances'
organizational units as DeploymentTargets; self-managed ones take accounts.
"""

from __future__ import annotations

from typing import Any

from . import aws, inventory, status
from .accepted import Accepted
from .errors import Conflict, NotFound, UpstreamError
from .models.fields import STAGES
from .naming import name_of_stack_id, stage_stack_set_name
from .pipelines.monitors import MONITOR_TYPES
from .provisioning import TAG_TYPE, describe_stack, promoted, stack_parameters, tags_of
from .settings import Settings


def _endpoint(stack: dict[str, Any]) -> str | None:
    """The endpoint a deployed blueprint stack serves or watches."""
    return stack_parameters(stack).get("EndpointName")


def _watchers(settings: Settings, endpoint: str, own: str) -> list[str]:
    """Monitor pipelines whose deployed stack watches ``endpoint``."""
    found = []
    for pipeline in inventory.pipeline_stacks(settings):
        if pipeline["StackName"] == own or tags_of(pipeline).get(TAG_TYPE) not in MONITOR_TYPES:
            continue
        deployed_name = stack_parameters(pipeline).get("StackName", "")
        deployed = describe_stack(deployed_name) if deployed_name else None
        if deployed is not None and _endpoint(deployed) == endpoint:
            found.append(deployed_name)
    return found


# States of a deployed stack or stack set; only ABSENT and DELETED are final.
ABSENT = "absent"
DELETED = "deleted"
DELETING = "deleting"
INSTANCES_DELETING = "instances deleting"
OPERATION_IN_PROGRESS = "waiting: another operation runs on the stack set"
GONE = {ABSENT, DELETED}


def _delete_stack(name: str, role_arn: str) -> str:
    """One step of deleting stack ``name``: start the delete unless it runs; its state after."""
    stack = describe_stack(name)
    if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
        return ABSENT
    if stack["StackStatus"] == "DELETE_IN_PROGRESS":
        return DELETING
    extra = {"RoleARN": role_arn} if role_arn else {}
    try:
        aws.client("cloudformation").delete_stack(StackName=stack["StackId"], **extra)
    except Exception as exc:
        raise UpstreamError(f"could not delete stack {name}: {exc}") from exc
    after = describe_stack(stack["StackId"])
    return DELETED if after is None or after["StackStatus"] == "DELETE_COMPLETE" else DELETING


def _not_found(exc: Exception) -> bool:
    return "StackSetNotFound" in aws.error_code(exc) + str(exc)


def _instances(name: str) -> list[dict[str, Any]] | None:
    """The stack set's instances (None: there is no such stack set)."""
    try:
        pages = aws.client("cloudformation").get_paginator("list_stack_instances").paginate(StackSetName=name)
        return [summary for page in pages for summary in page["Summaries"]]
    except Exception as exc:
        if _not_found(exc):
            return None
        raise UpstreamError(f"could not read stack set {name}: {exc}") from exc


def _targets(instances: list[dict[str, Any]]) -> dict[str, Any]:
    """Whom DeleteStackInstances addresses: organizational units (service-managed) or accounts."""
    units = sorted({i["OrganizationalUnitId"] for i in instances if i.get("OrganizationalUnitId")})
    regions = sorted({i["Region"] for i in instances})
    if units:
        return {"DeploymentTargets": {"OrganizationalUnitIds": units}, "Regions": regions}
    return {"Accounts": sorted({i["Account"] for i in instances}), "Regions": regions}


def _delete_stack_set(name: str) -> str:
    """One step of deleting stack set ``name``: empty it, then delete it; its state after."""
    cfn = aws.client("cloudformation")
    instances = _instances(name)
    if instances is None:
        return ABSENT
    if instances:
        try:
            cfn.delete_stack_instances(StackSetName=name, RetainStacks=False, **_targets(instances))
        except Exception as exc:
            if aws.error_code(exc) == "OperationInProgressException":
                return OPERATION_IN_PROGRESS
            if _not_found(exc):
                return ABSENT
            raise UpstreamError(f"could not delete the instances of stack set {name}: {exc}") from exc
        instances = _instances(name)  # the operation runs on its own; it may already be done
        if instances is None:
            return ABSENT
        if instances:
            return INSTANCES_DELETING
    try:
        cfn.delete_stack_set(StackSetName=name)
    except Exception as exc:
        if aws.error_code(exc) in ("OperationInProgressException", "StackSetNotEmptyException"):
            return INSTANCES_DELETING
        if _not_found(exc):
            return ABSENT
        raise UpstreamError(f"could not delete stack set {name}: {exc}") from exc
    return DELETED


def delete(pipeline_id: Any, settings: Settings) -> dict[str, Any]:
    try:
        pipeline = status.resolve(pipeline_id, settings)
    except NotFound:
        if _was_deleted(pipeline_id):
            return {"pipeline_id": pipeline_id, "action": "none", "message": "the pipeline is already deleted"}
        raise
    if pipeline["StackStatus"] == "DELETE_IN_PROGRESS":
        return {"pipeline_id": pipeline["StackId"], "action": "none", "message": "the pipeline is being deleted"}
    params = stack_parameters(pipeline)
    deployed_name = params.get("StackName", "")
    deployed = describe_stack(deployed_name) if deployed_name else None
    endpoint = _endpoint(deployed) if deployed is not None else None
    if endpoint and tags_of(pipeline).get(TAG_TYPE) not in MONITOR_TYPES:
        watchers = _watchers(settings, endpoint, pipeline["StackName"])
        if watchers:
            raise Conflict(
                f"endpoint {endpoint} is watched by {', '.join(watchers)}; delete those monitor pipelines first",
                dependents=watchers,
            )
    removed: dict[str, str] = {}
    if promoted(params):
        for stage in STAGES:
            name = stage_stack_set_name(deployed_name, stage)
            removed[name] = _delete_stack_set(name)
    elif deployed_name:
        removed[deployed_name] = _delete_stack(deployed_name, params.get("DeployRoleArn", "") or settings.cfn_role_arn)
    remaining = sorted(name for name, state in removed.items() if state not in GONE)
    if remaining:
        return Accepted(
            {
                "pipeline_id": pipeline["StackId"],
                "action": "deleting",
                "done": False,
                "message": (
                    f"pipeline {pipeline['StackName']} is being deleted; still being removed: {', '.join(remaining)}. "
                    "The pipeline and its bundle stay until they are gone: repeat this DELETE to finish"
                ),
                "stacks": removed,
            }
        )
    removed[pipeline["StackName"]] = _delete_stack(pipeline["StackName"], settings.cfn_role_arn)
    bundle = params.get("TemplateZipFileName")
    if bundle:
        try:
            aws.client("s3").delete_object(Bucket=settings.assets_bucket, Key=bundle)
        except Exception as exc:
            raise UpstreamError(f"could not delete the bundle s3://{settings.assets_bucket}/{bundle}: {exc}") from exc
    return {
        "pipeline_id": pipeline["StackId"],
        "action": "deleting",
        "done": True,
        "message": f"pipeline {pipeline['StackName']} is being deleted; data buckets are kept",
        "stacks": removed,
    }


def _was_deleted(pipeline_id: Any) -> bool:
    """True when a pipeline stack of that id or name existed and was deleted."""
    if not isinstance(pipeline_id, str):
        return False
    name = name_of_stack_id(pipeline_id)
    if not name.endswith(inventory.SUFFIX):
        name += inventory.SUFFIX
    try:
        pages = (
            aws.client("cloudformation").get_paginator("list_stacks").paginate(StackStatusFilter=["DELETE_COMPLETE"])
        )
        return any(s["StackName"] == name for page in pages for s in page["StackSummaries"])
    except Exception:
        return False
