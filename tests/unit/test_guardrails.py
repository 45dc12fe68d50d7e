"""Guardrails: requests may name only the buckets and registries the installation allows."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.models.base import parse
from chalicelib.models.guardrails import location_fields
from chalicelib.pipelines.catalog import REGISTRY
from tests.support.events import load_event
from tests.support.settings import MULTI, SETTINGS

GUARDED = replace(SETTINGS, allowed_buckets=("ml-data-*", "shared-capture"), allowed_ecr_registries=())


def problems(body: dict, settings=GUARDED) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse(REGISTRY.get(body["pipeline_type"]).model, body, settings)
    return {p.field: p.problem for p in caught.value.problems}


def test_location_fields_are_read_from_the_types() -> None:
    assert location_fields(REGISTRY.get("byom_realtime_builtin").model) == ("data_capture_location",)
    assert set(location_fields(REGISTRY.get("byom_model_quality_monitor").model)) == {
        "baseline_job_output_location",
        "data_capture_location",
        "monitoring_output_location",
        "monitor_ground_truth_input",
    }
    assert location_fields(REGISTRY.get("model_training_builtin").model) == ()


def test_a_bucket_outside_the_allow_list_is_named() -> None:
    found = problems(load_event("valid/byom_realtime_builtin"))
    assert "'my-data-bucket' is not one this installation lets requests use" in found["data_capture_location"]
    assert "set it to ml-data-*,shared-capture,my-data-bucket" in found["data_capture_location"]


def test_patterns_and_own_buckets_are_allowed() -> None:
    model = REGISTRY.get("byom_realtime_builtin").model
    for location in ("ml-data-team-a/capture", "shared-capture", f"{SETTINGS.assets_bucket}/capture"):
        body = {**load_event("valid/byom_realtime_builtin"), "data_capture_location": location}
        parse(model, body, GUARDED)


def test_each_stage_is_checked() -> None:
    body = load_event("valid/byom_realtime_builtin")
    body["data_capture_location"] = {"dev": "ml-data-dev/c", "staging": "ml-data-stg/c", "prod": "prod-secrets/c"}
    found = problems(body, replace(MULTI, allowed_buckets=GUARDED.allowed_buckets))
    assert list(found) == ["data_capture_location.prod"]


def test_custom_images_must_come_from_an_allowed_registry() -> None:
    found = problems(load_event("valid/byom_realtime_custom"))
    assert "111122223333.dkr.ecr.us-east-1.amazonaws.com" in found["custom_image_uri"]
    allowed = replace(GUARDED, allowed_buckets=("my-data-bucket",), allowed_ecr_registries=("111122223333.dkr.ecr.*",))
    parse(REGISTRY.get("byom_realtime_custom").model, load_event("valid/byom_realtime_custom"), allowed)


def test_no_guardrail_when_the_installation_sets_none() -> None:
    parse(REGISTRY.get("byom_realtime_custom").model, load_event("valid/byom_realtime_custom"), SETTINGS)
