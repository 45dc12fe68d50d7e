"""The translated control-plane template deployed into moto: what moto creates is asserted here;
what it cannot create is checked on the translated template by the custom rules instead."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlops_dev.translate import load, translate
from tests.support.accounts import Account
from tests.support.templates import deploy_control_plane

REGION = "us-east-1"


@pytest.fixture
def deployed(account: Account) -> dict[str, Any]:
    return deploy_control_plane(account.client("s3"), account.client("cloudformation"))


def test_the_control_plane_deploys(deployed: dict[str, Any]) -> None:
    assert deployed["stack"]["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in deployed["stack"]["Outputs"]}
    assert outputs["ConfigBucket"] == "mlops-config-123456789012-us-east-1"
    assert outputs["ApiUrl"].endswith(".execute-api.us-east-1.amazonaws.com/prod")


def test_buckets_are_created_encrypted(deployed: dict[str, Any], account: Account) -> None:
    s3 = account.client("s3")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in deployed["stack"]["Outputs"]}
    for name in (outputs[k] for k in ("AccessLogsBucket", "AssetsBucket", "BlueprintBucket", "ConfigBucket")):
        rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", name


def test_functions_run_python312_with_the_orchestrator_environment(deployed: dict[str, Any], account: Account) -> None:
    functions = {f["Handler"]: f for f in account.client("lambda").list_functions()["Functions"]}
    handlers = {"app.app", "app.on_config_upload", "app.on_model_package_event", "app.on_monitor_signal"}
    assert set(functions) == handlers | {"installer.handler"}
    assert {f["Runtime"] for f in functions.values()} == {"python3.12"}
    env = functions["app.app"]["Environment"]["Variables"]
    assert env["CONFIG_BUCKET"] == "mlops-config-123456789012-us-east-1"
    assert env["PIPELINE_STACK_NAME"] == "mlops-pipeline"
    assert env["ALLOWED_ECR_REGISTRIES"].startswith("123456789012.dkr.ecr.us-east-1.amazonaws.com")
    assert env["CFN_ROLE_ARN"].endswith(":role/mlops-pipeline-deploy-us-east-1")
    assert "BLUEPRINT_PREFIX" in env and "SAGEMAKER_LAYER_ARN" in env


def test_the_sagemaker_layer_is_published_for_python312(deployed: dict[str, Any], account: Account) -> None:
    [layer] = account.client("lambda").list_layers()["Layers"]
    assert layer["LatestMatchingVersion"]["CompatibleRuntimes"] == ["python3.12"]
    # moto names layers after the stack; the name the template asks for:
    [declared] = [r for r in deployed["translated"]["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    assert declared["Properties"]["LayerName"] == {"Fn::Sub": "mlops-sagemaker-sdk"}  # prefix resolved by SAM
    assert declared["DeletionPolicy"] == "Retain"


def test_the_deploy_role_and_its_boundary_exist(deployed: dict[str, Any], account: Account) -> None:
    iam = account.client("iam")
    role = iam.get_role(RoleName="mlops-pipeline-deploy-us-east-1")["Role"]
    assert "cloudformation.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])
    names = [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]
    assert "mlops-pipeline-roles-boundary-us-east-1" in names


def test_config_events_have_a_dead_letter_queue(deployed: dict[str, Any], account: Account) -> None:
    queues = account.client("sqs").list_queues()["QueueUrls"]
    assert any(q.endswith("/mlops-config-events-failed") for q in queues)
    configs = [
        r["Properties"]
        for r in deployed["translated"]["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    ]
    assert configs and configs[0]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["ConfigEventsDeadLetters", "Arn"]
    }


def test_api_throttling_is_set_on_the_stage(deployed: dict[str, Any]) -> None:
    [stage] = [r for r in deployed["translated"]["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]
    [settings] = stage["Properties"]["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == 20 and settings["ThrottlingBurstLimit"] == 50


@pytest.mark.parametrize("multi_account", [False, True])
def test_stage_accounts_may_use_the_sdk_layer_when_there_are_stage_accounts(multi_account: bool) -> None:
    from mlops_cfn import Resolver

    translated = translate(load(), "code-bucket")
    names = {k: str(p.get("Default", "")) for k, p in translated["Parameters"].items()}
    if multi_account:
        names.update(DevAccountId="111111111111", StagingAccountId="222222222222", ProdAccountId="333333333333")
    names.update({"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": "123456789012"})
    resolver = Resolver(translated, names)
    granted = {
        resolver.resolve(r["Properties"]["Principal"])
        for r in translated["Resources"].values()
        if r["Type"] == "AWS::Lambda::LayerVersionPermission" and resolver.condition(r["Condition"])
        # SAM names the layer version SageMakerLayer<hash> and points references at it.
        and r["Properties"]["LayerVersionArn"]["Ref"].startswith("SageMakerLayer")
        and r["Properties"]["Action"] == "lambda:GetLayerVersion"
    }  # fmt: skip
    accounts = ("111111111111", "222222222222", "333333333333") if multi_account else ()
    assert granted == {f"arn:aws:iam::{a}:root" for a in accounts}
