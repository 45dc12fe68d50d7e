"""A real-time pipeline's live endpoint, for its status document: what SageMaker is doing with it.

Read from DescribeEndpoint (status, variants and shadow variants, a deployment in progress with
its phase and the new fleet's weight, a rollback and its reason, the last deployment's settings)
and from Application Auto Scaling (is the variant registered as the request asked?). What the
request asked comes from the deployed stack's parameters, so a difference between the two
shows: in the emulator, for instance, which registers no scalable target and keeps no shadow
variant, the document says they are missing rather than pretending they exist.
"""

from __future__ import annotations

from typing import Any

from . import aws
from .models.endpoints import PRODUCTION_VARIANT
from .pipelines.inference import deployment_description, shadow_description

VARIANT = PRODUCTION_VARIANT
ROLLING_BACK = ("RollingBack", "UpdateRollbackFailed")


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _latest_status(variant: dict[str, Any]) -> dict[str, Any] | None:
    statuses = sorted(variant.get("VariantStatus") or [], key=lambda s: str(s.get("StartTime", "")))
    if not statuses:
        return None
    last = statuses[-1]
    return {"phase": last.get("Status"), "message": last.get("StatusMessage"), "since": _iso(last.get("StartTime"))}


def _variant(variant: dict[str, Any]) -> dict[str, Any]:
    found = {
        "name": variant.get("VariantName"),
        "weight": variant.get("CurrentWeight"),
        "instances": {"current": variant.get("CurrentInstanceCount"), "desired": variant.get("DesiredInstanceCount")},
    }
    if variant.get("CurrentServerlessConfig"):
        found["serverless"] = variant["CurrentServerlessConfig"]
    status = _latest_status(variant)
    if status:
        found["status"] = status
    return found


def _deployment(described: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    pending = described.get("PendingDeploymentSummary")
    status = described.get("EndpointStatus")
    deployment: dict[str, Any] = {"requested": deployment_description(params), "in_progress": None}
    if pending:
        variants = pending.get("ProductionVariants") or []
        phases = [s for s in (_latest_status(v) for v in variants) if s]
        deployment["in_progress"] = {
            "target_config": pending.get("EndpointConfigName"),
            "started": _iso(pending.get("StartTime")),
            "phase": phases[-1]["phase"] if phases else None,
            "phase_message": phases[-1]["message"] if phases else None,
            "new_fleet_weight": sum(float(v.get("CurrentWeight") or 0) for v in variants),
            "old_fleet_weight": sum(
                float(v.get("CurrentWeight") or 0) for v in described.get("ProductionVariants", [])
            ),
        }
    deployment["rolling_back"] = status in ROLLING_BACK
    if status in ROLLING_BACK or status == "Failed":
        deployment["rollback_reason"] = described.get("FailureReason")
    last = described.get("LastDeploymentConfig")
    if last:
        deployment["last_applied"] = last
        alarms = (last.get("AutoRollbackConfiguration") or {}).get("Alarms") or []
        deployment["alarms_watched"] = [a.get("AlarmName") for a in alarms]
    return deployment


def rollback_alarms(stack: str, params: dict[str, str]) -> list[str]:
    """The alarms the stack asked SageMaker to roll an update back on: the request's and the
    blueprint's default ones (named after the stack)."""
    named = [name for name in params.get("RollbackAlarmNames", "").split(",") if name]
    if params.get("DefaultAlarms") == "true":
        named += [f"{stack}-model-5xx", f"{stack}-model-latency-p99"]
    return named


def _missing_alarms(names: list[str]) -> dict[str, Any]:
    """A note when an alarm SageMaker is to watch does not exist: it cannot roll back on it."""
    if not names:
        return {}
    try:
        found = aws.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    except Exception as exc:
        return {"alarms_note": f"rollback alarms unavailable: {aws.error_code(exc) or exc}"}
    missing = [name for name in names if name not in {a.get("AlarmName") for a in found}]
    if not missing:
        return {}
    return {
        "alarms_missing": missing,
        "alarms_note": f"{', '.join(missing)} do(es) not exist: SageMaker cannot roll an update back on "
        + ("them" if len(missing) > 1 else "it"),
    }


def _autoscaling(endpoint: str, params: dict[str, str]) -> dict[str, Any] | None:
    kind = params.get("ScalingKind", "NONE")
    if kind == "NONE":
        return None
    requested = {"min": int(params["ScalingMinCapacity"]), "max": int(params["ScalingMaxCapacity"])}
    resource = f"endpoint/{endpoint}/variant/{VARIANT}"
    found: dict[str, Any] = {"tracks": kind.lower(), "requested": requested, "registered": None}
    try:
        targets = aws.client("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="sagemaker", ResourceIds=[resource]
        )["ScalableTargets"]
    except Exception as exc:
        found["note"] = f"scalable targets unavailable: {aws.error_code(exc) or exc}"
        return found
    if targets:
        found["registered"] = {"min": targets[0].get("MinCapacity"), "max": targets[0].get("MaxCapacity")}
    else:
        found["note"] = f"no scalable target is registered for {resource}: the variant does not scale"
    return found


def _shadow(described: dict[str, Any], params: dict[str, str]) -> dict[str, Any] | None:
    """The shadow variant asked for against those SageMaker lists; None when neither has one."""
    requested = shadow_description(params)
    deployed = [_variant(v) for v in described.get("ShadowProductionVariants") or []]
    if requested is None and not deployed:
        return None
    found: dict[str, Any] = {"requested": requested, "variants": deployed}
    name = params.get("ShadowVariantName") if requested else None
    if name and name not in [v["name"] for v in deployed]:
        found["note"] = (
            f"the endpoint has no shadow variant {name}: DescribeEndpoint lists "
            f"{', '.join(str(v['name']) for v in deployed) or 'none'}, so no request is copied to it"
        )
    return found


def describe(endpoint: str, params: dict[str, str], stack: str = "") -> dict[str, Any]:
    """The live endpoint ``endpoint`` of the stack ``stack`` deployed with ``params``."""
    try:
        described = aws.client("sagemaker").describe_endpoint(EndpointName=endpoint)
    except Exception as exc:
        return {"name": endpoint, "status": None, "note": f"endpoint unavailable: {aws.error_code(exc) or exc}"}
    document: dict[str, Any] = {
        "name": endpoint,
        "status": described.get("EndpointStatus"),
        "config": described.get("EndpointConfigName"),
        "failure_reason": described.get("FailureReason"),
        "variants": [_variant(v) for v in described.get("ProductionVariants") or []],
        "deployment": _deployment(described, params),
    }
    if params.get("DeploymentPolicy", "NONE") != "NONE":
        document["deployment"].update(_missing_alarms(rollback_alarms(stack, params)))
    scaling = _autoscaling(endpoint, params)
    if scaling is not None:
        document["autoscaling"] = scaling
    shadow = _shadow(described, params)
    if shadow is not None:
        document["shadow"] = shadow
    return document
