"""Delete a pipeline: what it deployed, then the pipeline itself; data stays.

Order: first a marker (``mlops_provisioned_pipelines/<stack>/DELETING``) that says the
pipeline is going and records what to delete; then the deployed blueprint stack (single
account, with the deploy role the pipeline used), or every stage's stack-set instances and
stack sets (multi-account); then the pipeline stack; then, once it is gone, what it deployed
is checked again (a run in flight when it went may have deployed once more); then every bundle
of the pipeline, and the marker last. Buckets named in the request (captured data, job outputs, reports) are not
the pipeline's and are kept. A real-time pipeline whose endpoint a monitor pipeline still
watches is refused (409, naming the monitors). Deleting a pipeline that is already gone, or
going, changes nothing.

Removing what a pipeline deployed takes minutes, and a request ends after 29 s, so a delete is
a resumable operation: each call moves every deployed stack and stack set one step on and
answers 202 (:class:`~.accepted.Accepted`) with the state of each while any still exists. The
pipeline stack stays until all are gone, and its bundles until it is gone too, so a pipeline is
never half deleted and the same DELETE, repeated, finishes it (from the marker, once the
pipeline stack has gone). While the marker is there a provision request for the pipeline is a
409. A delete never removes a bundle a newer update wrote: an update that read no marker and
wrote a new bundle either changed the pipeline stack before the delete removed it (so the
bundle is removed with the pipeline, after it) or was refused by CloudFormation (the stack was
being deleted or gone), and bundles are removed only once the pipeline stack is gone, which
no update can bring back. A stack set is emptied first: DeleteStackInstances
starts an operation that runs on its own, and DeleteStackSet fails
(OperationInProgressException, StackSetNotEmptyException) until its instances are gone.
Service-managed stack sets (stages deployed to organizational units) take their instances'
organizational units as DeploymentTargets; self-managed ones take accounts.
"""

from __future__ import annotations

from typing import Any

from . import aws, bundles, inventory, stacks, status
from .accepted import Accepted
from .errors import Conflict, NotFound, UpstreamError
from .models.fields import STAGES
from .naming import bundle_prefix, deletion_marker, name_of_stack_id, stage_stack_set_name
from .pipelines.catalog import REGISTRY
from .settings import Settings
from .stacks import TAG_TYPE, promoted, tags_of


def _endpoint(stack: dict[str, Any]) -> str | None:
    """The endpoint a deployed blueprint stack serves or watches."""
    return stacks.parameters(stack).get("EndpointName")


def _is_monitor(pipeline: dict[str, Any]) -> bool:
    """Whether a pipeline stack (tagged with its pipeline type) deploys a monitor."""
    entry = REGISTRY.find(tags_of(pipeline).get(TAG_TYPE, ""))
    return entry is not None and entry.monitor_kind is not None


def _watchers(settings: Settings, endpoint: str, own: str) -> list[str]:
    """Monitor pipelines whose deployed stack watches ``endpoint``."""
    found = []
    for pipeline in inventory.pipeline_stacks(settings):
        if pipeline["StackName"] == own or not _is_monitor(pipeline):
            continue
        deployed_name = stacks.parameters(pipeline).get("StackName", "")
        deployed = stacks.describe(deployed_name) if deployed_name else None
        if deployed is not None and _endpoint(deployed) == endpoint:
            found.append(deployed_name)
    return found


# States of a deployed stack or stack set; only ABSENT and DELETED are final.
ABSENT = "absent"
DELETED = "deleted"
DELETING = "deleting"
WAITING = "waiting: another operation runs on the stack"
INSTANCES_DELETING = "instances deleting"
OPERATION_IN_PROGRESS = "waiting: another operation runs on the stack set"
GONE = {ABSENT, DELETED}


def _delete_stack(name: str, role_arn: str) -> str:
    """One step of deleting stack ``name``: start the delete unless it runs; its state after."""
    stack = stacks.describe(name)
    if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
        return ABSENT
    if stack["StackStatus"] == "DELETE_IN_PROGRESS":
        return DELETING
    if stack["StackStatus"].endswith("_IN_PROGRESS"):
        return WAITING  # an update (a pipeline run, a racing provision) finishes first
    stacks.delete(stack, role_arn)
    after = stacks.describe(stack["StackId"])
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


def _record(pipeline: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """What a delete needs to finish even after the pipeline stack has gone."""
    params = stacks.parameters(pipeline)
    return {
        "pipeline_id": pipeline["StackId"],
        "pipeline_stack": pipeline["StackName"],
        "deployed": params.get("StackName", ""),
        "promoted": promoted(params),
        "deploy_role": params.get("DeployRoleArn", "") or settings.cfn_role_arn,
    }


def _blueprint_stack(pipeline_stack: str) -> str:
    return pipeline_stack.removesuffix(inventory.SUFFIX)


def _delete_deployed(record: dict[str, Any]) -> dict[str, str]:
    """One step of deleting what the pipeline deployed; each stack or stack set's state after."""
    deployed = str(record.get("deployed") or "")
    if not deployed:
        return {}
    if record.get("promoted"):
        return {name: _delete_stack_set(name) for name in (stage_stack_set_name(deployed, s) for s in STAGES)}
    return {deployed: _delete_stack(deployed, str(record.get("deploy_role") or ""))}


def _check_watchers(pipeline: dict[str, Any], settings: Settings) -> None:
    """409 when the pipeline's endpoint is watched by a monitor pipeline."""
    params = stacks.parameters(pipeline)
    deployed_name = params.get("StackName", "")
    deployed = stacks.describe(deployed_name) if deployed_name else None
    endpoint = _endpoint(deployed) if deployed is not None else None
    if endpoint and not _is_monitor(pipeline):
        watchers = _watchers(settings, endpoint, pipeline["StackName"])
        if watchers:
            raise Conflict(
                f"endpoint {endpoint} is watched by {', '.join(watchers)}; delete those monitor pipelines first",
                dependents=watchers,
            )


def _pending(pipeline_id: str, name: str, removed: dict[str, str], what: str) -> Accepted:
    remaining = sorted(n for n, state in removed.items() if state not in GONE)
    return Accepted(
        {
            "pipeline_id": pipeline_id,
            "action": "deleting",
            "done": False,
            "message": (
                f"pipeline {name} is being deleted; still being removed: {', '.join(remaining)}. "
                f"{what}: repeat this DELETE to finish"
            ),
            "stacks": removed,
        }
    )


def _started(pipeline_id: Any, settings: Settings) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The pipeline stack (None once it has gone) and the marker's record, written now if this
    call starts the delete; NotFound when there is neither."""
    bucket = settings.assets_bucket
    try:
        pipeline = status.resolve(pipeline_id, settings)
    except NotFound:
        name = _pipeline_stack_name(pipeline_id)
        record = bundles.read_marker(bucket, deletion_marker(_blueprint_stack(name))) if name else None
        if record is None:
            raise
        return None, {"pipeline_id": name, **record, "pipeline_stack": name}
    marker = deletion_marker(_blueprint_stack(pipeline["StackName"]))
    record = bundles.read_marker(bucket, marker)
    if record is None:
        _check_watchers(pipeline, settings)  # refused before anything is marked
        record = bundles.mark(bucket, marker, _record(pipeline, settings))
    return pipeline, {**record, "pipeline_stack": pipeline["StackName"]}


def delete(pipeline_id: Any, settings: Settings) -> dict[str, Any]:
    try:
        pipeline, record = _started(pipeline_id, settings)
    except NotFound:
        if _was_deleted(pipeline_id):
            return {"pipeline_id": pipeline_id, "action": "none", "message": "the pipeline is already deleted"}
        raise
    name = str(record["pipeline_stack"])
    identity = str(record.get("pipeline_id") or name)
    removed = _delete_deployed(record)
    if any(state not in GONE for state in removed.values()):
        return _pending(identity, name, removed, "The pipeline and its bundles stay until they are gone")
    removed[name] = _delete_stack(pipeline["StackId"], settings.cfn_role_arn) if pipeline is not None else ABSENT
    if removed[name] not in GONE:
        return _pending(identity, name, removed, "Its bundles stay until the pipeline stack is gone")
    # A run in flight when the pipeline stack went may have deployed once more.
    removed.update({n: state for n, state in _delete_deployed(record).items() if state not in GONE})
    if any(state not in GONE for state in removed.values()):
        return _pending(identity, name, removed, "The bundles stay until they are gone")
    blueprint_stack = _blueprint_stack(name)
    bundles.remove_all(settings.assets_bucket, bundle_prefix(blueprint_stack), deletion_marker(blueprint_stack))
    return {
        "pipeline_id": identity,
        "action": "deleting",
        "done": True,
        "message": f"pipeline {name} is deleted; data buckets are kept",
        "stacks": removed,
    }


def _pipeline_stack_name(pipeline_id: Any) -> str:
    """The pipeline stack a pipeline id or name means ('' when it can mean none)."""
    if not isinstance(pipeline_id, str) or not pipeline_id.strip():
        return ""
    name = name_of_stack_id(pipeline_id.strip())
    return name if name.endswith(inventory.SUFFIX) else name + inventory.SUFFIX


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
