"""The scaling guard: an instance-type change of an autoscaled variant deregisters it before the
endpoint update and registers it again after; everything else leaves Application Auto Scaling alone."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import boto3
import pytest

from blueprints.functions.scaling_guard import main

RESOURCE = "endpoint/churn-endpoint/variant/AllTraffic"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"


POLICY = "mlops-churn-target-tracking-ml.m5.large"
TRACKING = {
    "TargetValue": 200.0,
    "ScaleInCooldown": 600,
    "ScaleOutCooldown": 60,
    "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
}
# The release's policy definitions as CloudFormation sends them: every value a string.
TRACKING_PROPERTY = {
    "PolicyName": POLICY, "PolicyType": "TargetTrackingScaling",
    "TargetTrackingScalingPolicyConfiguration": {
        "TargetValue": "200", "ScaleInCooldown": "600", "ScaleOutCooldown": "60",
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
    },
}  # fmt: skip


@pytest.fixture
def sagemaker(moto_url: str) -> Any:
    """The endpoint, on ml.m5.large, in the emulator."""
    client = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto_url)
    client.create_model(ModelName="churn", ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
                        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"})  # fmt: skip
    for config, instance in (("churn-config-m5", "ml.m5.large"), ("churn-config-c5", "ml.c5.xlarge")):
        variant = {"VariantName": "AllTraffic", "ModelName": "churn", "InstanceType": instance,
                   "InitialInstanceCount": 2}  # fmt: skip
        client.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[variant])
    client.create_endpoint(EndpointName="churn-endpoint", EndpointConfigName="churn-config-m5")
    return client


@pytest.fixture
def autoscaling(moto_url: str, sagemaker: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The variant registered (min 2, max 8) with a target-tracking policy, in the emulator."""
    client = boto3.client("application-autoscaling", region_name="us-east-1", endpoint_url=moto_url)
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto_url)
    monkeypatch.setattr(
        main, "_clients", {"application-autoscaling": client, "sagemaker": sagemaker, "cloudwatch": cloudwatch}
    )
    client.register_scalable_target(ServiceNamespace="sagemaker", ResourceId=RESOURCE, ScalableDimension=DIMENSION,
                                    MinCapacity=2, MaxCapacity=8)  # fmt: skip
    client.put_scaling_policy(
        PolicyName=POLICY, ServiceNamespace="sagemaker", ResourceId=RESOURCE, ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration=TRACKING,
    )  # fmt: skip
    yield client
    for policy in client.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]:
        client.delete_scaling_policy(
            PolicyName=policy["PolicyName"], ServiceNamespace="sagemaker", ResourceId=policy["ResourceId"],
            ScalableDimension=policy["ScalableDimension"],
        )  # fmt: skip
    for target in client.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]:
        client.deregister_scalable_target(ServiceNamespace="sagemaker", ResourceId=target["ResourceId"],
                                          ScalableDimension=target["ScalableDimension"])  # fmt: skip
    sagemaker.delete_endpoint(EndpointName="churn-endpoint")
    for config in ("churn-config-m5", "churn-config-c5"):
        sagemaker.delete_endpoint_config(EndpointConfigName=config)
    sagemaker.delete_model(ModelName="churn")
    alarms = [a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]]
    if alarms:
        cloudwatch.delete_alarms(AlarmNames=alarms)


@pytest.fixture
def cloudformation() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in for CloudFormation's pre-signed response URL: the URL and the documents PUT to it."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append({"content_type": self.headers.get("Content-Type"),
                             "body": json.loads(self.rfile.read(length))})  # fmt: skip
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/response?signature=x", received
    server.shutdown()
    thread.join()


def event(
    url: str, kind: str, phase: str, instance: str, old_instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    properties = {"ServiceToken": "arn:aws:lambda:us-east-1:111111111111:function:mlops-churn-ScalingGuard",
                  "Phase": phase, "ResourceId": RESOURCE, "ScalableDimension": DIMENSION, "MinCapacity": "2",
                  "MaxCapacity": "8", "InstanceType": instance, **extra}  # fmt: skip
    request: dict[str, Any] = {
        "RequestType": kind, "ResponseURL": url, "RequestId": "req-1", "LogicalResourceId": f"Scaling{phase.title()}",
        "StackId": "arn:aws:cloudformation:us-east-1:111111111111:stack/mlops-churn/1",
        "ResourceProperties": properties, "ResourceType": "AWS::CloudFormation::CustomResource",
    }  # fmt: skip
    if kind != "Create":
        request["PhysicalResourceId"] = f"Scaling{phase.title()}-scaling-guard"
    if old_instance is not None:
        request["OldResourceProperties"] = {**properties, "InstanceType": old_instance}
    return request


def registered(client: Any) -> list[tuple[str, int, int]]:
    targets = client.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    return [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets]


def test_an_instance_type_change_deregisters_the_variant_then_registers_it_again(
    autoscaling: Any, sagemaker: Any, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = cloudformation
    main.handler(event(url, "Update", "release", "ml.c5.xlarge", "ml.m5.large"), None)
    assert registered(autoscaling) == []
    assert autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"] == []
    move_endpoint(sagemaker, "ml.c5.xlarge")
    main.handler(event(url, "Update", "restore", "ml.c5.xlarge", "ml.m5.large"), None)
    assert registered(autoscaling) == [(RESOURCE, 2, 8)]
    answers = [r["body"] for r in received]
    assert [(a["Status"], a["Data"]) for a in answers] == [("SUCCESS", {"Changed": DIMENSION})] * 2
    assert answers[0]["PhysicalResourceId"] == "ScalingRelease-scaling-guard"
    assert (answers[0]["RequestId"], answers[0]["LogicalResourceId"]) == ("req-1", "ScalingRelease")
    assert answers[0]["StackId"].endswith("stack/mlops-churn/1")
    # The pre-signed URL is signed without a content type.
    assert received[0]["content_type"] == ""


@pytest.mark.parametrize(
    ("kind", "old"), [("Create", None), ("Delete", None), ("Update", "ml.m5.large")], ids=["create", "delete", "same"]
)
def test_create_delete_and_an_update_on_the_same_instance_type_leave_the_target_alone(
    autoscaling: Any, cloudformation: tuple[str, list[dict[str, Any]]], kind: str, old: str | None
) -> None:
    url, received = cloudformation
    main.handler(event(url, kind, "release", "ml.m5.large", old), None)
    assert registered(autoscaling) == [(RESOURCE, 2, 8)]
    assert len(autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]) == 1
    [answer] = [r["body"] for r in received]
    assert (answer["Status"], answer["Data"]) == ("SUCCESS", {"Changed": ""})


def test_a_variant_that_is_not_registered_has_nothing_to_release(
    autoscaling: Any, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = cloudformation
    autoscaling.deregister_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=RESOURCE, ScalableDimension=DIMENSION
    )
    main.handler(event(url, "Update", "release", "ml.c5.xlarge", "ml.m5.large"), None)
    assert (received[0]["body"]["Status"], received[0]["body"]["Data"]) == ("SUCCESS", {"Changed": ""})


def test_a_failure_is_reported_to_cloudformation_with_its_reason(
    autoscaling: Any, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = cloudformation
    main.handler(event(url, "Update", "reregister", "ml.c5.xlarge", "ml.m5.large"), None)
    [answer] = [r["body"] for r in received]
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == "ValueError: Phase must be release or restore, not 'reregister'"
    assert registered(autoscaling) == [(RESOURCE, 2, 8)]


def policies(client: Any) -> dict[str, dict[str, Any]]:
    found = client.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=RESOURCE)["ScalingPolicies"]
    return {p["PolicyName"]: p for p in found}


def test_a_rollback_of_a_failed_endpoint_update_registers_the_variant_and_puts_its_policy_back(
    autoscaling: Any, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    """The endpoint update to ml.c5.xlarge failed after the release: CloudFormation rolls back by
    sending the release the previous properties, and believes the target and policy exist."""
    url, received = cloudformation
    main.handler(event(url, "Update", "release", "ml.c5.xlarge", "ml.m5.large", ScalingPolicies=[
        {**TRACKING_PROPERTY, "PolicyName": "mlops-churn-target-tracking-ml.c5.xlarge"}]), None)  # fmt: skip
    assert registered(autoscaling) == [] and policies(autoscaling) == {}
    # The endpoint still runs ml.m5.large: the rollback's new type.
    main.handler(
        event(url, "Update", "release", "ml.m5.large", "ml.c5.xlarge", ScalingPolicies=[TRACKING_PROPERTY]), None
    )
    assert registered(autoscaling) == [(RESOURCE, 2, 8)]
    [policy] = policies(autoscaling).values()
    assert (policy["PolicyName"], policy["PolicyType"], policy["ScalableDimension"]) == (
        POLICY, "TargetTrackingScaling", DIMENSION)  # fmt: skip
    assert policy["TargetTrackingScalingPolicyConfiguration"] == TRACKING
    assert [r["body"]["Status"] for r in received] == ["SUCCESS", "SUCCESS"]
    assert received[1]["body"]["Data"] == {"Changed": DIMENSION}


def test_a_release_whose_endpoint_already_changed_type_still_deregisters_it(
    autoscaling: Any, sagemaker: Any, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    """The endpoint update succeeded and a later resource failed: the rollback changes the type back,
    so the variant must leave autoscaling first."""
    url, received = cloudformation
    sagemaker.delete_endpoint(EndpointName="churn-endpoint")  # the emulator has no UpdateEndpoint
    sagemaker.create_endpoint(EndpointName="churn-endpoint", EndpointConfigName="churn-config-c5")
    main.handler(
        event(url, "Update", "release", "ml.m5.large", "ml.c5.xlarge", ScalingPolicies=[TRACKING_PROPERTY]), None
    )
    assert registered(autoscaling) == [] and policies(autoscaling) == {}
    assert received[0]["body"]["Data"] == {"Changed": DIMENSION}


def test_a_rolled_back_scale_from_zero_policy_is_its_alarms_action_again(
    autoscaling: Any, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, _ = cloudformation
    cloudwatch = main._clients["cloudwatch"]
    step = {
        "AdjustmentType": "ChangeInCapacity", "MetricAggregationType": "Average", "Cooldown": 60,
        "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}],
    }  # fmt: skip
    first = autoscaling.put_scaling_policy(
        PolicyName="mlops-churn-scale-from-zero-ml.m5.large", ServiceNamespace="sagemaker", ResourceId=RESOURCE,
        ScalableDimension=DIMENSION, PolicyType="StepScaling", StepScalingPolicyConfiguration=step,
    )  # fmt: skip
    cloudwatch.put_metric_alarm(
        AlarmName="mlops-churn-backlog-without-capacity", Namespace="AWS/SageMaker",
        MetricName="HasBacklogWithoutCapacity", Dimensions=[{"Name": "EndpointName", "Value": "churn-endpoint"}],
        Statistic="Average", Period=60, EvaluationPeriods=2, Threshold=1, TreatMissingData="missing",
        ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[first["PolicyARN"]],
    )  # fmt: skip
    step_property = {
        "PolicyName": "mlops-churn-scale-from-zero-ml.m5.large", "PolicyType": "StepScaling",
        "StepScalingPolicyConfiguration": {
            "AdjustmentType": "ChangeInCapacity", "MetricAggregationType": "Average", "Cooldown": "60",
            "StepAdjustments": [{"MetricIntervalLowerBound": "0", "ScalingAdjustment": "1"}],
        },
        "AlarmName": "mlops-churn-backlog-without-capacity",
    }  # fmt: skip
    main.handler(event(url, "Update", "release", "ml.c5.xlarge", "ml.m5.large"), None)
    main.handler(event(url, "Update", "release", "ml.m5.large", "ml.c5.xlarge",
                       ScalingPolicies=[TRACKING_PROPERTY, step_property]), None)  # fmt: skip
    found = policies(autoscaling)
    assert sorted(found) == ["mlops-churn-scale-from-zero-ml.m5.large", POLICY]
    assert found["mlops-churn-scale-from-zero-ml.m5.large"]["StepScalingPolicyConfiguration"] == step
    [alarm] = cloudwatch.describe_alarms(AlarmNames=["mlops-churn-backlog-without-capacity"])["MetricAlarms"]
    assert alarm["AlarmActions"] == [found["mlops-churn-scale-from-zero-ml.m5.large"]["PolicyARN"]]
    assert (alarm["MetricName"], alarm["Threshold"], alarm["EvaluationPeriods"]) == ("HasBacklogWithoutCapacity", 1, 2)


def test_a_rollback_of_an_endpoint_without_scaling_puts_nothing_back(
    autoscaling: Any, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = cloudformation
    autoscaling.delete_scaling_policy(PolicyName=POLICY, ServiceNamespace="sagemaker", ResourceId=RESOURCE,
                                      ScalableDimension=DIMENSION)  # fmt: skip
    autoscaling.deregister_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=RESOURCE, ScalableDimension=DIMENSION
    )
    request = event(url, "Update", "release", "ml.m5.large", "ml.c5.xlarge")
    for key in ("ScalableDimension", "MinCapacity", "MaxCapacity"):
        del request["ResourceProperties"][key]
    main.handler(request, None)
    assert registered(autoscaling) == []
    assert (received[0]["body"]["Status"], received[0]["body"]["Data"]) == ("SUCCESS", {"Changed": ""})


CONFIGS = {"ml.m5.large": "churn-config-m5", "ml.c5.xlarge": "churn-config-c5"}


def update(url: str, phase: str, instance: str, old_instance: str) -> dict[str, Any]:
    """An update of a guard from one instance type to another, as the template sends it: each
    side's endpoint config and scaling policies (named after the type)."""

    def side(kind: str) -> dict[str, Any]:
        return {"InstanceType": kind, "EndpointConfigName": CONFIGS[kind], "ScalingPolicies": [
            {**TRACKING_PROPERTY, "PolicyName": f"mlops-churn-target-tracking-{kind}"}]}  # fmt: skip

    request = event(url, "Update", phase, instance, old_instance, **side(instance))
    request["OldResourceProperties"].update(side(old_instance))
    return request


def move_endpoint(sagemaker: Any, instance: str) -> None:
    """The endpoint's update (or its rollback) to the config of that instance type."""
    sagemaker.delete_endpoint(EndpointName="churn-endpoint")  # the emulator has no UpdateEndpoint
    sagemaker.create_endpoint(EndpointName="churn-endpoint", EndpointConfigName=CONFIGS[instance])


def forward_update_then_late_failure(url: str, autoscaling: Any, sagemaker: Any) -> None:
    """ml.m5.large to ml.c5.xlarge: the endpoint update succeeds, CloudFormation creates the new
    policy, then a later resource (the backlog alarm, say) fails."""
    main.handler(update(url, "release", "ml.c5.xlarge", "ml.m5.large"), None)
    assert registered(autoscaling) == [] and policies(autoscaling) == {}
    move_endpoint(sagemaker, "ml.c5.xlarge")
    main.handler(update(url, "restore", "ml.c5.xlarge", "ml.m5.large"), None)
    # A forward restore registers the variant and leaves the new policies to CloudFormation,
    # which refuses to create a policy that exists.
    assert registered(autoscaling) == [(RESOURCE, 2, 8)] and policies(autoscaling) == {}
    autoscaling.put_scaling_policy(
        PolicyName="mlops-churn-target-tracking-ml.c5.xlarge", ServiceNamespace="sagemaker", ResourceId=RESOURCE,
        ScalableDimension=DIMENSION, PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=TRACKING,
    )  # fmt: skip


def assert_rolled_back(autoscaling: Any, sagemaker: Any, received: list[dict[str, Any]]) -> None:
    assert live_type(sagemaker) == "ml.m5.large"
    assert registered(autoscaling) == [(RESOURCE, 2, 8)]
    [policy] = policies(autoscaling).values()
    assert policy["PolicyName"] == POLICY
    assert policy["TargetTrackingScalingPolicyConfiguration"] == TRACKING
    assert [r["body"]["Status"] for r in received] == ["SUCCESS"] * 4


def live_type(sagemaker: Any) -> str:
    config = sagemaker.describe_endpoint(EndpointName="churn-endpoint")["EndpointConfigName"]
    return sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]["InstanceType"]


@pytest.mark.parametrize("first, second", [("release", "restore"), ("restore", "release")])
def test_a_late_failure_rolled_back_in_either_order_puts_the_variant_and_its_policies_back(
    autoscaling: Any, sagemaker: Any, cloudformation: tuple[str, list[dict[str, Any]]], first: str, second: str
) -> None:
    """The endpoint update succeeded and a later resource failed. Whichever guard CloudFormation
    rolls back while the endpoint still runs ml.c5.xlarge takes the variant out of autoscaling
    (else SageMaker refuses the endpoint's rollback: UPDATE_ROLLBACK_FAILED); the other, after the
    endpoint's rollback, registers it and puts back the policies CloudFormation believes exist."""
    url, received = cloudformation
    forward_update_then_late_failure(url, autoscaling, sagemaker)
    main.handler(update(url, first, "ml.m5.large", "ml.c5.xlarge"), None)
    assert registered(autoscaling) == [] and policies(autoscaling) == {}
    move_endpoint(sagemaker, "ml.m5.large")
    main.handler(update(url, second, "ml.m5.large", "ml.c5.xlarge"), None)
    assert_rolled_back(autoscaling, sagemaker, received)
