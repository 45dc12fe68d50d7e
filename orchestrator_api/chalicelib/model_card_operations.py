"""Model-card operations, answered directly (no pipeline): the original solution's six ``*_model_card``
request types, validated like every request and backed by SageMaker's model-card API."""

from __future__ import annotations

import json
from typing import Any

from . import aws
from .errors import Conflict, NotFound, UpstreamError
from .models.base import parse
from .models.model_cards import MODELS
from .naming import with_hash
from .settings import Settings


def handles(body: dict[str, Any]) -> bool:
    kind = body.get("pipeline_type")
    return isinstance(kind, str) and kind in MODELS


def _client() -> Any:
    return aws.client("sagemaker")


def _missing(exc: Exception) -> bool:
    return aws.error_code(exc) in ("ResourceNotFound", "ValidationException") and (
        "not" in str(exc).lower() and ("exist" in str(exc).lower() or "found" in str(exc).lower())
    )


def _describe(name: str, version: int | None = None) -> dict[str, Any] | None:
    try:
        extra = {"ModelCardVersion": version} if version else {}
        return dict(_client().describe_model_card(ModelCardName=name, **extra))
    except Exception as exc:
        if _missing(exc):
            return None
        raise UpstreamError(f"could not read model card {name}: {exc}") from exc


def _card(described: dict[str, Any]) -> dict[str, Any]:
    try:
        content = json.loads(described.get("Content") or "{}")
    except ValueError:
        content = described.get("Content")
    return {
        "name": described["ModelCardName"],
        "arn": described.get("ModelCardArn"),
        "version": described.get("ModelCardVersion"),
        "status": described.get("ModelCardStatus"),
        "content": content,
        "created": str(described.get("CreationTime", "")) or None,
        "updated": str(described.get("LastModifiedTime", "")) or None,
    }


def create(request: Any, settings: Settings) -> dict[str, Any]:
    content = request.content()
    existing = _describe(request.name)
    if existing is not None:
        if _card(existing)["content"] == content and existing.get("ModelCardStatus") == request.status:
            return {"action": "unchanged", **_card(existing)}
        raise Conflict(f"model card {request.name} exists with other content; change it with update_model_card")
    extra = {"SecurityConfig": {"KmsKeyId": request.kms_key_arn}} if request.kms_key_arn else {}
    try:
        answer = _client().create_model_card(
            ModelCardName=request.name, Content=json.dumps(content), ModelCardStatus=request.status, **extra
        )
    except Exception as exc:
        raise UpstreamError(f"could not create model card {request.name}: {exc}") from exc
    return {"action": "created", "name": request.name, "arn": answer.get("ModelCardArn"), "status": request.status}


def update(request: Any, settings: Settings) -> dict[str, Any]:
    existing = _describe(request.name)
    if existing is None:
        raise NotFound(f"no model card {request.name}; create it with create_model_card")
    card = _card(existing)
    content = {**(card["content"] or {}), **request.content()}
    status = request.status or card["status"]
    if content == card["content"] and status == card["status"]:
        return {"action": "unchanged", **card}
    try:
        _client().update_model_card(ModelCardName=request.name, Content=json.dumps(content), ModelCardStatus=status)
    except Exception as exc:
        raise UpstreamError(f"could not update model card {request.name}: {exc}") from exc
    changed = sorted(
        k for k in set(content) | set(card["content"] or {}) if content.get(k) != (card["content"] or {}).get(k)
    )
    return {"action": "updated", "name": request.name, "status": status, "changed_sections": changed}


def describe(request: Any, settings: Settings) -> dict[str, Any]:
    existing = _describe(request.name, request.version)
    if existing is None:
        raise NotFound(f"no model card {request.name}" + (f" version {request.version}" if request.version else ""))
    return _card(existing)


def delete(request: Any, settings: Settings) -> dict[str, Any]:
    if _describe(request.name) is None:
        return {"action": "none", "name": request.name, "message": "no such model card (already deleted?)"}
    try:
        _client().delete_model_card(ModelCardName=request.name)
    except Exception as exc:
        raise UpstreamError(f"could not delete model card {request.name}: {exc}") from exc
    return {"action": "deleted", "name": request.name}


def export(request: Any, settings: Settings) -> dict[str, Any]:
    version = request.model_card_version
    existing = _describe(request.name, version)
    if existing is None:
        raise NotFound(f"no model card {request.name}" + (f" version {version}" if version else ""))
    # One export job per card version and destination: a resubmit names the same job.
    job = with_hash(request.name[:54], [existing.get("ModelCardVersion"), request.s3_output_path])
    output = f"s3://{request.s3_output_path}"
    extra = {"ModelCardVersion": version} if version else {}
    try:
        answer = _client().create_model_card_export_job(
            ModelCardName=request.name, ModelCardExportJobName=job, OutputConfig={"S3OutputPath": output}, **extra
        )
    except Exception as exc:
        if aws.error_code(exc) in ("ConflictException", "ResourceInUse"):
            return {"action": "unchanged", "name": request.name, "export_job": job, "output": output}
        raise UpstreamError(f"could not export model card {request.name}: {exc}") from exc
    return {
        "action": "exporting",
        "name": request.name,
        "export_job_arn": answer.get("ModelCardExportJobArn"),
        "output": output,
    }


def list_cards(request: Any, settings: Settings) -> dict[str, Any]:
    arguments: dict[str, Any] = {"MaxResults": request.max_results}
    if request.next_token:
        arguments["NextToken"] = request.next_token
    if request.name_contains:
        arguments["NameContains"] = request.name_contains
    if request.status:
        arguments["ModelCardStatus"] = request.status
    try:
        answer = _client().list_model_cards(**arguments)
    except Exception as exc:
        raise UpstreamError(f"could not list model cards: {exc}") from exc
    page: dict[str, Any] = {
        "model_cards": [
            {
                "name": c["ModelCardName"],
                "arn": c.get("ModelCardArn"),
                "status": c.get("ModelCardStatus"),
                "created": str(c.get("CreationTime", "")) or None,
            }
            for c in answer.get("ModelCardSummaries", [])
        ]
    }
    if answer.get("NextToken"):
        page["next_token"] = answer["NextToken"]
    return page


OPERATIONS = {
    "create_model_card": create,
    "update_model_card": update,
    "describe_model_card": describe,
    "delete_model_card": delete,
    "export_model_card": export,
    "list_model_cards": list_cards,
}


def handle(raw: dict[str, Any], settings: Settings) -> dict[str, Any]:
    kind = raw["pipeline_type"]
    return OPERATIONS[kind](parse(MODELS[kind], raw, settings), settings)
