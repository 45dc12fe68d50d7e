"""Training and tuning jobs in the request's VPC, or isolated; the training role may then manage
the jobs' network interfaces. A request without them renders as before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from mlops_cfn import Resolver
from tests.support.events import load_event
from tests.support.settings import SETTINGS
from tests.support.templates import grants, template

VPC = {
    "subnets": ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a60718"],
    "security_group_ids": ["sg-0a1b2c3d4e5f60718"],
}
# (pipeline_type, blueprint, state, where the training job's definition is in the state's parameters)
FAMILIES = [
    ("model_training_builtin", "model_training_pipeline.yaml", "Train", None),
    ("model_tuner_builtin", "model_tuning_pipeline.yaml", "Tune", "TrainingJobDefinition"),
]


def params_of(body: dict[str, Any]) -> dict[str, str]:
    entry = REGISTRY.get(body["pipeline_type"])
    return entry.render(parse(entry.model, body, SETTINGS), SETTINGS, None)


def names(blueprint: str, body: dict[str, Any]) -> dict[str, Any]:
    defaults = {name: spec["Default"] for name, spec in template(blueprint)["Parameters"].items() if "Default" in spec}
    return {**defaults, **params_of(body), "AWS::Partition": "aws", "AWS::Region": "us-east-1",
            "AWS::AccountId": "123456789012", "AWS::StackName": "mlops-churn-training"}  # fmt: skip


def job_definition(blueprint: str, state: str, where: str | None, body: dict[str, Any]) -> dict[str, Any]:
    text, _ = template(blueprint)["Resources"]["RunStateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"]
    resolved = {**names(blueprint, body), "TrainingRoleArn": "arn:aws:iam::123456789012:role/training"}
    parameters = json.loads(Resolver(names=resolved).resolve({"Fn::Sub": text}))["States"][state]["Parameters"]
    return parameters[where] if where else parameters


def role_grants(blueprint: str, body: dict[str, Any]) -> Any:
    resolver = Resolver(template(blueprint), names(blueprint, body), unresolved=lambda name: f"<{name}>")
    role = resolver.resolve(resolver.resources["TrainingRole"]["Properties"])
    return grants(*(policy["PolicyDocument"] for policy in role["Policies"]))


@pytest.mark.parametrize(("pipeline_type", "blueprint", "state", "where"), FAMILIES)
def test_the_jobs_run_in_the_requests_subnets_isolated(
    pipeline_type: str, blueprint: str, state: str, where: str | None
) -> None:
    body = {**load_event(f"valid/{pipeline_type}"), "vpc_config": VPC, "enable_network_isolation": True}
    job = job_definition(blueprint, state, where, body)
    assert job["VpcConfig"] == {"Subnets": VPC["subnets"], "SecurityGroupIds": VPC["security_group_ids"]}
    assert job["EnableNetworkIsolation"] is True
    assert job["EnableInterContainerTrafficEncryption"] is True
    # SageMaker creates the jobs' network interfaces as the training role.
    assert role_grants(blueprint, body)("ec2:CreateNetworkInterface")
    assert role_grants(blueprint, body)("ec2:DescribeSecurityGroups")


@pytest.mark.parametrize(("pipeline_type", "blueprint", "state", "where"), FAMILIES)
def test_without_them_the_jobs_have_no_vpc_and_keep_their_names(
    pipeline_type: str, blueprint: str, state: str, where: str | None
) -> None:
    plain = load_event(f"valid/{pipeline_type}")
    job = job_definition(blueprint, state, where, plain)
    assert "VpcConfig" not in job and "EnableNetworkIsolation" not in job
    assert not role_grants(blueprint, plain)("ec2:CreateNetworkInterface")
    params = params_of(plain)
    assert params["NetworkMembers"] == "" and params["VpcSubnetIds"] == ""
    # Isolation alone needs no network interfaces; the network names a new job.
    isolated = {**plain, "enable_network_isolation": True}
    assert job_definition(blueprint, state, where, isolated)["EnableNetworkIsolation"] is True
    assert not role_grants(blueprint, isolated)("ec2:CreateNetworkInterface")
    assert params_of({**plain, "vpc_config": VPC})["JobName"] != params["JobName"]


AUTOPILOT = ("model_autopilot_training", "autopilot_training_pipeline.yaml")


def automl_request(body: dict[str, Any]) -> dict[str, Any]:
    text, _ = template(AUTOPILOT[1])["Resources"]["RunStateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"]
    resolved = {**names(AUTOPILOT[1], body), "AutoMLRoleArn": "arn:aws:iam::123456789012:role/automl"}
    return dict(json.loads(Resolver(names=resolved).resolve({"Fn::Sub": text}))["States"]["Start"]["Parameters"])


def automl_grants(body: dict[str, Any]) -> Any:
    resolver = Resolver(template(AUTOPILOT[1]), names(AUTOPILOT[1], body), unresolved=lambda name: f"<{name}>")
    role = resolver.resolve(resolver.resources["AutoMLRole"]["Properties"])
    return grants(*(policy["PolicyDocument"] for policy in role["Policies"]))


def test_autopilots_jobs_run_in_the_requests_subnets() -> None:
    plain = load_event(f"valid/{AUTOPILOT[0]}")
    body = {**plain, "vpc_config": VPC, "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d"}
    security = automl_request(body)["SecurityConfig"]
    assert security["VpcConfig"] == {"Subnets": VPC["subnets"], "SecurityGroupIds": VPC["security_group_ids"]}
    assert security["EnableInterContainerTrafficEncryption"] is True
    assert security["VolumeKmsKeyId"] == body["kms_key_arn"]
    assert automl_grants(body)("ec2:CreateNetworkInterface")
    # Without it: no VPC, no network interfaces, the same job name as before.
    assert "VpcConfig" not in automl_request(plain)["SecurityConfig"]
    assert not automl_grants(plain)("ec2:CreateNetworkInterface")
    assert params_of({**plain, "vpc_config": VPC})["JobName"] != params_of(plain)["JobName"]


def test_the_example_trains_in_the_emulator(api: Any, plane: Any) -> None:
    from mlops_local.executor import Store, execute
    from tests.support.plane import post

    body = load_event("valid/training/vpc")
    s3 = plane.client("s3")
    for key in (body["training_data"], body["validation_data"]):
        s3.put_object(Bucket=plane.config.assets_bucket, Key=key, Body=b"0,1,2\n1,3,4\n")
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 200, answer
    run = execute(plane.session, answer["stack_name"], Store())
    assert run.status == "Succeeded", run.actions
    [job] = plane.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]
    assert job["TrainingJobName"] == params_of(body)["JobName"]
    # moto drops VpcConfig and EnableNetworkIsolation from CreateTrainingJob; the resolved
    # state machine above checks them (test_the_jobs_run_in_the_requests_subnets_isolated).
