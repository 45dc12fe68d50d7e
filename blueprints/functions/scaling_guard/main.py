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

Rollbacks. CloudFormation rolls a resource back by sending it an update whose properties are the
previous ones (its ``OldResourceProperties`` those of the failed update); both phases compare the
request's ``InstanceType`` with the one the endpoint runs now (DescribeEndpoint and its config):

- A failed endpoint update (a deployment-guardrail alarm rollback among them) never reaches
  ``restore``; the release's rollback finds the endpoint on the requested type already.
- A later resource failed (the scalable target, a scaling policy, the backlog alarm) after the
  endpoint changed type: both phases are rolled back. A phase that finds the endpoint still on
  the type being left releases the variant, so the endpoint's own rollback is not refused
  whichever phase CloudFormation rolls back first.

A phase that finds the endpoint on the requested type registers the variant again
(``ScalableDimension``, ``MinCapacity``, ``MaxCapacity``). The release does so only in a rollback;
the restore tells a rollback from a forward update by the endpoint configs
(``EndpointConfigName`` now and before): a rollback returns to a config created before the one
it leaves, a forward update moves to one created after. In a rollback, CloudFormation believes
the previous scaling policies exist, so ``ScalingPolicies`` (the template's policies, as
PutScalingPolicy takes them, under their original names) are put again; a step policy's
``AlarmName`` is the alarm whose action it is, pointed at the policy again. A forward restore
puts none: CloudFormation creates the new policies and refuses to create one that exists.
Without scaling the release carries none of these and does nothing on a rollback.

A policy put again has a new ARN. CloudFormation keeps the ARN it recorded as the policy's
physical ID, and it may set the scale-from-zero alarm's ``AlarmActions`` back to that ARN when it
rolls the alarm back after the guard pointed it at the new policy; both stay stale until an
update replaces the policy (an instance-type change renames it). The policy scales meanwhile
by target tracking; the scale-from-zero alarm acts only when it names the live policy.

Create, delete and updates that keep the instance type do nothing. Each invocation answers
CloudFormation by a PUT of a JSON document to the request's pre-signed ``ResponseURL``.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

NAMESPACE = "sagemaker"
# Custom resource properties reach the function as strings: PutScalingPolicy's numbers.
_INTEGERS = {"ScaleInCooldown", "ScaleOutCooldown", "Cooldown", "ScalingAdjustment", "MinAdjustmentMagnitude"}
_FLOATS = {"TargetValue", "MetricIntervalLowerBound", "MetricIntervalUpperBound"}
# What DescribeAlarms answers that PutMetricAlarm takes back.
_ALARM_FIELDS = (
    "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
    "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit", "EvaluationPeriods",
    "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile",
    "Metrics", "ThresholdMetricId",
)  # fmt: skip
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


def live_instance_type(resource_id: str) -> str:
    """The instance type the endpoint's variant runs now (``endpoint/<name>/variant/<variant>``)."""
    _, endpoint_name, _, variant_name = resource_id.split("/", 3)
    sagemaker = client("sagemaker")
    config_name = sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    variants = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"]
    return next((v.get("InstanceType", "") for v in variants if v["VariantName"] == variant_name), "")


def config_created(name: str) -> Any:
    return client("sagemaker").describe_endpoint_config(EndpointConfigName=name)["CreationTime"]


def returns_to_older_config(event: dict[str, Any]) -> bool:
    """Whether the update moves the endpoint back to a config created before the one it leaves:
    a rollback (a forward update always moves to a config this update created)."""
    new = event["ResourceProperties"].get("EndpointConfigName", "")
    old = (event.get("OldResourceProperties") or {}).get("EndpointConfigName", "")
    if not new or not old or new == old:
        return False
    try:
        return bool(config_created(new) < config_created(old))
    except Exception:  # a config gone or unreadable: no rollback to tell
        return False


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


def typed(value: Any, key: str = "") -> Any:
    """A policy definition as PutScalingPolicy takes it: CloudFormation's strings made numbers."""
    if isinstance(value, dict):
        return {k: typed(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    if key in _INTEGERS:
        return int(value)
    if key in _FLOATS:
        return float(value)
    if key == "DisableScaleIn":
        return str(value).lower() == "true"
    return value


def point_alarm(alarm_name: str, policy_arn: str) -> None:
    """Make the policy the alarm's action again (a policy put again has a new ARN)."""
    cloudwatch = client("cloudwatch")
    for alarm in cloudwatch.describe_alarms(AlarmNames=[alarm_name], AlarmTypes=["MetricAlarm"])["MetricAlarms"]:
        fields = {k: alarm[k] for k in _ALARM_FIELDS if k in alarm and alarm[k] not in (None, "")}
        fields["AlarmActions"] = [policy_arn]
        cloudwatch.put_metric_alarm(**fields)


def reinstate(properties: dict[str, Any]) -> list[str]:
    """Register the variant again and put its scaling policies back under their names."""
    if not properties.get("ScalableDimension"):
        return []  # the endpoint does not scale
    done = restore(properties)
    autoscaling = client("application-autoscaling")
    for definition in properties.get("ScalingPolicies") or []:
        policy = typed(definition)
        alarm_name = policy.pop("AlarmName", "")
        answer = autoscaling.put_scaling_policy(
            ServiceNamespace=NAMESPACE,
            ResourceId=properties["ResourceId"],
            ScalableDimension=properties["ScalableDimension"],
            **policy,
        )
        if alarm_name:
            point_alarm(alarm_name, answer["PolicyARN"])
    return done


def act(event: dict[str, Any]) -> dict[str, Any]:
    """What the request does: the dimensions deregistered or registered again (none mostly)."""
    properties = event["ResourceProperties"]
    if not changes_instance_type(event):
        return {"Changed": ""}
    phase = properties.get("Phase")
    if phase == "release":
        if live_instance_type(properties["ResourceId"]) == properties["InstanceType"]:
            # The endpoint runs the type asked for: a rollback of a failed endpoint update.
            done = reinstate(properties)
        else:
            done = release(properties)
    elif phase == "restore":
        if live_instance_type(properties["ResourceId"]) != properties["InstanceType"]:
            # A rollback that reaches the restore before the endpoint: the endpoint still runs the
            # type being left, and its rollback would be refused while the variant is registered.
            done = release(properties)
        elif returns_to_older_config(event):
            # A rollback after the endpoint's: CloudFormation believes the old policies exist.
            done = reinstate(properties)
        else:
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
