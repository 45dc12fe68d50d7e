"""The transform job's model in the request's VPC, or isolated; per stage in multi-account
installations; the job's data still encrypted with the request's key."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from mlops_cfn import Resolver
from tests.support.events import load_event
from tests.support.plane import Plane, post
from tests.support.settings import MULTI, SETTINGS
from tests.support.templates import grants, template

BLUEPRINT = "byom_batch_pipeline.yaml"
PLAIN = "valid/byom_batch_builtin"
EXAMPLE = "valid/batch/vpc"


def params_of(body: dict[str, Any], settings: Any = SETTINGS, stage: str | None = None) -> dict[str, str]:
    entry = REGISTRY.get(body["pipeline_type"])
    return entry.render(parse(entry.model, body, settings), settings, stage)


def rendered(body: dict[str, Any], settings: Any = SETTINGS, stage: str | None = None) -> Resolver:
    names = {**params_of(body, settings, stage), "AWS::Partition": "aws", "AWS::Region": "us-east-1",
             "AWS::AccountId": "123456789012", "AWS::StackName": "mlops-churn-batch"}  # fmt: skip
    return Resolver(template(BLUEPRINT), names, unresolved=lambda name: f"<{name}>")


def model(resolver: Resolver) -> dict[str, Any]:
    return resolver.resolve(resolver.resources["Model"]["Properties"])


def role_grants(resolver: Resolver) -> Any:
    role = resolver.resolve(resolver.resources["ModelExecutionRole"]["Properties"])
    return grants(*(policy["PolicyDocument"] for policy in role["Policies"]))


def test_the_model_runs_in_the_requests_subnets_isolated() -> None:
    resolver = rendered(load_event(EXAMPLE))
    properties = model(resolver)
    assert properties["VpcConfig"] == {
        "Subnets": ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a60718"],
        "SecurityGroupIds": ["sg-0a1b2c3d4e5f60718"],
    }
    assert properties["EnableNetworkIsolation"] is True
    # SageMaker creates the job's network interfaces as the model's role.
    assert role_grants(resolver)("ec2:CreateNetworkInterface")


def test_without_them_the_model_has_no_vpc_and_keeps_its_names() -> None:
    resolver = rendered(load_event(PLAIN))
    properties = model(resolver)
    assert "VpcConfig" not in properties and properties["EnableNetworkIsolation"] is False
    assert not role_grants(resolver)("ec2:CreateNetworkInterface")
    # A body without the new fields names the same model and job as before they existed.
    request = parse(REGISTRY.get("byom_batch_builtin").model, load_event(PLAIN), SETTINGS)
    assert "vpc_config" not in request.normalized() and "enable_network_isolation" not in request.normalized()


def test_the_network_names_a_new_model_and_job_and_keeps_the_data_encrypted() -> None:
    plain, private = params_of(load_event(PLAIN)), params_of(load_event(EXAMPLE))
    assert private["SageMakerModelName"] != plain["SageMakerModelName"]
    assert private["TransformJobName"] != plain["TransformJobName"]
    text, _ = template(BLUEPRINT)["Resources"]["RunStateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"]
    names = {**private, "AWS::Partition": "aws", "ModelResource": private["SageMakerModelName"]}
    transform = json.loads(Resolver(names=names).resolve({"Fn::Sub": text}))["States"]["Transform"]["Parameters"]
    key = load_event(EXAMPLE)["kms_key_arn"]
    assert transform["TransformResources"]["VolumeKmsKeyId"] == key
    assert transform["TransformOutput"]["KmsKeyId"] == key
    assert transform["ModelName"] == private["SageMakerModelName"]


def test_each_stage_gets_its_own_vpc() -> None:
    body = load_event(EXAMPLE)
    prod = {"subnets": ["subnet-0ffff0000prod0001"], "security_group_ids": ["sg-0ffff0000prod0001"]}
    body["vpc_config"] = {"dev": body["vpc_config"], "staging": body["vpc_config"], "prod": prod}
    assert model(rendered(body, MULTI, "prod"))["VpcConfig"]["Subnets"] == ["subnet-0ffff0000prod0001"]
    assert model(rendered(body, MULTI, "dev"))["VpcConfig"]["Subnets"][0] == "subnet-0a1b2c3d4e5f60718"


def test_the_example_deploys_its_model_in_the_emulator(api: Any, plane: Plane) -> None:
    from mlops_local.executor import Store, execute

    status, answer = post(api, "/provisionpipeline", load_event(EXAMPLE))
    assert status == 200, answer
    run = execute(plane.session, answer["stack_name"], Store())
    assert run.stage_status["Deploy"] == "Succeeded", run.actions
    sagemaker = plane.client("sagemaker")
    [listed] = sagemaker.list_models()["Models"]
    described = sagemaker.describe_model(ModelName=listed["ModelName"])
    assert described["VpcConfig"]["Subnets"] == ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a60718"]
    # moto's CloudFormation drops EnableNetworkIsolation (as for real-time models); the template test checks it.
