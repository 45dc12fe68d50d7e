"""Endpoint settings of real-time requests: AWS's limits and exclusions, refused when the request arrives.

The bounds are those of CloudFormation's AWS::SageMaker::Endpoint DeploymentConfig
(BlueGreenUpdatePolicy, TrafficRoutingConfig, RollingUpdatePolicy, AutoRollbackConfig),
AWS::SageMaker::EndpointConfig ServerlessConfig / AsyncInferenceConfig and the models' VpcConfig;
the exclusions are SageMaker's (deployment guardrails, Serverless Inference).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from tests.support.events import load_event
from tests.support.settings import MULTI, SETTINGS, problems

SUBNETS = {"subnets": ["subnet-0a1b2c3d"], "security_group_ids": ["sg-0a1b2c3d"]}


def body(**changes: Any) -> dict[str, Any]:
    return {**load_event("valid/byom_realtime_builtin"), **changes}


def serverless_body(**changes: Any) -> dict[str, Any]:
    base = body(serverless={"memory_size_mb": 2048, "max_concurrency": 10})
    del base["inference_instance"], base["data_capture_location"]
    return {**base, **changes}


# (field path, valid value at a bound, invalid value just past it, setting beside it)
BOUNDS = [
    ("deployment.wait_interval_seconds", 0, -1, {}),
    ("deployment.wait_interval_seconds", 3600, 3601, {}),
    ("deployment.maximum_execution_timeout_seconds", 600, 599, {"wait_interval_seconds": 0}),
    ("deployment.maximum_execution_timeout_seconds", 28800, 28801, {}),
    ("deployment.termination_wait_seconds", 0, -1, {}),
    ("deployment.termination_wait_seconds", 3600, 3601, {}),
    ("deployment.canary_percent", 1, 0, {"traffic_routing": "CANARY"}),
    ("deployment.canary_percent", 50, 51, {"traffic_routing": "CANARY"}),
    ("deployment.linear_step_percent", 10, 9, {"traffic_routing": "LINEAR"}),
    ("deployment.linear_step_percent", 50, 51, {"traffic_routing": "LINEAR"}),
    ("deployment.rolling_batch_percent", 5, 4, {"strategy": "rolling"}),
    ("deployment.rolling_batch_percent", 50, 51, {"strategy": "rolling"}),
    ("deployment.latency_threshold_ms", 1, 0, {}),
    ("deployment.latency_threshold_ms", 60000, 60001, {}),
]


@pytest.mark.parametrize(("path", "good", "bad", "beside"), BOUNDS)
def test_deployment_bounds_are_awss(path: str, good: int, bad: int, beside: dict[str, Any]) -> None:
    key = path.split(".")[1]
    assert problems(body(deployment={**beside, key: good})) == {}
    found = problems(body(deployment={**beside, key: bad}))
    assert list(found) == [path]
    assert "between" in found[path]


def test_rollback_alarms_count_the_default_alarms_against_awss_ten() -> None:
    eight = [f"alarm-{i}" for i in range(8)]
    assert problems(body(deployment={"rollback_alarms": eight})) == {}
    found = problems(body(deployment={"rollback_alarms": [*eight, "alarm-8"]}))
    assert "names 11 alarms (2 of them the default alarms)" in found["deployment.rollback_alarms"]
    ten = [f"alarm-{i}" for i in range(10)]
    assert problems(body(deployment={"rollback_alarms": ten, "default_alarms": False})) == {}
    found = problems(body(deployment={"rollback_alarms": [*ten, "x"], "default_alarms": False}))
    assert "at most 10" in found["deployment.rollback_alarms"]


def test_an_alarm_named_twice_or_blank_is_refused() -> None:
    assert "twice" in problems(body(deployment={"rollback_alarms": ["a", "a"]}))["deployment.rollback_alarms"]
    assert "deployment.rollback_alarms.0" in problems(body(deployment={"rollback_alarms": [" "]}))


def test_canary_and_linear_need_their_size_and_sizes_need_their_routing() -> None:
    assert "is required" in problems(body(deployment={"traffic_routing": "CANARY"}))["deployment.canary_percent"]
    found = problems(body(deployment={"traffic_routing": "LINEAR"}))
    assert "is required" in found["deployment.linear_step_percent"]
    found = problems(body(deployment={"canary_percent": 10}))
    assert "CANARY" in found["deployment.canary_percent"]
    found = problems(body(deployment={"strategy": "rolling", "traffic_routing": "CANARY", "canary_percent": 10}))
    assert set(found) == {"deployment.traffic_routing", "deployment.canary_percent"}
    assert "rolling" in problems(body(deployment={"rolling_batch_percent": 10}))["deployment.rolling_batch_percent"]


def test_the_timeout_must_exceed_the_deployments_waits() -> None:
    # LINEAR 25%: 4 steps of 300 s, plus 100 s before the old fleet ends = 1300 s.
    plan = {"traffic_routing": "LINEAR", "linear_step_percent": 25, "termination_wait_seconds": 100}
    assert problems(body(deployment={**plan, "maximum_execution_timeout_seconds": 1301})) == {}
    found = problems(body(deployment={**plan, "maximum_execution_timeout_seconds": 1300}))
    assert "= 1300" in found["deployment.maximum_execution_timeout_seconds"]


def test_unknown_routing_and_strategy_are_named() -> None:
    assert "ALL_AT_ONCE" in problems(body(deployment={"traffic_routing": "canary"}))["deployment.traffic_routing"]
    assert "blue_green" in problems(body(deployment={"strategy": "shadow"}))["deployment.strategy"]
    assert "not accepted in deployment" in problems(body(deployment={"canary": 10}))["deployment.canary"]


@pytest.mark.parametrize(
    "plan",
    [
        {"traffic_routing": "CANARY", "canary_percent": 10},
        {"strategy": "rolling", "rolling_batch_percent": 20},
        {"traffic_routing": "ALL_AT_ONCE", "wait_interval_seconds": 300},  # its bake is ignored too
    ],
)
def test_inf1_endpoints_refuse_deployment_settings(plan: dict[str, Any]) -> None:
    found = problems(body(inference_instance="ml.inf1.xlarge", deployment=plan))
    assert list(found) == ["deployment"]
    assert "no deployment guardrails to Inf1 instances (ml.inf1.xlarge)" in found["deployment"]
    assert "no baking period and no alarm rollback" in found["deployment"]
    assert problems(body(inference_instance="ml.inf1.xlarge")) == {}
    assert problems(body(inference_instance="ml.inf2.xlarge", deployment=plan)) == {}


def test_inf1_in_one_stage_is_enough_to_refuse() -> None:
    stages = {"dev": "ml.m5.large", "staging": "ml.m5.large", "prod": "ml.inf1.xlarge"}
    found = problems(body(inference_instance=stages, deployment={"traffic_routing": "LINEAR",
                                                                  "linear_step_percent": 20}), MULTI)  # fmt: skip
    assert "ml.inf1.xlarge" in found["deployment"]


MARKETPLACE = "arn:aws:sagemaker:us-east-1:865070037744:model-package/churn-classifier-0123456789abcdef"


def package_body(package: str, **changes: Any) -> dict[str, Any]:
    base = body(model_package_name=package, **changes)
    for key in ("model_framework", "model_framework_version", "model_artifact_location"):
        base.pop(key, None)
    return base


@pytest.mark.parametrize(
    "plan", [{"traffic_routing": "ALL_AT_ONCE"}, {"traffic_routing": "CANARY", "canary_percent": 10}]
)
def test_marketplace_models_get_no_deployment_guardrails(plan: dict[str, Any]) -> None:
    found = problems(package_body(MARKETPLACE, deployment=plan))
    assert list(found) == ["deployment"]
    assert "unversioned package of account 865070037744" in found["deployment"]
    assert "no deployment guardrails to Marketplace containers" in found["deployment"]
    assert problems(package_body(MARKETPLACE)) == {}  # without deployment settings it deploys as before


@pytest.mark.parametrize(
    "package",
    [
        "arn:aws:sagemaker:us-east-1:865070037744:model-package/churn-models/3",  # versioned: a registry's
        "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-classifier",  # the installation's own
        "churn-classifier",  # by name: the installation's own
    ],
)
def test_registry_and_own_packages_keep_their_deployment_guardrails(package: str) -> None:
    plan = {"traffic_routing": "CANARY", "canary_percent": 10}
    assert problems(package_body(package, deployment=plan)) == {}


def test_a_stage_accounts_own_package_is_no_marketplace_model() -> None:
    package = "arn:aws:sagemaker:us-east-1:444455556666:model-package/churn-classifier"
    plan = {"traffic_routing": "LINEAR", "linear_step_percent": 20}
    assert "deployment" not in problems(package_body(package, deployment=plan), MULTI)


# --- serverless ---------------------------------------------------------------------------


@pytest.mark.parametrize(("provisioned", "ok"), [(1, True), (10, True), (11, False), (200, False)])
def test_provisioned_concurrency_is_at_most_max_concurrency(provisioned: int, ok: bool) -> None:
    config = {"memory_size_mb": 2048, "max_concurrency": 10, "provisioned_concurrency": provisioned}
    found = problems(serverless_body(serverless=config))
    assert ("serverless.provisioned_concurrency" not in found) is ok, found
    if not ok:
        assert "more than max_concurrency 10" in found["serverless.provisioned_concurrency"]


def test_serverless_endpoints_host_no_marketplace_model() -> None:
    raw = {**serverless_body(), "model_package_name": MARKETPLACE}
    for key in ("model_framework", "model_framework_version", "model_artifact_location"):
        raw.pop(key, None)
    found = problems(raw)
    assert list(found) == ["serverless"] and "AWS Marketplace model" in found["serverless"]
    own = "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-classifier"
    assert problems({**raw, "model_package_name": own}) == {}


@pytest.mark.parametrize(("memory", "ok"), [(1024, True), (6144, True), (3072, True), (1023, False),
                                             (1536, False), (7168, False), (0, False)])  # fmt: skip
def test_serverless_memory_is_1_to_6_gb_in_1_gb_steps(memory: int, ok: bool) -> None:
    found = problems(serverless_body(serverless={"memory_size_mb": memory, "max_concurrency": 5}))
    assert (found == {}) is ok
    if not ok:
        assert "1 GB steps" in found["serverless.memory_size_mb"] or "6144" in found["serverless.memory_size_mb"]


@pytest.mark.parametrize("key", ["max_concurrency", "provisioned_concurrency"])
def test_serverless_concurrency_is_1_to_200(key: str) -> None:
    def with_value(value: int) -> dict[str, str]:
        config = {"memory_size_mb": 1024, "max_concurrency": 200, key: value}
        return problems(serverless_body(serverless=config))

    assert with_value(1) == {} and with_value(200) == {}
    assert "between 1 and 200" in with_value(0)[f"serverless.{key}"]
    assert "between 1 and 200" in with_value(201)[f"serverless.{key}"]


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [("inference_instance", "ml.g4dn.xlarge", "GPU"),
     ("data_capture_location", "my-data-bucket/capture", "data capture"),
     ("vpc_config", SUBNETS, "VPC"), ("enable_network_isolation", True, "network isolation"),
     ("initial_instance_count", 2, "no instances"),
     ("async_inference", {"output_location": "my-data-bucket/out"}, "asynchronous")],
)  # fmt: skip
def test_serverless_refuses_what_aws_excludes(key: str, value: Any, words: str) -> None:
    found = problems(serverless_body(**{key: value}))
    assert list(found) == [key] and words in found[key]


def test_serverless_refuses_rolling_updates() -> None:
    found = problems(serverless_body(deployment={"strategy": "rolling", "rolling_batch_percent": 10}))
    assert "serverless" in found["deployment.strategy"]
    assert problems(serverless_body(deployment={"traffic_routing": "LINEAR", "linear_step_percent": 10})) == {}


def test_without_serverless_the_instance_and_capture_stay_required() -> None:
    raw = body()
    del raw["inference_instance"]
    assert "unless the endpoint is serverless" in problems(raw)["inference_instance"]


def test_serverless_autoscaling_scales_provisioned_concurrency_within_max_concurrency() -> None:
    config = {"memory_size_mb": 1024, "max_concurrency": 20, "provisioned_concurrency": 2}
    scaling = {"min_capacity": 1, "max_capacity": 20, "target_value": 0.5}
    assert problems(serverless_body(serverless=config, autoscaling=scaling)) == {}
    found = problems(serverless_body(serverless=config, autoscaling={**scaling, "max_capacity": 21}))
    assert "max_concurrency 20" in found["autoscaling.max_capacity"]
    found = problems(serverless_body(serverless=config, autoscaling={**scaling, "target_value": 1.5}))
    assert "utilisation" in found["autoscaling.target_value"]
    no_provisioned = {"memory_size_mb": 1024, "max_concurrency": 20}
    assert "provisioned_concurrency" in problems(serverless_body(serverless=no_provisioned,
                                                                 autoscaling=scaling))["autoscaling"]  # fmt: skip


# --- autoscaling and instance counts -------------------------------------------------------


def test_autoscaling_bounds_and_scale_to_zero_only_for_async() -> None:
    scaling = {"min_capacity": 1, "max_capacity": 4, "target_value": 100}
    assert problems(body(autoscaling=scaling)) == {}
    found = problems(body(autoscaling={**scaling, "min_capacity": 0}))
    assert "only asynchronous endpoints scale to zero" in found["autoscaling.min_capacity"]
    assert problems(body(autoscaling={**scaling, "min_capacity": 0},
                         async_inference={"output_location": "my-data-bucket/out"})) == {}  # fmt: skip
    assert (
        "above max_capacity" in problems(body(autoscaling={**scaling, "min_capacity": 5}))["autoscaling.min_capacity"]
    )
    assert (
        "between 1 and 1000" in problems(body(autoscaling={**scaling, "max_capacity": 0}))["autoscaling.max_capacity"]
    )
    assert "above 0" in problems(body(autoscaling={**scaling, "target_value": 0}))["autoscaling.target_value"]
    assert (
        "between 0 and 3600"
        in problems(body(autoscaling={**scaling, "scale_in_cooldown_seconds": 3601}))[
            "autoscaling.scale_in_cooldown_seconds"
        ]
    )


# (field, valid value at a bound, invalid value just past it) of autoscaling's settings
SCALING_BOUNDS = [
    ("min_capacity", 1, -1),
    ("max_capacity", 1000, 1001),
    ("max_capacity", 1, 0),
    ("target_value", 1_000_000, 1_000_001),
    ("scale_in_cooldown_seconds", 0, -1),
    ("scale_in_cooldown_seconds", 3600, 3601),
    ("scale_out_cooldown_seconds", 0, -1),
    ("scale_out_cooldown_seconds", 3600, 3601),
]


@pytest.mark.parametrize(("key", "good", "bad"), SCALING_BOUNDS)
def test_autoscaling_bounds_on_both_sides(key: str, good: float, bad: float) -> None:
    scaling = {"min_capacity": 1, "max_capacity": 1000, "target_value": 100, key: good}
    assert problems(body(autoscaling=scaling)) == {}
    found = problems(body(autoscaling={**scaling, key: bad}))
    assert f"autoscaling.{key}" in found, found


def test_no_rollback_alarms_leaves_no_rollback_configuration() -> None:
    from chalicelib.pipelines.inference import deployment_params

    request = parse(REGISTRY.get("byom_realtime_builtin").model,
                    body(deployment={"default_alarms": False}), SETTINGS)  # fmt: skip
    params = deployment_params(request)
    assert params["DefaultAlarms"] == "false" and set(params["RollbackAlarmNames"]) == {","}


def test_initial_instance_count_lies_within_the_scaling_range() -> None:
    scaling = {"min_capacity": 2, "max_capacity": 4, "target_value": 100}
    assert problems(body(autoscaling=scaling, initial_instance_count=4)) == {}
    assert "initial_instance_count" in problems(body(autoscaling=scaling, initial_instance_count=5))
    assert "initial_instance_count" in problems(body(autoscaling=scaling, initial_instance_count=1))
    assert "between 1 and 1000" in problems(body(initial_instance_count=0))["initial_instance_count"]


# --- asynchronous inference ----------------------------------------------------------------


def test_async_limits_and_topics() -> None:
    config = {"output_location": "s3://my-data-bucket/async/out", "failure_location": "my-data-bucket/async/failed",
              "success_topic_arn": "arn:aws:sns:us-east-1:111122223333:done",
              "max_concurrent_invocations_per_instance": 1000}  # fmt: skip
    assert problems(body(async_inference=config)) == {}
    found = problems(body(async_inference={**config, "max_concurrent_invocations_per_instance": 1001}))
    assert "between 1 and 1000" in found["async_inference.max_concurrent_invocations_per_instance"]
    assert problems(body(async_inference={**config, "max_concurrent_invocations_per_instance": 1})) == {}
    found = problems(body(async_inference={**config, "max_concurrent_invocations_per_instance": 0}))
    assert "async_inference.max_concurrent_invocations_per_instance" in found
    found = problems(body(async_inference={**config, "error_topic_arn": "my-topic"}))
    assert "SNS topic ARN" in found["async_inference.error_topic_arn"]
    assert "is required" in problems(body(async_inference={}))["async_inference.output_location"]


def test_async_paths_must_be_in_allowed_buckets() -> None:
    guarded = replace(SETTINGS, allowed_buckets=("my-data-bucket",))
    assert problems(body(async_inference={"output_location": "my-data-bucket/out"}), guarded) == {}
    found = problems(body(async_inference={"output_location": "my-data-bucket/out",
                                           "failure_location": "other-bucket/failed"}), guarded)  # fmt: skip
    assert "AllowedS3Buckets" in found["async_inference.failure_location"]


def test_async_per_stage_values_need_a_multi_account_installation() -> None:
    out = {"dev": "my-data-bucket/dev", "staging": "my-data-bucket/staging", "prod": "prod-bucket/out"}
    assert problems(body(async_inference={"output_location": out}), MULTI) == {}
    assert (
        "multi-account" in problems(body(async_inference={"output_location": out}))["async_inference.output_location"]
    )


# --- VPC ------------------------------------------------------------------------------------


def test_vpc_config_bounds() -> None:
    assert problems(body(vpc_config=SUBNETS, enable_network_isolation=True)) == {}
    sixteen = [f"subnet-{i:08x}" for i in range(16)]
    five = [f"sg-{i:08x}" for i in range(5)]
    assert problems(body(vpc_config={"subnets": sixteen, "security_group_ids": five})) == {}
    found = problems(body(vpc_config={"subnets": [*sixteen, "subnet-ffffffff"], "security_group_ids": five}))
    assert "1 to 16" in found["vpc_config.subnets"]
    found = problems(body(vpc_config={"subnets": [], "security_group_ids": [*five, "sg-ffffffff"]}))
    assert "1 to 16" in found["vpc_config.subnets"] and "1 to 5" in found["vpc_config.security_group_ids"]
    found = problems(body(vpc_config={"subnets": ["vpc-123"], "security_group_ids": ["sg-1"]}))
    assert "subnet ID" in found["vpc_config.subnets.0"]


def test_vpc_config_per_stage_in_multi_account_installations() -> None:
    prod = {"subnets": ["subnet-0prod0001"], "security_group_ids": ["sg-0prod0001"]}
    staged = {"dev": SUBNETS, "staging": SUBNETS, "prod": prod}
    assert problems(body(vpc_config=staged), MULTI) == {}
    assert "multi-account" in problems(body(vpc_config=staged))["vpc_config"]


# --- smoke test -----------------------------------------------------------------------------


def test_smoke_test_bounds_and_defaults() -> None:
    entry = REGISTRY.get("byom_realtime_builtin")
    request: Any = parse(entry.model, body(smoke_test={"payload_key": "samples/churn.csv"}), SETTINGS)
    assert (request.smoke_test.expected_status, request.smoke_test.max_latency_ms) == (200, 1000)
    for key, good, bad in (("expected_status", 100, 99), ("expected_status", 599, 600),
                           ("max_latency_ms", 1, 0), ("max_latency_ms", 60000, 60001)):  # fmt: skip
        config = {"payload_key": "samples/churn.csv", key: good}
        assert problems(body(smoke_test=config)) == {}
        found = problems(body(smoke_test={**config, key: bad}))
        assert list(found) == [f"smoke_test.{key}"] and "between" in found[f"smoke_test.{key}"]
    assert "is required" in problems(body(smoke_test={}))["smoke_test.payload_key"]
    assert (
        "assets bucket"
        in problems(body(smoke_test={"payload_key": "s3://other-bucket/x.csv"}))["smoke_test.payload_key"]
    )


def test_smoke_test_of_an_async_endpoint_is_refused() -> None:
    found = problems(body(smoke_test={"payload_key": "samples/churn.csv"},
                          async_inference={"output_location": "my-data-bucket/out"}))  # fmt: skip
    assert "InvokeEndpointAsync" in found["smoke_test"]
