"""Names with capitals: SageMaker writes resource names in lower case in its ARNs, and IAM
compares ARNs case-sensitively, so the job and endpoint names the renderers derive are lower
case while the request (and its capitals) stays accepted, as the AWS solution's bodies are."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib.models.base import parse
from chalicelib.models.fields import STAGES
from chalicelib.naming import job_name
from chalicelib.pipelines.catalog import REGISTRY
from tests.support.events import load_event
from tests.support.settings import MULTI, SETTINGS
from tests.support.templates import VARIANTS, template


def capitalised(entry: Any, engine: str | None) -> dict[str, Any]:
    body = load_event(f"valid/{entry.name}")
    if "model_name" in entry.model.model_fields:
        body["model_name"] = "Churn-Model"
    if "job_name" in entry.model.model_fields:
        body["job_name"] = "Nightly-Run"
    if isinstance(body.get("endpoint_name"), str):
        body["endpoint_name"] = "Churn-Endpoint"
    if engine:
        body["monitor_engine"] = engine
    return body


@pytest.mark.parametrize(("entry", "engine"), VARIANTS, ids=lambda v: getattr(v, "name", v))
@pytest.mark.parametrize("multi", [False, True], ids=["single-account", "multi-account"])
def test_names_from_a_request_with_capitals_fit_the_blueprints_lower_case_parameters(
    entry: Any, engine: str | None, multi: bool
) -> None:
    settings = MULTI if multi else SETTINGS
    request = parse(entry.model, capitalised(entry, engine), settings)  # still accepted
    parameters = template(entry.blueprint_for(request, settings))["Parameters"]
    patterned = {name: p["AllowedPattern"] for name, p in parameters.items() if "AllowedPattern" in p}
    for stage in STAGES if multi and entry.multi_account else (None,):
        rendered = entry.render(request, settings, stage)
        # CloudFormation refuses a value its AllowedPattern does not match; the role's ARNs are
        # built from these values, so they are exactly the ARNs SageMaker gives the resources.
        refused = {n: rendered[n] for n, pattern in patterned.items() if not re.fullmatch(pattern, rendered[n])}
        assert refused == {}
        if "ModelName" in rendered:
            assert rendered["ModelName"] == "Churn-Model"  # a tag value: capitals kept


def test_every_blueprint_that_scopes_a_job_by_name_constrains_it() -> None:
    # The test above checks only parameters with a pattern: make sure the job names have one.
    expected = {
        "model_training_pipeline.yaml": {"JobName"},
        "model_tuning_pipeline.yaml": {"JobName"},
        "autopilot_training_pipeline.yaml": {"JobName"},
        "byom_batch_pipeline.yaml": {"TransformJobName"},
        "model_monitor_pipeline.yaml": {"BaselineJobName", "EndpointName"},
        "byom_realtime_inference_pipeline.yaml": {"EndpointName"},
    }
    for blueprint, names in expected.items():
        parameters = template(blueprint)["Parameters"]
        assert {n for n in names if "AllowedPattern" in parameters[n]} == names, blueprint


@pytest.mark.parametrize("kind", ["model_training_builtin", "model_tuner_builtin", "model_autopilot_training"])
def test_a_lower_case_request_keeps_the_job_name_it_had(kind: str) -> None:
    # Lower-casing must not rename the jobs of requests that had no capitals (a resubmission
    # stays a no-op), and capitals only change the case, not the run hash.
    entry = REGISTRY.get(kind)
    lower = parse(entry.model, load_event(f"valid/{kind}"), SETTINGS)
    assert entry.render(lower, SETTINGS, None)["JobName"] == job_name(lower)
    upper_body = {**load_event(f"valid/{kind}"), "model_name": lower.model_name.upper()}
    upper = parse(entry.model, upper_body, SETTINGS)
    assert entry.render(upper, SETTINGS, None)["JobName"] == job_name(upper).lower()
