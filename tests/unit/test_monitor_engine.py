"""monitor_engine: sagemaker or serverless on data/model quality; the default is the installation's."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from tests.support.events import load_event
from tests.support.settings import SETTINGS


def parsed(body: dict, settings=SETTINGS):
    return parse(REGISTRY.get(body["pipeline_type"]).model, body, settings)


def problems(body: dict, settings=SETTINGS) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parsed(body, settings)
    return {p.field: p.problem for p in caught.value.problems}


@pytest.mark.parametrize("kind", ["byom_data_quality_monitor", "byom_model_quality_monitor"])
def test_the_default_engine_is_the_installations(kind: str) -> None:
    body = load_event(f"valid/{kind}")
    assert parsed(body).engine(SETTINGS) == "serverless"
    assert parsed(body).engine(replace(SETTINGS, default_monitor_engine="sagemaker")) == "sagemaker"
    assert parsed({**body, "monitor_engine": "sagemaker"}).engine(SETTINGS) == "sagemaker"


def test_an_unknown_engine_is_named() -> None:
    found = problems({**load_event("valid/byom_data_quality_monitor"), "monitor_engine": "lambda"})
    assert "sagemaker, serverless" in found["monitor_engine"]


@pytest.mark.parametrize("kind", ["byom_model_bias_monitor", "byom_model_explainability_monitor"])
def test_bias_and_explainability_say_why_they_have_no_engine_choice(kind: str) -> None:
    found = problems({**load_event(f"valid/{kind}"), "monitor_engine": "serverless"})
    assert "only on SageMaker Model Monitor" in found["monitor_engine"]


def test_rate_schedules_need_the_serverless_engine() -> None:
    body = {**load_event("valid/byom_data_quality_monitor"), "schedule_expression": "rate(1 hour)"}
    assert parsed(body).engine(SETTINGS) == "serverless"
    assert "cron expressions only" in problems({**body, "monitor_engine": "sagemaker"})["schedule_expression"]
    assert "rate(1 hour)" in problems({**body, "schedule_expression": "rate(0 hours)"})["schedule_expression"]
