"""Custom resource that lets a stack update change the instance type of an autoscaled variant.

Application Auto Scaling refuses an endpoint update that changes the instance type of a variant
registered as a scalable target; the variant must be deregistered first and registered again
after the update. CloudFormation updates the endpoint before its scalable target, so the
real-time blueprint puts two instances of this resource around the endpoint, each carrying the
variant's instance type:

- ``Phase: release`` (the endpoint depends on it): on an update whose ``InstanceType`` differs
  from the previous one, it deletes the variant's scaling policies and deregisters its scalable
  targets, so the endpoint update proceeds.
- ``Phase: restore`` (it depends on the endpoint; the scalable target depends on it): on such an
  update, it registers the variant again with ``MinCapacity``/``MaxCapacity`` on
  ``ScalableDimension``. The scaling policies' names carry the instance type, so CloudFormation
  creates them again afterwards.

Create, delete and updates that keep the instance type do nothing. Each invocation answers
CloudFormation by a PUT of a JSON document to the request's pre-signed ``ResponseURL``.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

NAMESPACE = "sagemaker"
_clients: dict[str, Any] = {}


def client(name: str) -> Any:
    if name not in _clients:
        import boto3

        _clients[name] = boto3.client(name)
    return _clients[name]


def changes_instance_type(event: dict[str, Any]) -> bool:
    old = (event.get("OldResourceProperties") or {}).get("InstanceType", "")
    new = event["ResourceProperties"].get("InstanceType", "")
    return event["RequestType"] == "Update" and bool(old) and bool(new) and old != new


def release(properties: dict[str, Any]) -> list[str]:
    """Delete the variant's scaling policies and deregister its scalable targets, as SageMaker's
    guide orders; the dimensions deregistered."""
    autoscaling = client("application-autoscaling")
    resource_id = properties["ResourceId"]
    policies = autoscaling.describe_scaling_policies(ServiceNamespace=NAMESPACE, ResourceId=resource_id)
    for policy in policies["ScalingPolicies"]:
        autoscaling.delete_scaling_policy(
            PolicyName=policy["PolicyName"],
            ServiceNamespace=NAMESPACE,
            ResourceId=resource_id,
            ScalableDimension=policy["ScalableDimension"],
        )
    targets = autoscaling.describe_scalable_targets(ServiceNamespace=NAMESPACE, ResourceIds=[resource_id])
    dimensions = []
    for target in targets["ScalableTargets"]:
        autoscaling.deregister_scalable_target(
            ServiceNamespace=NAMESPACE, ResourceId=resource_id, ScalableDimension=target["ScalableDimension"]
        )
        dimensions.append(target["ScalableDimension"])
    return dimensions


def restore(properties: dict[str, Any]) -> list[str]:
    """Register the variant again as the template's scalable target says."""
    client("application-autoscaling").register_scalable_target(
        ServiceNamespace=NAMESPACE,
        ResourceId=properties["ResourceId"],
        ScalableDimension=properties["ScalableDimension"],
        MinCapacity=int(properties["MinCapacity"]),
        MaxCapacity=int(properties["MaxCapacity"]),
    )
    return [properties["ScalableDimension"]]


def act(event: dict[str, Any]) -> dict[str, Any]:
    """What the request does: the dimensions deregistered or registered again (none mostly)."""
    properties = event["ResourceProperties"]
    if not changes_instance_type(event):
        return {"Changed": ""}
    phase = properties.get("Phase")
    if phase == "release":
        done = release(properties)
    elif phase == "restore":
        done = restore(properties)
    else:
        raise ValueError(f"Phase must be release or restore, not {phase!r}")
    return {"Changed": ",".join(done)}


def respond(event: dict[str, Any], status: str, reason: str, data: dict[str, Any]) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:3000],
            "PhysicalResourceId": event.get("PhysicalResourceId") or f"{event['LogicalResourceId']}-scaling-guard",
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    # The pre-signed URL is signed for an empty content type.
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


def handler(event: dict[str, Any], context: Any) -> None:
    try:
        data = act(event)
    except Exception as exc:  # every failure is CloudFormation's to show, or the stack waits an hour
        respond(event, "FAILED", f"{type(exc).__name__}: {exc}", {})
        return
    respond(event, "SUCCESS", "", data)
