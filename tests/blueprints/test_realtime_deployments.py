"""The real-time blueprint's endpoint settings: what each example body deploys, in moto and in the template.

moto's CloudFormation creates the model, endpoint config and endpoint (serverless, asynchronous,
VPC settings included) but ignores the endpoint's DeploymentConfig, the model's
EnableNetworkIsolation and the config's ShadowProductionVariants, and has no model of scalable
targets, scaling policies or alarms: those are asserted on the template as CloudFormation would
resolve it for the rendered parameters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from tests.support.events import EVENTS, load_event
from tests.support.plane import Plane, post
from tests.support.realtime import properties, rendered
from tests.support.settings import MULTI, SETTINGS
from tests.support.templates import CONTROL_PLANE, grants, statements

EXAMPLES = sorted(p.stem for p in (EVENTS / "valid" / "realtime").glob("*.json"))


def example(name: str) -> dict[str, Any]:
    return load_event(f"valid/realtime/{name}")


def test_every_capability_has_an_example() -> None:
    assert EXAMPLES == ["async", "autoscaling", "blue_green_canary", "serverless", "shadow", "smoke_test", "vpc"]


def test_a_canary_deployment_rolls_back_on_the_default_alarms_and_the_requests() -> None:
    resolver = rendered(example("blue_green_canary"))
    config = properties(resolver, "Endpoint")["DeploymentConfig"]
    assert config["BlueGreenUpdatePolicy"] == {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY",
            "WaitIntervalInSeconds": "600",
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": "10"},
        },
        "TerminationWaitInSeconds": "300",
        "MaximumExecutionTimeoutInSeconds": "3600",
    }
    assert "RollingUpdatePolicy" not in config
    assert config["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": "churn-business-kpi-drop"},
        {"AlarmName": "<ModelErrorAlarm>"},
        {"AlarmName": "<ModelLatencyAlarm>"},
    ]
    latency = properties(resolver, "ModelLatencyAlarm")
    # SageMaker reports ModelLatency in microseconds: 250 ms is 250000.
    assert (latency["MetricName"], latency["ExtendedStatistic"], latency["Threshold"]) == (
        "ModelLatency",
        "p99",
        "250000",
    )
    errors = properties(resolver, "ModelErrorAlarm")
    assert errors["MetricName"] == "Invocation5XXErrors"
    assert {d["Name"]: d["Value"] for d in errors["Dimensions"]} == {"EndpointName": "churn-endpoint",
                                                                      "VariantName": "AllTraffic"}  # fmt: skip


def test_ten_alarms_without_the_default_ones_fill_every_slot() -> None:
    body = example("blue_green_canary")
    names = [f"alarm-{i}" for i in range(10)]
    body["deployment"] = {**body["deployment"], "rollback_alarms": names, "default_alarms": False}
    resolver = rendered(body)
    alarms = properties(resolver, "Endpoint")["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert [a["AlarmName"] for a in alarms] == names
    assert not resolver.present("ModelErrorAlarm") and not resolver.present("ModelLatencyAlarm")


def test_without_deployment_settings_the_endpoint_keeps_sagemakers_default() -> None:
    resolver = rendered(load_event("valid/byom_realtime_builtin"))
    assert "DeploymentConfig" not in properties(resolver, "Endpoint")
    assert not any(resolver.present(r) for r in ("ModelErrorAlarm", "ScalableTarget", "ScalingPolicy"))


def test_a_body_without_the_new_settings_keeps_its_config_and_model_names() -> None:
    """Existing pipelines update in place: the old renderer's names, from the old body."""
    entry = REGISTRY.get("byom_realtime_builtin")
    params = entry.render(parse(entry.model, load_event("valid/byom_realtime_builtin"), SETTINGS), SETTINGS, None)
    assert (params["EndpointConfigName"], params["SageMakerModelName"]) == ("churn-xgboost-c7789c7f",
                                                                            "churn-xgboost-1f05713e")  # fmt: skip


def test_autoscaling_tracks_invocations_per_instance_and_a_rolling_update() -> None:
    resolver = rendered(example("autoscaling"))
    target = properties(resolver, "ScalableTarget")
    assert target["ResourceId"] == "endpoint/<Endpoint.EndpointName>/variant/AllTraffic"
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert (target["MinCapacity"], target["MaxCapacity"]) == ("2", "8")
    tracking = properties(resolver, "ScalingPolicy")["TargetTrackingScalingPolicyConfiguration"]
    assert tracking == {
        "TargetValue": "200",
        "ScaleInCooldown": "600",
        "ScaleOutCooldown": "60",
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
    }
    rolling = properties(resolver, "Endpoint")["DeploymentConfig"]["RollingUpdatePolicy"]
    assert rolling == {"MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": "25"}, "WaitIntervalInSeconds": "300"}
    variant = properties(resolver, "EndpointConfig")["ProductionVariants"][0]
    assert variant["InitialInstanceCount"] == "2"
    assert not resolver.present("ScaleFromZeroPolicy")


def test_an_instance_type_change_releases_the_scaled_variant_before_the_endpoint_and_restores_it_after() -> None:
    """Application Auto Scaling refuses an endpoint update that changes a registered variant's
    instance type; CloudFormation updates the endpoint before its scalable target."""
    before = rendered(example("autoscaling"))
    after = rendered({**example("autoscaling"), "inference_instance": "ml.c5.xlarge"})
    resources = before.resources
    assert resources["Endpoint"]["DependsOn"] == "ScalingRelease"
    assert resources["ScalingRestore"]["DependsOn"] == "Endpoint"
    assert resources["ScalableTarget"]["DependsOn"] == "ScalingRestore"
    release, restore = properties(before, "ScalingRelease"), properties(before, "ScalingRestore")
    assert release["ServiceToken"] == restore["ServiceToken"] == "<ScalingGuardFunction.Arn>"
    assert (release["Phase"], release["ResourceId"], release["InstanceType"]) == (
        "release", "endpoint/churn-endpoint/variant/AllTraffic", "ml.m5.large")  # fmt: skip
    target = properties(before, "ScalableTarget")
    assert (restore["Phase"], restore["InstanceType"]) == ("restore", "ml.m5.large")
    assert (restore["ScalableDimension"], restore["MinCapacity"], restore["MaxCapacity"]) == (
        target["ScalableDimension"], target["MinCapacity"], target["MaxCapacity"])  # fmt: skip
    # The new instance type reaches both guards, and renames the policy the release deleted.
    assert properties(after, "ScalingRelease")["InstanceType"] == "ml.c5.xlarge"
    assert properties(after, "ScalingRestore")["InstanceType"] == "ml.c5.xlarge"
    assert properties(before, "ScalingPolicy")["PolicyName"] == "mlops-churn-target-tracking-ml.m5.large"
    assert properties(after, "ScalingPolicy")["PolicyName"] == "mlops-churn-target-tracking-ml.c5.xlarge"


def test_the_scaling_guard_runs_traced_as_its_own_role_and_the_deploy_role_may_invoke_it() -> None:
    resolver = rendered(example("autoscaling"))
    function = properties(resolver, "ScalingGuardFunction")
    assert (function["Runtime"], function["TracingConfig"]) == ("python3.12", {"Mode": "Active"})
    assert function["Code"]["S3Key"].endswith("/functions/scaling_guard.zip")
    # Named after the stack, as the deploy role's Lambda permissions require.
    assert function["FunctionName"].startswith("mlops-pipeline-churn-xgboost") and len(function["FunctionName"]) <= 64
    role = resolver.resources["ScalingGuardRole"]["Properties"]
    granted = grants(*(policy["PolicyDocument"] for policy in role["Policies"]))
    for action in ("application-autoscaling:DeregisterScalableTarget", "application-autoscaling:RegisterScalableTarget",
                   "application-autoscaling:DescribeScalableTargets", "application-autoscaling:DeleteScalingPolicy",
                   "application-autoscaling:DescribeScalingPolicies", "sagemaker:DescribeEndpoint"):  # fmt: skip
        assert granted(action), action
    deploy = grants(template_of_control_plane()["Resources"]["PipelineDeployRole"]["Properties"]["Policies"][0]
                    ["PolicyDocument"])  # fmt: skip
    assert deploy("lambda:InvokeFunction")


def test_a_serverless_endpoint_has_no_instance_type_for_the_guard_to_compare() -> None:
    resolver = rendered(example("serverless"))
    assert properties(resolver, "ScalingRelease")["InstanceType"] == ""
    assert properties(resolver, "ScalingRestore")["InstanceType"] == ""


def test_serverless_scales_provisioned_concurrency_and_captures_nothing() -> None:
    resolver = rendered(example("serverless"))
    config = properties(resolver, "EndpointConfig")
    assert config["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": "<Model.ModelName>",
            "ServerlessConfig": {"MemorySizeInMB": "2048", "MaxConcurrency": "20", "ProvisionedConcurrency": "2"},
        }
    ]
    assert "DataCaptureConfig" not in config and "AsyncInferenceConfig" not in config
    assert (
        properties(resolver, "ScalableTarget")["ScalableDimension"] == "sagemaker:variant:DesiredProvisionedConcurrency"
    )
    tracking = properties(resolver, "ScalingPolicy")["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerVariantProvisionedConcurrencyUtilization"
    }
    assert tracking["TargetValue"] == "0.5"


def test_async_scales_on_its_backlog_down_to_zero_and_back() -> None:
    resolver = rendered(example("async"))
    output = properties(resolver, "EndpointConfig")["AsyncInferenceConfig"]["OutputConfig"]
    assert output == {
        "S3OutputPath": "s3://my-data-bucket/churn/async/output",
        "S3FailurePath": "s3://my-data-bucket/churn/async/failures",
        "NotificationConfig": {
            "SuccessTopic": "arn:aws:sns:us-east-1:111122223333:churn-async-done",
            "ErrorTopic": "arn:aws:sns:us-east-1:111122223333:churn-async-failed",
        },
    }
    tracking = properties(resolver, "ScalingPolicy")["TargetTrackingScalingPolicyConfiguration"]
    assert "PredefinedMetricSpecification" not in tracking
    assert tracking["CustomizedMetricSpecification"]["MetricName"] == "ApproximateBacklogSizePerInstance"
    assert properties(resolver, "ScalableTarget")["MinCapacity"] == "0"
    step = properties(resolver, "ScaleFromZeroPolicy")["StepScalingPolicyConfiguration"]
    assert step["StepAdjustments"] == [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]
    alarm = properties(resolver, "BacklogWithoutCapacityAlarm")
    assert (alarm["MetricName"], alarm["AlarmActions"]) == ("HasBacklogWithoutCapacity", ["<ScaleFromZeroPolicy>"])
    # The model's role writes the results and tells the topics.
    role = statements(properties(resolver, "ModelExecutionRole")["Policies"][0]["PolicyDocument"])
    puts = [s["Resource"] for s in role if s.get("Action") == "s3:PutObject"]
    assert [
        "arn:aws:s3:::my-data-bucket/churn/async/output/*",
        "arn:aws:s3:::my-data-bucket/churn/async/failures/*",
    ] in puts
    assert {s["Resource"] for s in role if s.get("Action") == "sns:Publish"} == {
        "arn:aws:sns:us-east-1:111122223333:churn-async-done",
        "arn:aws:sns:us-east-1:111122223333:churn-async-failed",
    }


def test_vpc_and_isolation_reach_the_model_and_give_it_a_new_name() -> None:
    resolver = rendered(example("vpc"))
    model = properties(resolver, "Model")
    assert model["EnableNetworkIsolation"] is True
    assert model["VpcConfig"] == {
        "Subnets": ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a60718"],
        "SecurityGroupIds": ["sg-0a1b2c3d4e5f60718"],
    }
    without = {k: v for k, v in example("vpc").items() if k not in ("vpc_config", "enable_network_isolation")}
    assert rendered(without).names["SageMakerModelName"] != resolver.names["SageMakerModelName"]
    assert "VpcConfig" not in properties(rendered(without), "Model")


def test_each_stage_gets_its_own_vpc() -> None:
    body = example("vpc")
    prod = {"subnets": ["subnet-0ffff0000prod0001"], "security_group_ids": ["sg-0ffff0000prod0001"]}
    body["vpc_config"] = {"dev": body["vpc_config"], "staging": body["vpc_config"], "prod": prod}
    assert properties(rendered(body, MULTI, "prod"), "Model")["VpcConfig"]["Subnets"] == ["subnet-0ffff0000prod0001"]
    assert properties(rendered(body, MULTI, "dev"), "Model")["VpcConfig"]["Subnets"][0] == "subnet-0a1b2c3d4e5f60718"


def test_the_deploy_role_holds_every_permission_the_new_resource_handlers_use() -> None:
    """CloudFormation's handlers of scalable targets, scaling policies and alarms call other services too
    (CloudWatch, IAM for Application Auto Scaling's service-linked role); the emulator checks none."""
    import cfnlint

    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    index = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    granted = grants(template_of_control_plane()["Resources"]["PipelineDeployRole"]["Properties"]["Policies"][0]
                     ["PolicyDocument"])  # fmt: skip
    # Lambda provisioned concurrency and PassRole serve targets of Lambda functions and targets given a RoleARN.
    unused = {"iam:PassRole"}
    missing = []
    for type_name in ("AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy",
                      "AWS::CloudWatch::Alarm"):  # fmt: skip
        handlers = json.loads((schemas / "resources" / f"{index[type_name]}.json").read_text())["handlers"]
        for action in sorted({p for h in ("create", "update", "delete") for p in handlers[h]["permissions"]}):
            if not action.startswith("lambda:") and action not in unused and not granted(action):
                missing.append(f"{type_name}: {action}")
    assert missing == []


def template_of_control_plane() -> dict[str, Any]:
    from mlops_cfn import load

    return load(CONTROL_PLANE)


@pytest.mark.parametrize("name", ["serverless", "async", "vpc", "autoscaling", "shadow"])
def test_each_example_deploys_in_the_emulator(api: Any, plane: Plane, name: str) -> None:
    from mlops_local.executor import Store, execute

    _, body = post(api, "/provisionpipeline", example(name))
    run = execute(plane.session, body["stack_name"], Store())
    assert run.status == "Succeeded", run.actions
    sagemaker = plane.client("sagemaker")
    [config] = sagemaker.list_endpoint_configs()["EndpointConfigs"]
    described = sagemaker.describe_endpoint_config(EndpointConfigName=config["EndpointConfigName"])
    variant = described["ProductionVariants"][0]
    assert variant["VariantName"] == "AllTraffic"
    if name == "serverless":
        assert variant["ServerlessConfig"] == {
            "MemorySizeInMB": 2048,
            "MaxConcurrency": 20,
            "ProvisionedConcurrency": 2,
        }
        assert not described.get("DataCaptureConfig")  # moto answers {} where AWS leaves the key out
    if name == "async":
        assert described["AsyncInferenceConfig"]["OutputConfig"]["S3OutputPath"] == (
            "s3://my-data-bucket/churn/async/output"
        )
    if name == "autoscaling":
        # The guard's function deploys; the emulator's CloudFormation skips the custom resources
        # (it runs no Lambda) as it skips scalable targets, so there is nothing for them to guard.
        cfn = plane.client("cloudformation")
        logical = {r.get("LogicalResourceId") for stack in cfn.describe_stacks()["Stacks"]
                   for r in cfn.describe_stack_resources(StackName=stack["StackName"])["StackResources"]}  # fmt: skip
        assert "ScalingGuardFunction" in logical and "Endpoint" in logical
        assert not logical & {"ScalingRelease", "ScalingRestore", "ScalableTarget"}
    if name == "shadow":
        # The shadow variant's model deploys; moto drops ShadowProductionVariants (test_realtime_shadow.py).
        assert len(sagemaker.list_models()["Models"]) == 2
        assert [v["VariantName"] for v in described["ProductionVariants"]] == ["AllTraffic"]
        assert not described.get("ShadowProductionVariants")
    if name == "vpc":
        [model] = sagemaker.list_models()["Models"]
        vpc = sagemaker.describe_model(ModelName=model["ModelName"])["VpcConfig"]
        assert vpc["Subnets"] == ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a60718"]


def test_a_smoke_test_runs_after_the_deploy_and_its_failure_stops_the_pipeline(api: Any, plane: Plane) -> None:
    from mlops_local.executor import Store, execute

    body = example("smoke_test")
    s3 = plane.client("s3")
    s3.put_object(Bucket=plane.config.assets_bucket, Key="samples/churn/smoke.csv", Body=b"1,2,3")
    _, provisioned = post(api, "/provisionpipeline", body)
    run = execute(plane.session, provisioned["stack_name"], Store())
    assert run.status == "Succeeded", run.actions
    assert run.stage_status == {"Source": "Succeeded", "Deploy": "Succeeded", "Run": "Succeeded"}
    # The emulator's endpoint answers at once with 200; a test that expects a refusal fails the Run stage.
    body["smoke_test"] = {**body["smoke_test"], "expected_status": 400}
    _, provisioned = post(api, "/provisionpipeline", body)
    run = execute(plane.session, provisioned["stack_name"], Store())
    assert run.status == "Failed"
    assert run.stage_status["Run"] == "Failed"
    [error] = [a.error for a in run.actions.values() if a.status == "Failed"]
    assert "smoke test of endpoint churn-endpoint: answered 200, expected 400" in str(error)


def test_only_a_request_with_a_smoke_test_gets_a_run_stage() -> None:
    entry = REGISTRY.get("byom_realtime_builtin")
    assert not entry.has_run_stage(parse(entry.model, load_event("valid/byom_realtime_builtin"), SETTINGS))
    assert entry.has_run_stage(parse(entry.model, example("smoke_test"), SETTINGS))
    batch = REGISTRY.get("byom_batch_builtin")
    assert batch.has_run_stage(parse(batch.model, load_event("valid/byom_batch_builtin"), SETTINGS))
