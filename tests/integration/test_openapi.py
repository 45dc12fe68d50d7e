"""The OpenAPI document: valid 3.1, generated from the models, and in step with app and template."""

from __future__ import annotations

import json
from typing import Any

from openapi_spec_validator import validate

from chalicelib.models.model_cards import MODELS as CARD_MODELS
from chalicelib.pipelines.catalog import REGISTRY
from tests.support.events import load_event
from tests.support.plane import Plane, post


def document(api: Any) -> dict[str, Any]:
    response = api.http.get("/openapi.json")
    assert response.status_code == 200
    return dict(json.loads(response.body))


def test_the_document_is_valid_openapi_3_1(api: Any, plane: Plane) -> None:
    spec = document(api)
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_route_in_it_is_in_the_app_and_the_template(api: Any, plane: Plane) -> None:
    from app import app
    from mlops_dev.translate import load, translate

    spec = document(api)
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops if method != "parameters"}
    assert documented == {(p, m.lower()) for p, entry in app.routes.items() for m in entry}
    [rest] = [r for r in translate(load())["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    assert documented == {(p, m) for p, ops in rest["Properties"]["Body"]["paths"].items() for m in ops}


def test_each_type_has_its_schema_with_the_original_field_names(api: Any, plane: Plane) -> None:
    schemas = document(api)["components"]["schemas"]
    mapping = schemas["ProvisionRequest"]["discriminator"]["mapping"]
    assert sorted(mapping) == sorted([*REGISTRY.names(), *CARD_MODELS])
    tuner = schemas[mapping["model_tuner_builtin"].rsplit("/", 1)[1]]
    assert {"algo_hyperparamaters", "hyperparamaters_ranges", "dry_run"} <= set(tuner["properties"])
    assert tuner["properties"]["pipeline_type"] == {"const": "model_tuner_builtin"}


def test_a_provision_answer_with_warnings_matches_its_schema(api: Any, plane: Plane) -> None:
    from jsonschema import validate as validate_instance

    schemas = document(api)["components"]["schemas"]
    ok = document(api)["paths"]["/provisionpipeline"]["post"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ProvisionAnswer"}
    body = {**load_event("valid/model_training_builtin"), "tuner_configs": {"objective_metric_name": "validation:auc"}}
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 200, answer
    assert [w["field"] for w in answer["warnings"]] == ["tuner_configs"]
    validate_instance(answer, schemas["ProvisionAnswer"])
    assert set(schemas["ProvisionAnswer"]["properties"]) >= set(answer)
