"""Model Monitor's baseline and monitoring jobs in the request's VPC, or isolated; per stage in
multi-account installations; always encrypted between containers. Clarify's jobs cannot be
isolated, and the serverless engine takes neither setting."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from mlops_cfn import Resolver
from tests.support.events import load_event
from tests.support.plane import Plane, post
from tests.support.settings import MULTI, SETTINGS, problems
from tests.support.templates import grants, template

BLUEPRINT = "model_monitor_pipeline.yaml"
EXAMPLE = "valid/monitor/vpc"
VPC = {
    "subnets": ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a60718"],
    "security_group_ids": ["sg-0a1b2c3d4e5f60718"],
}
IN_VPC = {"Subnets": VPC["subnets"], "SecurityGroupIds": VPC["security_group_ids"]}
DEFINITIONS = {
    "byom_data_quality_monitor": "DataQualityJobDefinition",
    "byom_model_quality_monitor": "ModelQualityJobDefinition",
    "byom_model_bias_monitor": "ModelBiasJobDefinition",
    "byom_model_explainability_monitor": "ModelExplainabilityJobDefinition",
}


def body_of(kind: str, **changes: Any) -> dict[str, Any]:
    body = load_event(f"valid/{kind}")
    if kind in ("byom_data_quality_monitor", "byom_model_quality_monitor"):
        body["monitor_engine"] = "sagemaker"
    return {**body, **changes}


def params_of(body: dict[str, Any], settings: Any = SETTINGS, stage: str | None = None) -> dict[str, str]:
    entry = REGISTRY.get(body["pipeline_type"])
    return {**entry.render(parse(entry.model, body, settings), settings, stage), "BaselineReady": "true"}


def rendered(body: dict[str, Any], settings: Any = SETTINGS, stage: str | None = None) -> Resolver:
    names = {**params_of(body, settings, stage), "AWS::Partition": "aws", "AWS::Region": "us-east-1",
             "AWS::AccountId": "123456789012", "AWS::StackName": "mlops-churn-monitor"}  # fmt: skip
    return Resolver(template(BLUEPRINT), names, unresolved=lambda name: f"<{name}>")


def network_of(resolver: Resolver, kind: str) -> dict[str, Any]:
    return resolver.resolve(resolver.resources[DEFINITIONS[kind]]["Properties"])["NetworkConfig"]


def baseline_of(body: dict[str, Any]) -> dict[str, Any]:
    text, _ = template(BLUEPRINT)["Resources"]["RunStateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"]
    names = {**params_of(body), "AWS::Partition": "aws", "MonitorRoleArn": "arn:aws:iam::123456789012:role/m",
             "ClarifyFunction": "none"}  # fmt: skip
    return json.loads(Resolver(names=names).resolve({"Fn::Sub": text}))["States"]["Baseline"]["Parameters"]


def role_grants(resolver: Resolver) -> Any:
    role = resolver.resolve(resolver.resources["MonitorRole"]["Properties"])
    return grants(*(policy["PolicyDocument"] for policy in role["Policies"]))


@pytest.mark.parametrize("kind", sorted(DEFINITIONS))
def test_every_monitor_s_jobs_run_in_the_requests_subnets(kind: str) -> None:
    body = body_of(kind, vpc_config=VPC)
    resolver = rendered(body)
    assert network_of(resolver, kind) == {
        "EnableInterContainerTrafficEncryption": True,
        "EnableNetworkIsolation": False,
        "VpcConfig": IN_VPC,
    }
    assert baseline_of(body)["NetworkConfig"] == {"EnableInterContainerTrafficEncryption": True, "VpcConfig": IN_VPC}
    # SageMaker creates the jobs' network interfaces as the monitor's role.
    assert role_grants(resolver)("ec2:CreateNetworkInterface")
    assert role_grants(resolver)("ec2:DescribeSecurityGroups")


@pytest.mark.parametrize("kind", sorted(DEFINITIONS))
def test_without_a_vpc_the_jobs_are_encrypted_between_containers_and_in_no_subnet(kind: str) -> None:
    body = body_of(kind)
    resolver = rendered(body)
    assert network_of(resolver, kind) == {
        "EnableInterContainerTrafficEncryption": True,
        "EnableNetworkIsolation": False,
    }
    assert baseline_of(body)["NetworkConfig"] == {"EnableInterContainerTrafficEncryption": True}
    assert not role_grants(resolver)("ec2:CreateNetworkInterface")
    # A body without the new fields keeps its baseline job's name.
    request = parse(REGISTRY.get(kind).model, body, SETTINGS)
    assert "vpc_config" not in request.normalized() and "enable_network_isolation" not in request.normalized()


@pytest.mark.parametrize("kind", ["byom_data_quality_monitor", "byom_model_quality_monitor"])
def test_data_and_model_quality_jobs_can_be_isolated(kind: str) -> None:
    body = body_of(kind, enable_network_isolation=True)
    assert network_of(rendered(body), kind)["EnableNetworkIsolation"] is True
    assert baseline_of(body)["NetworkConfig"]["EnableNetworkIsolation"] is True
    # Isolation alone needs no network interfaces.
    assert not role_grants(rendered(body))("ec2:CreateNetworkInterface")


@pytest.mark.parametrize("kind", ["byom_model_bias_monitor", "byom_model_explainability_monitor"])
def test_clarify_jobs_refuse_network_isolation_and_say_why(kind: str) -> None:
    found = problems(body_of(kind, enable_network_isolation=True))
    assert list(found) == ["enable_network_isolation"]
    assert "cannot run isolated: they call the endpoint for predictions" in found["enable_network_isolation"]
    assert problems(body_of(kind, enable_network_isolation=False, vpc_config=VPC)) == {}


@pytest.mark.parametrize("kind", ["byom_data_quality_monitor", "byom_model_quality_monitor"])
def test_the_serverless_engine_refuses_a_vpc_and_isolation(kind: str) -> None:
    found = problems(body_of(kind, monitor_engine="serverless", vpc_config=VPC, enable_network_isolation=True))
    assert sorted(found) == ["enable_network_isolation", "vpc_config"]
    assert "give monitor_engine sagemaker" in found["vpc_config"]
    # Saying "not isolated" asks for nothing the engine cannot do.
    assert problems(body_of(kind, monitor_engine="serverless", enable_network_isolation=False)) == {}


@pytest.mark.parametrize(
    ("vpc", "field", "words"),
    [
        ({**VPC, "subnets": []}, "vpc_config.subnets", "must list 1 to 16 subnet IDs, got 0"),
        ({**VPC, "subnets": [f"subnet-{i:017x}" for i in range(17)]}, "vpc_config.subnets", "got 17"),
        ({**VPC, "security_group_ids": [f"sg-{i:017x}" for i in range(6)]}, "vpc_config.security_group_ids", "got 6"),
        ({**VPC, "security_group_ids": []}, "vpc_config.security_group_ids", "got 0"),
    ],
)
def test_the_vpc_takes_sagemakers_bounds(vpc: dict[str, Any], field: str, words: str) -> None:
    found = problems(body_of("byom_data_quality_monitor", vpc_config=vpc))
    assert words in found[field]


def test_the_bounds_admit_16_subnets_and_5_groups() -> None:
    vpc = {"subnets": [f"subnet-{i:017x}" for i in range(16)], "security_group_ids": [f"sg-{i:017x}" for i in range(5)]}
    assert problems(body_of("byom_data_quality_monitor", vpc_config=vpc)) == {}


def test_the_network_names_new_jobs_and_each_stage_gets_its_own_vpc() -> None:
    plain, private = (
        params_of(body_of("byom_model_quality_monitor")),
        params_of(body_of("byom_model_quality_monitor", vpc_config=VPC)),
    )
    assert private["JobDefinitionName"] != plain["JobDefinitionName"]
    assert private["BaselineJobName"] != plain["BaselineJobName"]
    prod = {"subnets": ["subnet-0ffff0000prod0001"], "security_group_ids": ["sg-0ffff0000prod0001"]}
    body = body_of("byom_data_quality_monitor", vpc_config={"dev": VPC, "staging": VPC, "prod": prod})
    assert (
        network_of(rendered(body, MULTI, "prod"), "byom_data_quality_monitor")["VpcConfig"]["Subnets"]
        == prod["subnets"]
    )
    assert network_of(rendered(body, MULTI, "dev"), "byom_data_quality_monitor")["VpcConfig"] == IN_VPC
    # A single-account installation has one network.
    assert "per-stage values need a multi-account installation" in problems(body)["vpc_config"]


def test_the_example_runs_its_baseline_in_the_requests_subnets_in_the_emulator(api: Any, plane: Plane) -> None:
    from mlops_local.executor import Store, execute

    status, answer = post(api, "/provisionpipeline", load_event(EXAMPLE))
    assert status == 200, answer
    plane.client("s3").create_bucket(Bucket="my-data-bucket")
    run = execute(plane.session, answer["stack_name"], Store())
    assert run.status == "Succeeded", run.actions
    sagemaker = plane.client("sagemaker")
    [summary] = sagemaker.list_processing_jobs()["ProcessingJobSummaries"]
    job = sagemaker.describe_processing_job(ProcessingJobName=summary["ProcessingJobName"])
    assert job["NetworkConfig"] == {
        "EnableInterContainerTrafficEncryption": True,
        "EnableNetworkIsolation": True,
        "VpcConfig": {"SecurityGroupIds": VPC["security_group_ids"], "Subnets": VPC["subnets"]},
    }
    # moto's CloudFormation skips the job definitions; the template tests above check theirs.
