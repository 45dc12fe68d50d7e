"""The real-time blueprint's scaling guard carries what a rollback puts back, and its inference
API reaches asynchronous endpoints with exactly the permissions that takes."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from mlops_cfn import Resolver
from tests.support.events import load_event
from tests.support.settings import SETTINGS
from tests.support.templates import grants, statements, template

BLUEPRINT = "byom_realtime_inference_pipeline.yaml"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def rendered(name: str, **overrides: str) -> Resolver:
    body = load_event(f"valid/realtime/{name}")
    entry = REGISTRY.get(body["pipeline_type"])
    params = entry.render(parse(entry.model, body, SETTINGS), SETTINGS, None)
    names = {**params, **overrides, "AWS::Partition": "aws", "AWS::Region": "us-east-1",
             "AWS::AccountId": "123456789012", "AWS::StackName": "mlops-churn"}  # fmt: skip
    return Resolver(template(BLUEPRINT), names, unresolved=lambda name: f"<{name}>")


def properties(resolver: Resolver, logical: str) -> Any:
    return resolver.resolve(resolver.resources[logical]["Properties"]) if resolver.present(logical) else None


@pytest.mark.parametrize("name", ["autoscaling", "async", "serverless"])
def test_the_release_carries_the_scalable_target_and_policies_a_rollback_puts_back(name: str) -> None:
    resolver = rendered(name)
    release, target = properties(resolver, "ScalingRelease"), properties(resolver, "ScalableTarget")
    assert (release["ScalableDimension"], release["MinCapacity"], release["MaxCapacity"]) == (
        target["ScalableDimension"], target["MinCapacity"], target["MaxCapacity"])  # fmt: skip
    policies = [properties(resolver, p) for p in ("ScalingPolicy", "ScaleFromZeroPolicy") if resolver.present(p)]
    carried = [{k: v for k, v in p.items() if k != "AlarmName"} for p in release["ScalingPolicies"]]
    assert carried == [{k: v for k, v in p.items() if k != "ScalingTargetId"} for p in policies]
    if resolver.present("BacklogWithoutCapacityAlarm"):
        assert (
            release["ScalingPolicies"][1]["AlarmName"]
            == properties(resolver, "BacklogWithoutCapacityAlarm")["AlarmName"]
        )


@pytest.mark.parametrize("name", ["autoscaling", "async", "serverless"])
def test_the_restore_carries_the_release_s_policies_and_the_endpoint_config_a_rollback_returns_to(
    name: str,
) -> None:
    resolver = rendered(name)
    release, restore = properties(resolver, "ScalingRelease"), properties(resolver, "ScalingRestore")
    assert restore["ScalingPolicies"] == release["ScalingPolicies"]
    shared = ("ResourceId", "ScalableDimension", "MinCapacity", "MaxCapacity", "InstanceType")
    assert {k: restore[k] for k in shared} == {k: release[k] for k in shared}
    assert resolver.resources["ScalingRestore"]["Properties"]["EndpointConfigName"] == {
        "Fn::GetAtt": ["EndpointConfig", "EndpointConfigName"]}  # fmt: skip


def test_without_autoscaling_the_release_carries_nothing_to_put_back() -> None:
    release = properties(rendered("vpc"), "ScalingRelease")
    assert not {"ScalableDimension", "MinCapacity", "MaxCapacity", "ScalingPolicies"} & set(release)


def test_the_guard_may_put_policies_and_manage_their_alarms() -> None:
    resolver = rendered("async")
    documents = [p["PolicyDocument"] for p in properties(resolver, "ScalingGuardRole")["Policies"]]
    assert grants(*documents)("application-autoscaling:PutScalingPolicy")
    alarms = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
    [statement] = [s for d in documents for s in statements(d) if "cloudwatch:PutMetricAlarm" in s["Action"]]
    assert sorted(statement["Action"]) == ["cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
                                           "cloudwatch:PutMetricAlarm"]  # fmt: skip
    assert statement["Resource"] == [
        f"{alarms}TargetTracking-endpoint/churn-async/variant/AllTraffic-*",
        f"{alarms}mlops-churn-backlog-without-capacity",
    ]


def inference_role(resolver: Resolver) -> list[dict[str, Any]]:
    return statements(properties(resolver, "InferenceFunctionRole")["Policies"][0]["PolicyDocument"])


def test_an_async_endpoints_api_invokes_it_asynchronously_with_its_input_under_its_prefix() -> None:
    resolver = rendered("async")
    variables = properties(resolver, "InferenceFunction")["Environment"]["Variables"]
    assert variables["ASYNC_INPUT_PREFIX"] == "async-inference/churn-async"
    bucket = variables["ASYNC_INPUT_BUCKET"]
    role = inference_role(resolver)
    endpoint = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-async"
    assert [s["Resource"] for s in role if s["Action"] == "sagemaker:InvokeEndpointAsync"] == [endpoint]
    assert not [s for s in role if s["Action"] == "sagemaker:InvokeEndpoint"]
    # It writes each request there, and deletes one the endpoint refused.
    assert [s["Resource"] for s in role if s["Action"] == ["s3:PutObject", "s3:DeleteObject"]] == [
        f"arn:aws:s3:::{bucket}/async-inference/churn-async/*"]  # fmt: skip
    assert not [s for s in role if "kms:" in str(s["Action"])]
    # The model's role reads what the function writes.
    model = statements(properties(resolver, "ModelExecutionRole")["Policies"][0]["PolicyDocument"])
    assert f"arn:aws:s3:::{bucket}/*" in [s["Resource"] for s in model if s["Action"] == "s3:GetObject"]


def test_with_the_installation_key_the_async_api_may_encrypt_its_input() -> None:
    role = inference_role(rendered("async", InstallationKmsKeyArn=KEY))
    assert [(s["Action"], s["Resource"]) for s in role if "kms:" in str(s["Action"])] == [
        (["kms:Decrypt", "kms:GenerateDataKey"], KEY)]  # fmt: skip


def test_a_synchronous_endpoints_api_only_invokes_it() -> None:
    resolver = rendered("autoscaling", InstallationKmsKeyArn=KEY)
    role = inference_role(resolver)
    assert [s["Action"] for s in role if "sagemaker:" in str(s["Action"])] == ["sagemaker:InvokeEndpoint"]
    assert not [s for s in role if "s3:PutObject" in str(s["Action"]) or "kms:" in str(s["Action"])]
    assert set(properties(resolver, "InferenceFunction")["Environment"]["Variables"]) == {"ENDPOINT_NAME"}
