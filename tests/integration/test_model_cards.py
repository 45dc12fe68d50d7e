"""Model-card operations against the emulator (export, which moto lacks, against Stubber):
content checked against SageMaker's model-card schema, idempotent create and delete, merge on
update, paginated list."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from tests.support.events import load_event
from tests.support.plane import Plane, post


def card(name: str) -> dict[str, Any]:
    return load_event(f"model_cards/{name}")


def test_a_card_round_trips_and_a_resubmit_changes_nothing(api: Any, plane: Plane) -> None:
    status, created = post(api, "/provisionpipeline", card("create_model_card"))
    assert (status, created["action"]) == (200, "created"), created
    _, described = post(api, "/provisionpipeline", card("describe_model_card"))
    body = card("create_model_card")
    assert described["content"]["intended_uses"] == body["intended_uses"]
    assert described["content"]["evaluation_details"] == body["evaluation_details"]
    assert described["status"] == "Draft"
    assert post(api, "/provisionpipeline", body)[1]["action"] == "unchanged"
    changed = {**body, "business_details": {"business_problem": "Something else."}}
    status, refused = post(api, "/provisionpipeline", changed)
    assert status == 409 and "update_model_card" in refused["message"]


def test_content_is_checked_against_the_model_card_schema(api: Any, plane: Plane) -> None:
    body = card("create_model_card")
    body["intended_uses"] = {**body["intended_uses"], "risk_rating": "Extreme"}
    body["model_overview"] = {**body["model_overview"], "favourite_colour": "blue"}
    body["evaluation_details"] = [{"evaluation_observation": "no name"}]
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 400
    problems = {p["field"]: p["problem"] for p in answer["problems"]}
    assert problems["intended_uses.risk_rating"] == "must be one of High, Medium, Low, Unknown"
    assert problems["model_overview.favourite_colour"].startswith("is not a field here; known: algorithm_type")
    assert problems["evaluation_details[0].name"] == "is required"
    assert plane.client("sagemaker").list_model_cards()["ModelCardSummaries"] == []


def test_an_update_replaces_the_sections_it_names_and_keeps_the_rest(api: Any, plane: Plane) -> None:
    post(api, "/provisionpipeline", card("create_model_card"))
    status, updated = post(api, "/provisionpipeline", card("update_model_card"))
    assert status == 200 and updated["changed_sections"] == ["intended_uses"]
    _, described = post(api, "/provisionpipeline", card("describe_model_card"))
    assert described["status"] == "PendingReview"
    assert described["content"]["intended_uses"]["risk_rating"] == "Medium"
    assert described["content"]["business_details"] == card("create_model_card")["business_details"]
    assert post(api, "/provisionpipeline", card("update_model_card"))[1]["action"] == "unchanged"
    missing = {**card("update_model_card"), "name": "no-such-card"}
    assert post(api, "/provisionpipeline", missing)[0] == 404
    nothing = {"pipeline_type": "update_model_card", "name": "churn-xgboost-card"}
    assert post(api, "/provisionpipeline", nothing)[1]["problems"][0]["field"] == "status"


def test_cards_list_a_page_at_a_time_and_delete_once(api: Any, plane: Plane) -> None:
    for suffix in ("a", "b", "c"):
        post(api, "/provisionpipeline", {**card("create_model_card"), "name": f"churn-card-{suffix}"})
    _, first = post(api, "/provisionpipeline", {**card("list_model_cards"), "max_results": 2})
    assert len(first["model_cards"]) == 2 and first["next_token"]
    _, second = post(api, "/provisionpipeline", {**card("list_model_cards"), "next_token": first["next_token"]})
    names = {c["name"] for c in first["model_cards"] + second["model_cards"]}
    assert names == {"churn-card-a", "churn-card-b", "churn-card-c"}
    gone = {"pipeline_type": "delete_model_card", "name": "churn-card-a"}
    assert post(api, "/provisionpipeline", gone)[1]["action"] == "deleted"
    assert post(api, "/provisionpipeline", gone)[1]["action"] == "none"


@pytest.mark.parametrize("field", ["name", "max_results"])
def test_bad_list_and_name_values_are_400s(api: Any, plane: Plane, field: str) -> None:
    body = {**card("list_model_cards"), "max_results": 500} if field == "max_results" else {
        **card("describe_model_card"), "name": "-bad-"}  # fmt: skip
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 400 and answer["problems"][0]["field"] == field


def test_an_export_starts_one_job_per_card_version_and_destination(api: Any, plane: Plane) -> None:
    from chalicelib import aws

    post(api, "/provisionpipeline", card("create_model_card"))
    sagemaker = aws.client("sagemaker")
    real_describe = sagemaker.describe_model_card(ModelCardName="churn-xgboost-card")
    described = {k: v for k, v in real_describe.items() if k != "ResponseMetadata"}
    with Stubber(sagemaker) as stub:
        stub.add_response("describe_model_card", described, {"ModelCardName": "churn-xgboost-card"})
        stub.add_response(
            "create_model_card_export_job",
            {"ModelCardExportJobArn": f"{described['ModelCardArn']}/export-job/x"},
            {"ModelCardName": "churn-xgboost-card", "ModelCardExportJobName": ANY,
             "OutputConfig": {"S3OutputPath": "s3://my-data-bucket/model-cards"}},
        )  # fmt: skip
        status, answer = post(api, "/provisionpipeline", card("export_model_card"))
    assert status == 200 and answer["action"] == "exporting"
    assert answer["output"] == "s3://my-data-bucket/model-cards"
