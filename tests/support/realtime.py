"""Real-time pipelines in tests: the blueprint resolved for a body, and DescribeEndpoint answers
in AWS's shape (for botocore's Stubber)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from mlops_cfn import Resolver
from tests.support.settings import SETTINGS
from tests.support.templates import template

BLUEPRINT = "byom_realtime_inference_pipeline.yaml"
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 12, 1, 12, 5, tzinfo=UTC)


def rendered(body: dict[str, Any], settings: Any = SETTINGS, stage: str | None = None) -> Resolver:
    """The real-time blueprint with the parameters ``body`` renders to in ``stage``."""
    entry = REGISTRY.get(body["pipeline_type"])
    params = entry.render(parse(entry.model, body, settings), settings, stage)
    names = {**params, "AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::StackName": "mlops-churn"}
    return Resolver(template(BLUEPRINT), names, unresolved=lambda name: f"<{name}>")


def properties(resolver: Resolver, logical: str) -> Any:
    """A resource's resolved properties; None when its condition leaves it out."""
    return resolver.resolve(resolver.resources[logical]["Properties"]) if resolver.present(logical) else None


def described(config: str = "churn-xgboost-new", weight: float = 1.0, **extra: Any) -> dict[str, Any]:
    """DescribeEndpoint's answer for churn-endpoint serving ``config``, one variant of 2 instances."""
    return {
        "EndpointName": "churn-endpoint",
        "EndpointArn": "arn:aws:sagemaker:us-east-1:111122223333:endpoint/churn-endpoint",
        "EndpointConfigName": config,
        "EndpointStatus": "InService",
        "CreationTime": T0,
        "LastModifiedTime": T1,
        "ProductionVariants": [
            {"VariantName": "AllTraffic", "CurrentWeight": weight, "CurrentInstanceCount": 2, "DesiredInstanceCount": 2}
        ],
        **extra,
    }


# A blue/green canary stack's deployment parameters (10% for 600 s, the default alarms).
CANARY = {
    "DeploymentPolicy": "BLUE_GREEN", "TrafficRouting": "CANARY", "TrafficStepPercent": "10",
    "WaitIntervalInSeconds": "600", "TerminationWaitInSeconds": "0", "DefaultAlarms": "true",
    "LatencyThresholdMicroseconds": "250000", "RollbackAlarmNames": ",,,,,,,,,", "ScalingKind": "NONE",
}  # fmt: skip


def canary_in_progress() -> dict[str, Any]:
    """DescribeEndpoint during a canary: the new fleet baking at weight 0.1 since T1, the old one
    at 0.9, and the two default alarms watched."""
    routing = {"Type": "CANARY", "WaitIntervalInSeconds": 600, "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}}
    last = {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "s-model-5xx"}, {"AlarmName": "s-model-latency-p99"}]},
    }
    statuses = [
        {"Status": "Creating", "StartTime": T0},
        {"Status": "Baking", "StatusMessage": "canary", "StartTime": T1},
    ]
    pending = {
        "EndpointConfigName": "churn-xgboost-new",
        "StartTime": T1,
        "ProductionVariants": [{"VariantName": "AllTraffic", "CurrentWeight": 0.1, "VariantStatus": statuses}],
    }
    return described(
        "churn-xgboost-old", 0.9, EndpointStatus="Updating", PendingDeploymentSummary=pending, LastDeploymentConfig=last
    )
