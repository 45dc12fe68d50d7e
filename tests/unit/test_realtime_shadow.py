"""A real-time request's shadow variant: AWS's limits and exclusions, refused when the request arrives.

The bounds are CreateEndpointConfig's (one shadow variant beside one production variant,
variant names of 1-63 letters, digits and hyphens) and a shadow test's (the share of requests
copied, at most 100%); the exclusions are SageMaker's (Serverless Inference hosts one variant,
rolling updates exclude multi-variant endpoints, the endpoint's volume key and instance types
with local storage). The parameters it renders are checked here too; the template they make is
in tests/blueprints/test_realtime_shadow.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from tests.support.events import load_event
from tests.support.settings import MULTI, REGISTRY_MODE, SETTINGS, problems

CANDIDATE = {"model_artifact_location": "models/churn/candidate/model.tar.gz"}
CUSTOM_IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/churn-serving:2.0"


def body(**changes: Any) -> dict[str, Any]:
    return {**load_event("valid/realtime/shadow"), **changes}


def with_shadow(**shadow: Any) -> dict[str, Any]:
    return body(shadow={**CANDIDATE, **shadow})


def rendered(raw: dict[str, Any], settings: Any = SETTINGS, stage: str | None = None) -> dict[str, str]:
    entry = REGISTRY.get(raw["pipeline_type"])
    return entry.render(parse(entry.model, raw, settings), settings, stage)


# --- bounds -------------------------------------------------------------------------------


# (field, valid value at a bound, invalid value just past it)
BOUNDS = [
    ("sampling_percent", 1, 0),
    ("sampling_percent", 100, 101),
    ("initial_instance_count", 1, 0),
    ("initial_instance_count", 1000, 1001),
]


@pytest.mark.parametrize(("key", "good", "bad"), BOUNDS)
def test_shadow_bounds(key: str, good: int, bad: int) -> None:
    assert problems(with_shadow(**{key: good})) == {}
    found = problems(with_shadow(**{key: bad}))
    assert list(found) == [f"shadow.{key}"] and "between" in found[f"shadow.{key}"]


def test_variant_names_follow_sagemakers_rule_up_to_63_characters() -> None:
    assert problems(with_shadow(variant_name="a" * 63)) == {}
    assert problems(with_shadow(variant_name="candidate-2")) == {}
    assert "at most 63" in problems(with_shadow(variant_name="a" * 64))["shadow.variant_name"]
    for name in ("-candidate", "candidate-", "candidate_2", "candidate.2"):
        assert "letters, digits and hyphens" in problems(with_shadow(variant_name=name))["shadow.variant_name"], name


@pytest.mark.parametrize("name", ["AllTraffic", "alltraffic"])
def test_the_shadow_variant_cannot_take_the_production_variants_name(name: str) -> None:
    found = problems(with_shadow(variant_name=name))
    assert list(found) == ["shadow.variant_name"] and "AllTraffic" in found["shadow.variant_name"]


def test_one_shadow_variant_at_most() -> None:
    found = problems(body(shadow=[CANDIDATE, {**CANDIDATE, "variant_name": "Other"}]))
    assert list(found) == ["shadow"] and "at most one shadow variant" in found["shadow"]
    assert "at most one shadow variant" in problems(body(shadow=[CANDIDATE]))["shadow"]


def test_the_candidate_is_an_artifact_in_the_assets_bucket() -> None:
    assert "is required" in problems(body(shadow={"sampling_percent": 10}))["shadow.model_artifact_location"]
    found = problems(with_shadow(model_artifact_location="s3://other-bucket/model.tar.gz"))
    assert "assets bucket" in found["shadow.model_artifact_location"]
    assert problems(with_shadow(model_artifact_location="s3://mlops-assets/models/c.tar.gz")) == {}
    assert "not accepted in shadow" in problems(with_shadow(weight=0.5))["shadow.weight"]


def test_defaults_follow_the_production_variant() -> None:
    """AWS advises the same instance type and count as the production variant, and all the requests."""
    entry = REGISTRY.get("byom_realtime_builtin")
    request: Any = parse(entry.model, body(shadow=CANDIDATE), SETTINGS)
    assert (request.shadow.sampling_percent, request.shadow.variant_name) == (100, "Shadow")
    params = rendered(body(shadow=CANDIDATE))
    assert (params["ShadowInferenceInstance"], params["ShadowInitialInstanceCount"]) == ("ml.m5.large", "2")
    assert (params["ShadowVariantName"], params["ShadowVariantWeight"]) == ("Shadow", "1")


# --- stages -------------------------------------------------------------------------------


def test_multi_account_installations_name_the_stage_single_account_ones_do_not() -> None:
    assert "is required in a multi-account" in problems(body(), MULTI)["shadow.stage"]
    prod = with_shadow(stage="prod")
    assert problems(prod, MULTI) == {}
    assert "leave stage out" in problems(prod)["shadow.stage"]
    assert "dev, staging, prod" in problems(with_shadow(stage="qa"), MULTI)["shadow.stage"]


def test_only_the_named_stage_gets_the_shadow_variant() -> None:
    raw = with_shadow(stage="staging")
    staging, dev, prod = (rendered(raw, MULTI, stage) for stage in ("staging", "dev", "prod"))
    assert staging["ShadowSageMakerModelName"].startswith("churn-xgboost-shadow-")
    assert dev["ShadowSageMakerModelName"] == prod["ShadowSageMakerModelName"] == ""
    without = {k: v for k, v in raw.items() if k != "shadow"}
    assert dev["EndpointConfigName"] == rendered(without, MULTI, "dev")["EndpointConfigName"]
    assert staging["EndpointConfigName"] != rendered(without, MULTI, "staging")["EndpointConfigName"]


# --- exclusions ---------------------------------------------------------------------------


def test_serverless_endpoints_take_no_shadow_variant() -> None:
    raw = body(serverless={"memory_size_mb": 2048, "max_concurrency": 10})
    del raw["inference_instance"], raw["data_capture_location"], raw["initial_instance_count"]
    found = problems(raw)
    assert list(found) == ["shadow"] and "serverless" in found["shadow"] and "single variant" in found["shadow"]


def test_asynchronous_endpoints_take_no_shadow_variant() -> None:
    found = problems(body(async_inference={"output_location": "my-data-bucket/out"}))
    assert list(found) == ["shadow"] and "asynchronous" in found["shadow"]


def test_rolling_updates_exclude_an_endpoint_with_a_shadow_variant() -> None:
    found = problems(body(deployment={"strategy": "rolling", "rolling_batch_percent": 25}))
    assert list(found) == ["deployment.strategy"] and "multi-variant" in found["deployment.strategy"]
    canary = {"traffic_routing": "CANARY", "canary_percent": 10}
    assert problems(body(deployment=canary)) == {}


def test_autoscaling_and_data_capture_go_with_a_shadow_variant() -> None:
    scaling = {"min_capacity": 2, "max_capacity": 4, "target_value": 100}
    assert problems(body(autoscaling=scaling)) == {}
    assert "data_capture_location" in body()


PACKAGE = "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/3"


@pytest.mark.parametrize("settings", [SETTINGS, REGISTRY_MODE])
def test_a_model_from_a_package_takes_no_shadow_variant(settings: Any) -> None:
    raw = body(model_package_name=PACKAGE)
    for key in ("model_framework", "model_framework_version", "model_artifact_location"):
        del raw[key]
    found = problems(raw, settings)
    assert list(found) == ["shadow"] and "model registry" in found["shadow"]


def test_deployment_settings_refuse_an_inf1_shadow_variant() -> None:
    canary = {"traffic_routing": "CANARY", "canary_percent": 10}
    found = problems(with_shadow(inference_instance="ml.inf1.xlarge") | {"deployment": canary})
    assert "Inf1" in found["deployment"]
    assert problems(with_shadow(inference_instance="ml.inf1.xlarge")) == {}


def test_the_endpoints_volume_key_refuses_a_shadow_instance_with_local_storage() -> None:
    key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    found = problems(with_shadow(inference_instance="ml.g4dn.xlarge") | {"kms_key_arn": key})
    assert list(found) == ["shadow.inference_instance"] and "local NVMe" in found["shadow.inference_instance"]
    assert problems(with_shadow(inference_instance="ml.c5.xlarge") | {"kms_key_arn": key}) == {}
    assert problems(with_shadow(inference_instance="ml.g4dn.xlarge")) == {}


# --- images -------------------------------------------------------------------------------


def custom_body(**shadow: Any) -> dict[str, Any]:
    raw = load_event("valid/realtime/vpc")
    return {**raw, "shadow": {**CANDIDATE, **shadow}}


def test_custom_types_may_give_the_candidate_its_own_image_builtin_types_may_not() -> None:
    assert problems(custom_body(custom_image_uri=CUSTOM_IMAGE)) == {}
    params = rendered(custom_body(custom_image_uri=CUSTOM_IMAGE))
    assert params["ShadowImageUri"] == CUSTOM_IMAGE
    assert rendered(custom_body())["ShadowImageUri"] == load_event("valid/realtime/vpc")["custom_image_uri"]
    found = problems(with_shadow(custom_image_uri=CUSTOM_IMAGE))
    assert "byom_realtime_custom" in found["shadow.custom_image_uri"]
    assert rendered(body())["ShadowImageUri"] == rendered(body())["ImageUri"]


def test_the_candidates_image_must_come_from_an_allowed_registry() -> None:
    guarded = replace(SETTINGS, allowed_ecr_registries=("111122223333.dkr.ecr.us-east-1.amazonaws.com",))
    assert problems(custom_body(custom_image_uri=CUSTOM_IMAGE), guarded) == {}
    other = "444455556666.dkr.ecr.us-east-1.amazonaws.com/churn-serving:2.0"
    found = problems(custom_body(custom_image_uri=other), guarded)
    assert list(found) == ["shadow.custom_image_uri"] and "AllowedEcrRegistries" in found["shadow.custom_image_uri"]


# --- names --------------------------------------------------------------------------------


def test_the_share_is_the_shadow_weight_beside_the_production_variants_1() -> None:
    assert rendered(body())["ShadowVariantWeight"] == "0.25"
    assert rendered(with_shadow(sampling_percent=100))["ShadowVariantWeight"] == "1"
    assert rendered(with_shadow(sampling_percent=1))["ShadowVariantWeight"] == "0.01"


def test_a_body_without_a_shadow_keeps_its_names_and_renders_none() -> None:
    plain = load_event("valid/byom_realtime_builtin")
    params = rendered(plain)
    assert params["EndpointConfigName"] == "churn-xgboost-c7789c7f"
    assert params["ShadowSageMakerModelName"] == "" and params["ShadowVariantWeight"] == "1"
    with_one = rendered({**plain, "shadow": CANDIDATE})
    assert with_one["EndpointConfigName"] != params["EndpointConfigName"]
    assert with_one["SageMakerModelName"] == params["SageMakerModelName"]


def test_what_replaces_the_shadow_model_renames_it() -> None:
    """Every property of AWS::SageMaker::Model forces a replacement; the model keeps the production one's network."""
    base = rendered(body())["ShadowSageMakerModelName"]
    assert len(base) <= 63
    other = rendered(with_shadow(model_artifact_location="models/churn/candidate-2/model.tar.gz"))
    assert other["ShadowSageMakerModelName"] != base
    isolated = rendered(body(enable_network_isolation=True))
    assert isolated["ShadowSageMakerModelName"] != base
    assert rendered(with_shadow(sampling_percent=25, variant_name="Candidate"))["ShadowSageMakerModelName"] == base
