"""The stored model-card schema matches the CloudFormation schema it was generated from, and its
checker reports problems by path."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.models.model_cards import schema
from chalicelib.schema_check import problems
from mlops_dev import gen_model_card_schema as generator


def names(node: Any) -> set[str]:
    """Every property name in a schema, recursively."""
    found: set[str] = set()
    if isinstance(node, dict):
        found |= set(node.get("properties", {}))
        for value in node.values():
            found |= names(value)
    elif isinstance(node, list):
        for value in node:
            found |= names(value)
    return found


def test_the_stored_schema_has_every_section_and_field_cloudformation_names() -> None:
    source = generator.source()
    expected = {generator.snake(n) for n in names(source["definitions"])}
    assert names(schema()) == expected
    assert set(schema()["properties"]) == {generator.snake(n) for n in source["definitions"]["Content"]["properties"]}


def test_the_checker_reports_each_problem_with_its_path() -> None:
    content = {
        "intended_uses": {"risk_rating": "Extreme", "purpose_of_model": "x" * 3000},
        "evaluation_details": [{"name": "e", "metric_groups": [{"name": "g", "metric_data": [{"name": "auc"}]}]}],
    }
    found = dict(problems(content, schema(), schema(), "content"))
    assert found["content.intended_uses.risk_rating"] == "must be one of High, Medium, Low, Unknown"
    assert found["content.intended_uses.purpose_of_model"] == "has more than 2048 characters"
    assert "content.evaluation_details[0].metric_groups[0].metric_data[0]" in json.dumps(sorted(found))
    assert problems({"model_overview": {"model_name": "churn"}}, schema(), schema(), "content") == []
