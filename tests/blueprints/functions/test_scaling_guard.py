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


@pytest.fixture
def autoscaling(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The variant registered (min 2, max 8) with a target-tracking policy, in the emulator."""
    client = boto3.client("application-autoscaling", region_name="us-east-1", endpoint_url=moto_url)
    monkeypatch.setattr(main, "_clients", {"application-autoscaling": client})
    client.register_scalable_target(ServiceNamespace="sagemaker", ResourceId=RESOURCE, ScalableDimension=DIMENSION,
                                    MinCapacity=2, MaxCapacity=8)  # fmt: skip
    client.put_scaling_policy(
        PolicyName="churn-target-tracking-ml.m5.large", ServiceNamespace="sagemaker", ResourceId=RESOURCE,
        ScalableDimension=DIMENSION, PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 200.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
        },
    )  # fmt: skip
    yield client
    for target in client.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]:
        client.deregister_scalable_target(ServiceNamespace="sagemaker", ResourceId=target["ResourceId"],
                                          ScalableDimension=target["ScalableDimension"])  # fmt: skip


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


def event(url: str, kind: str, phase: str, instance: str, old_instance: str | None = None) -> dict[str, Any]:
    properties = {"ServiceToken": "arn:aws:lambda:us-east-1:111111111111:function:mlops-churn-ScalingGuard",
                  "Phase": phase, "ResourceId": RESOURCE, "ScalableDimension": DIMENSION, "MinCapacity": "2",
                  "MaxCapacity": "8", "InstanceType": instance}  # fmt: skip
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
    autoscaling: Any, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = cloudformation
    main.handler(event(url, "Update", "release", "ml.c5.xlarge", "ml.m5.large"), None)
    assert registered(autoscaling) == []
    assert autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"] == []
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
