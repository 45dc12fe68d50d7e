"""Model-card requests, with the original solution's ``pipeline_type`` values: create, update, describe,
delete, export, list. The card's content sections are checked against SageMaker's model-card
schema (``data/model_card_schema.json``) when the request arrives."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, model_validator

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


# Keys the original solution's card requests read that have no effect here, and why. SageMaker
# sets the ARN, the version and who created or changed a card itself (CreateModelCard takes
# none of them), so they are left out with a warning rather than refused.
_SET_BY_SAGEMAKER = "is ignored: SageMaker sets it on the card itself"
ORIGINAL_EXTRAS = {
    "arn": _SET_BY_SAGEMAKER,
    "version": _SET_BY_SAGEMAKER,
    "created_by": _SET_BY_SAGEMAKER,
    "last_modified_by": _SET_BY_SAGEMAKER,
    "export_job_name": "is ignored: the export job is named after the card's version and the destination, so a "
    "resubmitted export starts no second job",
}
# Keys inside content sections with which the original solution asked the SDK to fill a section
# from a model, training job or metrics file; here a section carries its content as given.
DISCOVERY_KEYS = {
    "training_details": ("model_name", "training_job_name"),
    "evaluation_details": ("metric_file_s3_url", "metric_type"),
}
_DISCOVERY = "is ignored: content is not discovered from other resources here; give the section's fields themselves"


class _Card(RequestModel):
    name: CardName

    @classmethod
    def unused_keys(cls, raw: dict[str, Any], settings: Settings) -> list[Problem]:
        return original_extras(cls, raw)


def original_extras(model: type[RequestModel], raw: dict[str, Any]) -> list[Problem]:
    """The :data:`ORIGINAL_EXTRAS` ``raw`` gives that ``model`` has no field for."""
    return [Problem(key, why) for key, why in ORIGINAL_EXTRAS.items() if key in raw and key not in model.model_fields]


class _WithContent(_Card):
    """Cards with content: each section is checked against SageMaker's schema."""

    model_overview: dict[str, Any] | None = None
    model_package_details: dict[str, Any] | None = None
    intended_uses: dict[str, Any] | None = None
    business_details: dict[str, Any] | None = None
    training_details: dict[str, Any] | None = None
    evaluation_details: list[Any] | None = None
    additional_information: dict[str, Any] | None = None

    @classmethod
    def unused_keys(cls, raw: dict[str, Any], settings: Settings) -> list[Problem]:
        found = super().unused_keys(raw, settings)
        for section, keys in DISCOVERY_KEYS.items():
            value = raw.get(section)
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                where = f"{section}[{index}]" if isinstance(value, list) else section
                if isinstance(item, dict):
                    found += [Problem(f"{where}.{key}", _DISCOVERY) for key in keys if key in item]
        return found

    @model_validator(mode="before")
    @classmethod
    def _original_forms(cls, data: Any) -> Any:
        """Leave out the discovery keys (:meth:`unused_keys` warns of them) and read an
        environment given as a list of images as SageMaker's ``{"container_image": [...]}``."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for section, keys in DISCOVERY_KEYS.items():
            value = data.get(section)
            if isinstance(value, dict):
                data[section] = {k: v for k, v in value.items() if k not in keys}
            elif isinstance(value, list):
                data[section] = [
                    {k: v for k, v in item.items() if k not in keys} if isinstance(item, dict) else item
                    for item in value
                ]
        overview = data.get("model_overview")
        if isinstance(overview, dict) and isinstance(overview.get("inference_environment"), list):
            data["model_overview"] = {**overview, "inference_environment": {"container_image": overview[
                "inference_environment"]}}  # fmt: skip
        details = data.get("training_details")
        job = details.get("training_job_details") if isinstance(details, dict) else None
        if isinstance(job, dict) and isinstance(job.get("training_environment"), list):
            job = {**job, "training_environment": {"container_image": job["training_environment"]}}
            data["training_details"] = {**details, "training_job_details": job}
        return data

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
    # The original solution's name for the card version to export (the latest when not given).
    model_card_version: Annotated[int, Between(1, 1_000_000)] | None = None


class ListModelCards(RequestModel):
    TYPE_NAME: ClassVar[str] = "list_model_cards"

    @classmethod
    def unused_keys(cls, raw: dict[str, Any], settings: Settings) -> list[Problem]:
        return original_extras(cls, raw)

    name_contains: Text | None = None
    status: CardStatus | None = None
    max_results: Annotated[int, Between(1, 100)] = 20
    next_token: Text | None = None


MODELS: dict[str, type[RequestModel]] = {
    m.TYPE_NAME: m
    for m in (CreateModelCard, UpdateModelCard, DescribeModelCard, DeleteModelCard, ExportModelCard, ListModelCards)
}
