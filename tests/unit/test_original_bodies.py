"""Bodies written for the original solution: leftovers of other types are ignored with a warning,
its lenient rules hold where they harm nothing, and its forms keep their meaning."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.models.base import parse
from chalicelib.models.model_cards import MODELS
from chalicelib.pipelines.catalog import REGISTRY
from chalicelib.pipelines.training import tuning_config
from tests.support.events import load_event
from tests.support.settings import SETTINGS


def problems(body: dict[str, Any], settings: Any = SETTINGS) -> dict[str, str]:
    model = REGISTRY.get(body["pipeline_type"]).model
    with pytest.raises(ValidationFailed) as caught:
        parse(model, body, settings)
    return {p.field: p.problem for p in caught.value.problems}


def ignored_keys(model: Any, body: dict[str, Any]) -> dict[str, str]:
    """The keys the request leaves out, with why: what its answer lists as warnings."""
    from chalicelib.models.base import ignored

    return {p.field: p.problem for p in ignored(model, body, SETTINGS)}


def warned(body: dict[str, Any]) -> dict[str, str]:
    return ignored_keys(REGISTRY.get(body["pipeline_type"]).model, body)


# --- fields of other types ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "leftovers"),
    [
        # The original's own fixtures: a bias body with model-quality attributes, an Autopilot
        # body with training keys, a training body with tuner_configs.
        ("byom_model_bias_monitor", {"baseline_inference_attribute": "prediction", "baseline_ground_truth_attribute":
                                     "label"}),
        ("model_autopilot_training", {"algo_hyperparamaters": {"num_round": 10}, "instance_type": "ml.m5.xlarge"}),
        ("model_training_builtin", {"tuner_configs": {"objective_metric_name": "validation:auc"},
                                    "hyperparamaters_ranges": {"eta": ["continuous", [0.1, 0.5]]}}),
    ],
)  # fmt: skip
def test_another_types_fields_are_ignored_and_named(kind: str, leftovers: dict[str, Any]) -> None:
    body = load_event(f"valid/{kind}")
    model = REGISTRY.get(kind).model
    plain = parse(model, body, SETTINGS).normalized()
    with_leftovers = {**body, **leftovers}
    assert parse(model, with_leftovers, SETTINGS).normalized() == plain  # they change nothing
    warnings = warned(with_leftovers)
    assert sorted(warnings) == sorted(leftovers)
    some = next(iter(leftovers))
    assert f"not of pipeline_type {kind}" in warnings[some] and "is ignored" in warnings[some]


def test_a_leftover_names_the_type_it_belongs_to() -> None:
    body = {**load_event("valid/model_training_builtin"), "tuner_configs": {"objective_metric_name": "x"}}
    assert "a field of model_tuner_builtin" in warned(body)["tuner_configs"]


def test_a_name_no_type_uses_stays_a_400_with_a_suggestion() -> None:
    body = {**load_event("valid/model_training_builtin"), "tuner_config": {}, "colour": "blue"}
    found = problems(body)
    assert "did you mean 'tuner_configs' (a field of model_tuner_builtin)?" in found["tuner_config"]
    assert found["colour"].startswith("is not a field of pipeline_type model_training_builtin")
    assert "did you mean" not in found["colour"]
    assert "did you mean 'job_name'" in problems({**load_event("valid/model_training_builtin"), "job_nme": "x"})[
        "job_nme"]  # fmt: skip


def test_a_leftover_that_would_be_invalid_for_its_own_type_is_still_only_ignored() -> None:
    body = {**load_event("valid/byom_data_quality_monitor"), "bias_config": "not json"}
    assert "bias_config" in warned(body)
    parse(REGISTRY.get("byom_data_quality_monitor").model, body, SETTINGS)


# --- bias and explainability with BinaryClassification -----------------------------------


@pytest.mark.parametrize("kind", ["byom_model_bias_monitor", "byom_model_explainability_monitor"])
def test_binary_bias_and_explainability_need_no_inference_attribute(kind: str) -> None:
    body = load_event(f"valid/{kind}")
    body["problem_type"] = "BinaryClassification"
    body["model_predicted_label_config"] = {"probability_threshold": 0.5}  # bias needs it for classification
    for key in ("monitor_inference_attribute", "monitor_probability_attribute"):
        body.pop(key, None)
    if kind.endswith("explainability_monitor"):
        del body["model_predicted_label_config"]
    entry = REGISTRY.get(kind)
    params = entry.render(parse(entry.model, body, SETTINGS), SETTINGS, None)
    assert (params["InferenceAttribute"], params["ProbabilityAttribute"]) == ("", "")


def test_binary_model_quality_keeps_its_rule() -> None:
    body = load_event("valid/byom_model_quality_monitor")
    body["problem_type"] = "BinaryClassification"
    body.pop("monitor_inference_attribute", None)
    body.pop("monitor_probability_attribute", None)
    assert "ground truth" in problems(body)["monitor_inference_attribute"]


# --- tuner_configs -----------------------------------------------------------------------


def tuner(configs: dict[str, Any]) -> dict[str, Any]:
    body = {**load_event("valid/model_tuner_builtin"), "tuner_configs": configs}
    entry = REGISTRY.get("model_tuner_builtin")
    rendered = entry.render(parse(entry.model, body, SETTINGS), SETTINGS, None)
    return dict(json.loads(rendered["TuningJobConfig"]))


def test_tuner_configs_with_only_the_metric_take_the_sdks_defaults() -> None:
    # HyperparameterTuner(objective_type="Maximize", strategy="Bayesian", max_jobs=None -> 1,
    # max_parallel_jobs=1, early_stopping_type="Off") in the SDK's sagemaker/tuner.py.
    config = tuner({"objective_metric_name": "validation:auc"})
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "validation:auc"}
    assert config["Strategy"] == "Bayesian"
    assert config["TrainingJobEarlyStoppingType"] == "Off"
    assert config["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 1
    assert config["ResourceLimits"]["MaxParallelTrainingJobs"] == 1


def test_a_grid_search_without_max_jobs_lets_sagemaker_count_the_grid() -> None:
    body = load_event("valid/model_tuner_builtin")
    body["tuner_configs"] = {"objective_metric_name": "validation:auc", "strategy": "Grid"}
    body["hyperparamaters_ranges"] = {"optimizer": ["categorical", ["sgd", "adam"]]}
    request = parse(REGISTRY.get("model_tuner_builtin").model, body, SETTINGS)
    assert "MaxNumberOfTrainingJobs" not in tuning_config(request)["ResourceLimits"]


def test_parallel_jobs_without_max_jobs_run_the_sdks_single_job() -> None:
    # The original's SDK ran max_jobs=1 whatever max_parallel_jobs asked for.
    config = tuner({"objective_metric_name": "validation:auc", "max_parallel_jobs": 3})
    limits = config["ResourceLimits"]
    assert (limits["MaxNumberOfTrainingJobs"], limits["MaxParallelTrainingJobs"]) == (1, 1)
    body = load_event("valid/model_tuner_builtin")
    body["tuner_configs"] = {"objective_metric_name": "validation:auc", "max_parallel_jobs": 3, "max_jobs": 2}
    assert problems(body)["tuner_configs.max_parallel_jobs"] == "must not exceed tuner_configs.max_jobs"


# --- SHAP baselines ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("monitoring/credit/shap-baseline.csv", "s3://mlops-assets/monitoring/credit/shap-baseline.csv"),
        ("s3://my-data-bucket/credit/baseline.csv", "s3://my-data-bucket/credit/baseline.csv"),
    ],
)
def test_a_shap_baseline_key_is_in_the_assets_bucket(given: str, meant: str) -> None:
    body = load_event("valid/byom_model_explainability_monitor")
    body["shap_config"] = {"baseline": given, "num_samples": 100}
    entry = REGISTRY.get("byom_model_explainability_monitor")
    params = entry.render(parse(entry.model, body, SETTINGS), SETTINGS, None)
    assert json.loads(params["ClarifyRequest"])["shap_config"]["baseline"] == meant


def test_a_shap_baseline_with_another_scheme_is_named() -> None:
    body = load_event("valid/byom_model_explainability_monitor")
    body["shap_config"] = {"baseline": "https://example.com/b.csv"}
    assert "not an S3 location" in problems(body)["shap_config.baseline"]


# --- model cards -------------------------------------------------------------------------


def card_parse(body: dict[str, Any]) -> Any:
    return parse(MODELS[body["pipeline_type"]], body, SETTINGS)


def test_a_card_takes_the_originals_extra_fields_with_warnings() -> None:
    # The original's own test event: version, created_by and a section key it drops.
    body = {"pipeline_type": "create_model_card", "name": "test-card", "version": 1, "created_by": "DS",
            "last_modified_by": {"user_profile_name": "ds"}, "arn": "arn:aws:sagemaker:...",
            "model_overview": {"model_description": "model-description"}}  # fmt: skip
    card = card_parse(body)
    assert card.content() == {"model_overview": {"model_description": "model-description"}}
    warnings = ignored_keys(MODELS["create_model_card"], body)
    assert sorted(warnings) == ["arn", "created_by", "last_modified_by", "version"]
    assert "SageMaker sets it" in warnings["created_by"]


def test_a_cards_discovery_keys_are_ignored_and_image_lists_read_as_environments() -> None:
    image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    body = {
        "pipeline_type": "update_model_card", "name": "test-card",
        "model_overview": {"inference_environment": [image]},
        "training_details": {"training_job_name": "churn-job", "training_observations": "stable",
                             "training_job_details": {"training_environment": [image]}},
        "evaluation_details": [{"name": "holdout", "metric_file_s3_url": "s3://b/m.json", "metric_type": "regression"}],
    }  # fmt: skip
    content = card_parse(body).content()
    assert content["model_overview"]["inference_environment"] == {"container_image": [image]}
    environment = {"container_image": [image]}
    assert content["training_details"] == {
        "training_observations": "stable", "training_job_details": {"training_environment": environment}}  # fmt: skip
    assert content["evaluation_details"] == [{"name": "holdout"}]
    warnings = sorted(ignored_keys(MODELS["update_model_card"], body))
    assert warnings == ["evaluation_details[0].metric_file_s3_url", "evaluation_details[0].metric_type",
                        "training_details.training_job_name"]  # fmt: skip


def test_a_card_section_key_nobody_defines_stays_a_400() -> None:
    body = {"pipeline_type": "create_model_card", "name": "test-card", "model_overview": {"favourite_colour": "b"}}
    with pytest.raises(ValidationFailed) as caught:
        card_parse(body)
    assert [p.field for p in caught.value.problems] == ["model_overview.favourite_colour"]


def test_an_export_takes_the_originals_version_and_ignores_its_job_name() -> None:
    body = {"pipeline_type": "export_model_card", "name": "test-card", "s3_output_path": "s3://mlops-assets/cards",
            "model_card_version": "2", "export_job_name": "mine"}  # fmt: skip
    assert card_parse(body).model_card_version == 2
    assert list(ignored_keys(MODELS["export_model_card"], body)) == ["export_job_name"]


# --- the bucket guardrail ----------------------------------------------------------------


def test_a_refused_bucket_names_the_installation_parameter_and_the_bucket_to_add() -> None:
    body = load_event("valid/byom_realtime_builtin")
    found = problems(body, replace(SETTINGS, allowed_buckets=()))
    message = found["data_capture_location"]
    assert "add my-data-bucket to the installation parameter AllowedS3Buckets" in message
    assert "only the control plane buckets" in message and "set it to my-data-bucket" in message
    listed = problems(body, replace(SETTINGS, allowed_buckets=("ml-data-*",)))["data_capture_location"]
    assert "(now ml-data-*)" in listed and "set it to ml-data-*,my-data-bucket" in listed
