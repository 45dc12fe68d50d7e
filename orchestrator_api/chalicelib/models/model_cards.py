"""Model-card requests, with the original solution's ``pipeline_type`` values: create, update, describe,
delete, export, list. The card's content sections are checked against SageMaker's model-card
schema (``data/model_card_schema.json``) when the request arrives."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator

from ..errors import Problem
from ..schema_check import problems as schema_problems
from ..settings import Settings
from .base import RequestModel
from .fields import (
    SAGEMAKER_NAME,
    SAGEMAKER_NAME_RULE,
    Between,
    KmsKeyArn,
    OneOf,
    S3Location,
    Text,
    control_problem,
    pattern,
)

CardName = Annotated[str, BeforeValidator(pattern(SAGEMAKER_NAME, SAGEMAKER_NAME_RULE, 63))]
CardStatus = Annotated[str, OneOf("Draft", "PendingReview", "Approved", "Archived")]
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "data" / "model_card_schema.json"


@cache
def schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA_FILE.read_text()))


def sections() -> tuple[str, ...]:
    return tuple(sorted(schema()["properties"]))


def _control_characters(value: Any, path: str) -> list[Problem]:
    """Control characters in a card's text: prose may break lines and use tabs, nothing else."""
    if isinstance(value, str):
        problem = control_problem(value, allowed_breaks=True)
        return [Problem(path, problem)] if problem else []
    found: list[Problem] = []
    if isinstance(value, dict):
        for key, item in value.items():
            problem = control_problem(key)
            if problem:
                found.append(Problem(path, f"has a key that {problem}"))
            found += _control_characters(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _control_characters(item, f"{path}[{index}]")
    return found


class _Card(RequestModel):
    name: CardName


class _WithContent(_Card):
    """Cards with content: each section is checked against SageMaker's schema."""

    model_overview: dict[str, Any] | None = None
    model_package_details: dict[str, Any] | None = None
    intended_uses: dict[str, Any] | None = None
    business_details: dict[str, Any] | None = None
    training_details: dict[str, Any] | None = None
    evaluation_details: list[Any] | None = None
    additional_information: dict[str, Any] | None = None

    def content(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in sections() if getattr(self, name) is not None}

    def cross_checks(self, settings: Settings) -> list[Problem]:
        found = schema_problems(self.content(), schema(), schema(), "content")
        problems = [Problem(path.removeprefix("content."), problem) for path, problem in found]
        for name, value in self.content().items():
            problems += _control_characters(value, name)
        return problems


class CreateModelCard(_WithContent):
    TYPE_NAME: ClassVar[str] = "create_model_card"
    status: CardStatus = "Draft"
    kms_key_arn: KmsKeyArn | None = None


class UpdateModelCard(_WithContent):
    TYPE_NAME: ClassVar[str] = "update_model_card"
    status: CardStatus | None = None

    def cross_checks(self, settings: Settings) -> list[Problem]:
        problems = super().cross_checks(settings)
        if self.status is None and not self.content():
            problems.append(Problem("status", f"or a content section ({', '.join(sections())}) is required"))
        return problems


class DescribeModelCard(_Card):
    TYPE_NAME: ClassVar[str] = "describe_model_card"
    version: Annotated[int, Between(1, 1_000_000)] | None = None


class DeleteModelCard(_Card):
    TYPE_NAME: ClassVar[str] = "delete_model_card"


class ExportModelCard(_Card):
    TYPE_NAME: ClassVar[str] = "export_model_card"
    s3_output_path: S3Location


class ListModelCards(RequestModel):
    TYPE_NAME: ClassVar[str] = "list_model_cards"
    name_contains: Text | None = None
    status: CardStatus | None = None
    max_results: Annotated[int, Between(1, 100)] = 20
    next_token: Text | None = None


MODELS: dict[str, type[RequestModel]] = {
    m.TYPE_NAME: m
    for m in (CreateModelCard, UpdateModelCard, DescribeModelCard, DeleteModelCard, ExportModelCard, ListModelCards)
}
