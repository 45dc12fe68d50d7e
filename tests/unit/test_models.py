"""Request validation: every type's valid body, each missing required key, and bad bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.models.base import ignored, parse
from chalicelib.pipelines.catalog import REGISTRY
from chalicelib.settings import Settings
from tests.support.events import EVENTS, load_event, valid_types
from tests.support.settings import MULTI, REGISTRY_MODE, SETTINGS

MONITOR = [
    "model_name", "endpoint_name", "baseline_data", "baseline_job_output_location",
    "data_capture_location", "monitoring_output_location", "schedule_expression",
    "monitor_max_runtime_seconds", "instance_type", "instance_volume_size",
]  # fmt: skip
TRAINING = ["model_name", "training_data", "job_output_location"]
BUILTIN_TRAINING = [*TRAINING, "model_framework", "model_framework_version", "algo_hyperparamaters"]
# The keys the anchor solution requires for each body in tests/events/valid (problem types as there).
REQUIRED = {
    "byom_realtime_builtin": ["model_name", "inference_instance", "model_framework", "model_framework_version",
                              "model_artifact_location", "data_capture_location"],
    "byom_realtime_custom": ["model_name", "inference_instance", "custom_image_uri", "model_artifact_location",
                             "data_capture_location"],
    "byom_batch_builtin": ["model_name", "inference_instance", "model_framework", "model_framework_version",
                           "model_artifact_location", "batch_inference_data", "batch_job_output_location"],
    "byom_batch_custom": ["model_name", "inference_instance", "custom_image_uri", "model_artifact_location",
                          "batch_inference_data", "batch_job_output_location"],
    "byom_data_quality_monitor": MONITOR,
    "byom_model_quality_monitor": [*MONITOR, "problem_type", "baseline_inference_attribute",
                                   "baseline_ground_truth_attribute", "baseline_probability_attribute",
                                   "monitor_ground_truth_input"],
    "byom_model_bias_monitor": [*MONITOR, "problem_type", "monitor_ground_truth_input", "bias_config",
                                "model_predicted_label_config"],
    "byom_model_explainability_monitor": [*MONITOR, "problem_type", "monitor_inference_attribute", "shap_config"],
    "byom_image_builder": ["custom_algorithm_docker", "ecr_repo_name", "image_tag"],
    "model_training_builtin": BUILTIN_TRAINING,
    "model_tuner_builtin": [*BUILTIN_TRAINING, "tuner_configs", "hyperparamaters_ranges"],
    "model_autopilot_training": [*TRAINING, "target_attribute"],
}  # fmt: skip


def problems(body: dict[str, Any], settings: Settings = SETTINGS) -> dict[str, str]:
    entry = REGISTRY.get(body.get("pipeline_type"))
    with pytest.raises(ValidationFailed) as caught:
        parse(entry.model, body, settings)
    return {p.field: p.problem for p in caught.value.problems}


def test_there_is_one_valid_body_per_registered_type() -> None:
    assert valid_types() == REGISTRY.names() == sorted(REQUIRED)
    assert len(REGISTRY) == 12


@pytest.mark.parametrize("pipeline_type", valid_types())
def test_valid_body_validates(pipeline_type: str) -> None:
    body = load_event(f"valid/{pipeline_type}")
    request = parse(REGISTRY.get(pipeline_type).model, body, SETTINGS)
    assert request.normalized()["pipeline_type"] == pipeline_type


@pytest.mark.parametrize(("pipeline_type", "key"), [(t, k) for t, keys in sorted(REQUIRED.items()) for k in keys])
def test_each_missing_required_key_is_named(pipeline_type: str, key: str) -> None:
    body = load_event(f"valid/{pipeline_type}")
    del body[key]
    found = problems(body)
    assert key in found, found
    assert "required" in found[key]


@pytest.mark.parametrize("name", sorted(json.loads((EVENTS / "bad" / "expected.json").read_text())))
def test_bad_bodies_list_every_problem(name: str) -> None:
    expected = json.loads((EVENTS / "bad" / "expected.json").read_text())[name]
    body = load_event(f"bad/{name}")
    if name == "unknown_pipeline_type":
        with pytest.raises(ValidationFailed) as caught:
            REGISTRY.get(body["pipeline_type"])
        assert [p.field for p in caught.value.problems] == expected
        assert "byom_realtime_builtin" in caught.value.problems[0].problem
        return
    assert sorted(problems(body)) == expected


def test_messages_say_what_is_wrong() -> None:
    found = problems(load_event("bad/realtime_many_problems"))
    assert "did you mean 'endpoint_name'" in found["endpont_name"]
    assert "letters, digits and hyphens" in found["model_name"]
    assert "ml.m5.large" in found["inference_instance"]
    assert "My_Bucket" in found["data_capture_location"]


def test_numbers_as_strings_and_s3_forms_normalise_to_one_request() -> None:
    model = REGISTRY.get("byom_data_quality_monitor").model
    body = load_event("valid/byom_data_quality_monitor")
    other = {**body, "instance_volume_size": 20, "monitor_max_runtime_seconds": " 1800 ",
             "baseline_job_output_location": "s3://my-data-bucket/churn/baseline/"}  # fmt: skip
    assert parse(model, body, SETTINGS).normalized() == parse(model, other, SETTINGS).normalized()


def test_stage_values_are_accepted_where_the_anchor_reads_per_stage() -> None:
    body = load_event("valid/byom_realtime_builtin")
    body["inference_instance"] = {"dev": "ml.m5.large", "staging": "ml.m5.large", "prod": "ml.m5.xlarge"}
    body["endpoint_name"] = {"dev": "churn-dev", "staging": "churn-staging", "prod": "churn-prod"}
    parse(REGISTRY.get("byom_realtime_builtin").model, body, MULTI)


def test_stage_values_need_a_multi_account_installation() -> None:
    body = load_event("valid/byom_realtime_builtin")
    body["inference_instance"] = {"dev": "ml.m5.large", "staging": "ml.m5.large", "prod": "ml.m5.xlarge"}
    assert "multi-account" in problems(body)["inference_instance"]


def test_unknown_stage_is_named() -> None:
    body = load_event("valid/byom_realtime_builtin")
    body["inference_instance"] = {
        "dev": "ml.m5.large",
        "staging": "ml.m5.large",
        "prod": "ml.m5.large",
        "qa": "x",
    }
    assert "not a stage" in problems(body, MULTI)["inference_instance.qa"]


def test_training_types_take_no_stage_values() -> None:
    body = load_event("valid/model_training_builtin")
    body["instance_type"] = {"dev": "ml.m5.large", "staging": "ml.m5.large", "prod": "ml.m5.large"}
    assert "per-stage" in problems(body, MULTI)["instance_type"]


def test_model_registry_mode_swaps_model_keys_for_a_package_arn() -> None:
    body = load_event("valid/byom_realtime_builtin")
    found = problems(body, REGISTRY_MODE)
    assert "model_package_name" in found
    assert "model registry" in found["model_framework"]
    for key in ("model_framework", "model_framework_version", "model_artifact_location"):
        del body[key]
    body["model_package_name"] = "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/3"
    parse(REGISTRY.get("byom_realtime_builtin").model, body, REGISTRY_MODE)
    body["model_package_name"] = "arn:aws:sagemaker:us-east-1:111122223333:model-package-group/churn"
    assert "versioned model package ARN" in problems(body, REGISTRY_MODE)["model_package_name"]


def test_a_model_package_builds_the_model_without_the_registry() -> None:
    # The original solution's own fixture: the model keys and a package; the package wins.
    body = load_event("valid/byom_realtime_builtin")
    body["model_package_name"] = "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/3"
    entry = REGISTRY.get("byom_realtime_builtin")
    request = parse(entry.model, body, SETTINGS)
    assert "model_framework" not in request.normalized()
    params = entry.render(request, SETTINGS, None)
    assert params["ModelPackageName"] == body["model_package_name"]
    assert (params["ImageUri"], params["ModelArtifactLocation"]) == ("", "")
    assert sorted(p.field for p in ignored(entry.model, body, SETTINGS)) == [
        "model_artifact_location", "model_framework", "model_framework_version"]  # fmt: skip
    for key in ("model_framework", "model_framework_version", "model_artifact_location"):
        del body[key]
    parse(entry.model, body, SETTINGS)  # the package alone is enough
    del body["model_package_name"]
    assert "or give model_package_name" in problems(body)["model_framework"]


def test_unknown_algorithm_version_lists_known_ones() -> None:
    body = load_event("valid/byom_realtime_builtin")
    body["model_framework_version"] = "9.9-9"
    assert "1.7-1" in problems(body)["model_framework_version"]


def test_autopilot_job_name_limit_is_32() -> None:
    body = load_event("valid/model_autopilot_training")
    body["model_name"] = "a" * 24  # + "-" + 8-character hash = 33
    assert "at most 32" in problems(body)["model_name"]
    body["model_name"] = "a" * 23
    parse(REGISTRY.get("model_autopilot_training").model, body, SETTINGS)


def test_explicit_job_name_is_checked_not_model_name() -> None:
    body = load_event("valid/model_tuner_builtin")
    body["job_name"] = "a-very-long-tuning-job-name-x"
    assert "shorten job_name" in problems(body)["job_name"]


def test_bias_config_may_arrive_json_encoded() -> None:
    body = load_event("valid/byom_model_bias_monitor")
    plain = parse(REGISTRY.get("byom_model_bias_monitor").model, body, SETTINGS).normalized()
    body["bias_config"] = json.dumps(body["bias_config"])
    encoded = parse(REGISTRY.get("byom_model_bias_monitor").model, body, SETTINGS).normalized()
    assert plain == encoded


def test_binary_model_quality_needs_a_probability_attribute() -> None:
    body = load_event("valid/byom_model_quality_monitor")
    del body["monitor_inference_attribute"], body["monitor_probability_attribute"]
    assert "monitor_inference_attribute" in problems(body)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("kms_key_arn", "my-key", "KMS key ARN"),
        ("custom_image_uri", "custom-image-uri", "ECR image URI"),
        ("model_artifact_location", "s3://other-bucket/model.tar.gz", "assets bucket"),
        ("model_artifact_location", "../model.tar.gz", "'..'"),
        ("data_capture_location", "https://bucket/x", "S3 location"),
        ("model_name", "m" * 55, "at most 54"),
        ("inference_instance", 5, "must be a string"),
    ],
)
def test_field_rules(field: str, value: Any, words: str) -> None:
    body = load_event("valid/byom_realtime_custom")
    body[field] = value
    assert words in problems(body)[field]


# --- hostile input: the rules the body's JSON and the text fields follow --------------------


def body_problems(raw: bytes | str, settings: Settings = SETTINGS) -> dict[str, str]:
    """Problems of a raw body, read as the routes and the config handler read it."""
    from chalicelib.body import parse_object

    with pytest.raises(ValidationFailed) as caught:
        body = parse_object(raw)
        parse(REGISTRY.get(body["pipeline_type"]).model, body, settings)
    return {p.field: p.problem for p in caught.value.problems}


def test_a_key_given_twice_is_refused_not_last_one_wins() -> None:
    raw = '{"pipeline_type": "byom_image_builder", "dry_run": true, "dry_run": false}'
    assert "more than once" in body_problems(raw)["dry_run"]


def test_a_key_given_twice_in_a_nested_object_is_named_by_its_path() -> None:
    body = json.dumps(load_event("valid/byom_model_bias_monitor"))
    raw = body.replace('"facet_name": "age"', '"facet_name": "age", "facet_name": "sex"')
    assert "more than once" in body_problems(raw)["bias_config.facet_name"]


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("field", ["bias_config", "model_predicted_label_config"])
def test_deep_json_inside_a_clarify_string_is_a_problem_not_a_recursion_error(field: str) -> None:
    body = load_event("valid/byom_model_bias_monitor")
    body[field] = '{"label_values_or_threshold": ' + deep(100_000) + "}"
    assert "levels deep" in problems(body)[field]


def test_deep_json_in_shap_config_and_model_scores_strings_is_a_problem() -> None:
    body = load_event("valid/byom_model_explainability_monitor")
    body["shap_config"] = '{"baseline": ' + deep(5000) + "}"
    body["model_scores"] = '{"label": ' + deep(5000) + "}"
    found = problems(body)
    assert "levels deep" in found["shap_config"]
    assert "levels deep" in found["model_scores"]


def test_json_inside_a_string_follows_the_body_rules() -> None:
    body = load_event("valid/byom_model_bias_monitor")
    body["bias_config"] = '{"label_values_or_threshold": [1], "facet_name": "age", "facet_name": "sex"}'
    assert "facet_name: is given more than once" in problems(body)["bias_config"]
    body["bias_config"] = '{"label_values_or_threshold": [NaN], "facet_name": "age"}'
    assert "NaN" in problems(body)["bias_config"]
    body["bias_config"] = '{"label_values_or_threshold": [Infinity], "facet_name": "age"}'
    assert "Infinity" in problems(body)["bias_config"]
    body["bias_config"] = '{"label_values_or_threshold": [1e400], "facet_name": "age"}'
    assert "too large" in problems(body)["bias_config"]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "9" * 400])
def test_non_finite_numbers_are_refused_anywhere_in_the_body(token: str) -> None:
    body = json.dumps(load_event("valid/model_training_builtin"))
    raw = body.replace('"algo_hyperparamaters": {', f'"algo_hyperparamaters": {{"alpha": {token}, ')
    found = body_problems(raw)
    assert list(found) == ["algo_hyperparamaters.alpha"], found


def test_a_non_finite_hyperparameter_is_refused_by_the_model_too() -> None:
    body = load_event("valid/model_training_builtin")
    body["algo_hyperparamaters"] = {**body["algo_hyperparamaters"], "alpha": float("inf")}
    assert "finite" in problems(body)["algo_hyperparamaters"]


ARABIC_INDIC, FULL_WIDTH = 0x0660, 0xFF10  # where each script's digit zero is


def digits_in(zero: int, text: str) -> str:
    r"""``text`` with its ASCII digits written in another script's digits (which \d matches)."""
    return "".join(chr(zero + int(c)) if c in "0123456789" else c for c in text)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        # Arabic-Indic and full-width digits as the account id; a dotted letter in the tag (\w)
        ("custom_image_uri", digits_in(ARABIC_INDIC, "111122223333") + ".dkr.ecr.us-east-1.amazonaws.com/r:v1"),
        ("custom_image_uri", digits_in(FULL_WIDTH, "111122223333") + ".dkr.ecr.us-east-1.amazonaws.com/r:v1"),
        ("custom_image_uri", "111122223333.dkr.ecr.us-east-1.amazonaws.com/r:fraud\u1e0d-v1"),
    ],
)
def test_patterns_take_ascii_only(field: str, value: str) -> None:
    body = load_event("valid/byom_realtime_custom")
    body[field] = value
    assert "not valid" in problems(body)[field]


def test_a_model_package_arn_takes_ascii_digits_only() -> None:
    body = load_event("valid/byom_realtime_builtin")
    for key in ("model_framework", "model_framework_version", "model_artifact_location"):
        del body[key]
    account, version = digits_in(ARABIC_INDIC, "111122223333"), digits_in(ARABIC_INDIC, "3")
    body["model_package_name"] = f"arn:aws:sagemaker:us-east-1:{account}:model-package/churn/{version}"
    assert "versioned model package ARN" in problems(body, REGISTRY_MODE)["model_package_name"]


def test_numbers_given_as_strings_take_ascii_digits_only() -> None:
    body = load_event("valid/byom_model_bias_monitor")
    body["instance_volume_size"] = digits_in(ARABIC_INDIC, "20")
    body["probability_threshold_attribute"] = digits_in(FULL_WIDTH, "0.5")
    found = problems(body)
    assert "whole number" in found["instance_volume_size"]
    assert "between 0 and 1" in found["probability_threshold_attribute"]
    body = load_event("valid/byom_model_bias_monitor")
    body["probability_threshold_attribute"] = "5e-1"
    parse(REGISTRY.get("byom_model_bias_monitor").model, body, SETTINGS)


@pytest.mark.parametrize("char", ["\x00", "\x07", "\n", "\x1b", "\x7f", "\x80", "\x85", "\x9f"])
def test_control_characters_are_refused_in_text_fields(char: str) -> None:
    body = load_event("valid/model_autopilot_training")
    body["target_attribute"] = f"churn{char}flag"
    assert f"U+{ord(char):04X}" in problems(body)["target_attribute"]


def test_control_characters_are_refused_in_hyperparameters_and_clarify_values() -> None:
    body = load_event("valid/model_training_builtin")
    body["algo_hyperparamaters"] = {**body["algo_hyperparamaters"], "objective": "binary:logistic\x7f"}
    assert "U+007F" in problems(body)["algo_hyperparamaters"]
    body = load_event("valid/byom_model_bias_monitor")
    body["bias_config"] = {**body["bias_config"], "label_values_or_threshold": ["yes\x9b"]}
    assert any("U+009B" in p for p in problems(body).values())


def test_model_card_prose_may_break_lines_but_holds_no_other_control_characters() -> None:
    from chalicelib.models.model_cards import MODELS

    body = json.loads((EVENTS / "model_cards" / "create_model_card.json").read_text())
    body["model_overview"] = {**body.get("model_overview", {}), "model_description": "Line one.\nLine two."}
    model = MODELS["create_model_card"]
    assert parse(model, body, SETTINGS)
    body["model_overview"]["model_description"] = "Bell\x07"
    with pytest.raises(ValidationFailed) as caught:
        parse(model, body, SETTINGS)
    assert {p.field: p.problem for p in caught.value.problems}["model_overview.model_description"].startswith(
        "holds the control character U+0007"
    )
