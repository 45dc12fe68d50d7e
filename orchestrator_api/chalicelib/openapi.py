"""``GET /openapi.json``: the API as OpenAPI 3.1, its request schemas generated from the models.

Built on first use and kept: it depends only on the code. Validation rules that span fields
(and the plain-words messages) live in the models; the schemas give shapes and field names.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from .body import SWITCHES
from .models.model_cards import MODELS as CARD_MODELS
from .pipelines.catalog import REGISTRY

REF = "#/components/schemas/{model}"


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
    }


def _ok(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}


def _body(ref: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": REF.format(model=ref)}}}}


PIPELINE_ID = {
    "name": "pipeline_id",
    "in": "path",
    "required": True,
    "description": (
        "The pipeline_id POST /provisionpipeline returned (a stack ARN, URL-encoded), or the pipeline's stack "
        "name (with or without -codepipeline)."
    ),
    "schema": {"type": "string"},
}

# API Gateway decodes an ARN's %2F before matching: the ARN's three segments, "arn:...:stack", name, id.
ARN_SEGMENTS = [
    {**PIPELINE_ID, "description": "The stack ARN's part before its first slash (arn:...:stack)."},
    {
        "name": "stack_name",
        "in": "path",
        "required": True,
        "description": "The stack name.",
        "schema": {"type": "string"},
    },
    {
        "name": "stack_id",
        "in": "path",
        "required": True,
        "description": "The stack's unique id.",
        "schema": {"type": "string"},
    },
]


def _paths() -> dict[str, Any]:
    errors = {"400": _error("the request breaks a rule: problems lists each"), "502": _error("an AWS call failed")}
    return {
        "/provisionpipeline": {
            "post": {
                "operationId": "provisionPipeline",
                "summary": "Create or update a pipeline (with dry_run true: preview only), or a model-card operation",
                "requestBody": _body("ProvisionRequest"),
                "responses": {
                    "200": {
                        "description": "provisioned, updated, unchanged, or the dry run's preview",
                        "content": {"application/json": {"schema": {"$ref": REF.format(model="ProvisionAnswer")}}},
                    },
                    "202": _ok(
                        "the pipeline stack's creation had failed: its deletion started; resubmit after "
                        "Retry-After seconds (409 while it is deleted, then the pipeline is created)"
                    ),
                    "409": _error("the pipeline's stack is busy or stuck"),
                    **errors,
                },
            }
        },
        "/pipelinestatus": {
            "post": {
                "operationId": "pipelineStatus",
                "summary": "One pipeline's stacks, stages and latest failure",
                "requestBody": _body("StatusRequest"),
                "responses": {"200": _ok("the status document"), "404": _error("no such pipeline"), **errors},
            }
        },
        "/pipelines": {
            "get": {
                "operationId": "listPipelines",
                "summary": "The pipelines, a page at a time",
                "parameters": [
                    {"name": n, "in": "query", "required": False, "schema": s, "description": d}
                    for n, s, d in (
                        ("type", {"type": "string", "enum": REGISTRY.names()}, "only pipelines of this type"),
                        ("status", {"type": "string"}, "only pipelines whose stack has this status"),
                        ("next_token", {"type": "string"}, "the next_token of the previous page"),
                        ("max_results", {"type": "integer", "minimum": 1, "maximum": 100}, "page size (20)"),
                    )
                ],
                "responses": {"200": _ok("pipelines and, when more follow, next_token"), **errors},
            }
        },
        "/pipelines/{pipeline_id}": {
            "parameters": [PIPELINE_ID],
            "get": {
                "operationId": "describePipeline",
                "summary": "A pipeline: request, stages, outputs, what awaits approval",
                "responses": {"200": _ok("the pipeline"), "404": _error("no such pipeline"), **errors},
            },
            "delete": {
                "operationId": "deletePipeline",
                "summary": "Delete what the pipeline deployed and the pipeline (data buckets stay)",
                "responses": {
                    "200": _ok("deleting, or already deleted"),
                    "202": _ok(
                        "what the pipeline deployed is still being removed (per stack and stack set); repeat "
                        "the DELETE after Retry-After seconds to finish"
                    ),
                    "404": _error("no such pipeline"),
                    "409": _error("a monitor pipeline watches this pipeline's endpoint"),
                    **errors,
                },
            },
        },
        "/pipelines/{pipeline_id}/{stack_name}/{stack_id}": {
            "parameters": ARN_SEGMENTS,
            "get": {
                "operationId": "describePipelineByArn",
                "summary": "As GET /pipelines/{pipeline_id}, for a stack ARN whose slashes arrive decoded",
                "responses": {"200": _ok("the pipeline"), "404": _error("no such pipeline"), **errors},
            },
            "delete": {
                "operationId": "deletePipelineByArn",
                "summary": "As DELETE /pipelines/{pipeline_id}, for a stack ARN whose slashes arrive decoded",
                "responses": {
                    "200": _ok("deleting, or already deleted"),
                    "202": _ok("still being removed: repeat after Retry-After seconds"),
                    "404": _error("no such pipeline"),
                    "409": _error("a monitor pipeline watches this pipeline's endpoint"),
                    **errors,
                },
            },
        },
        "/pipelines/{pipeline_id}/approval": {
            "parameters": [PIPELINE_ID],
            "post": {
                "operationId": "decideApproval",
                "summary": "Approve or reject the promotion waiting in a stage",
                "requestBody": _body("ApprovalRequest"),
                "responses": {
                    "200": _ok("the decision was recorded"),
                    "404": _error("no such pipeline"),
                    "409": _error("nothing awaits approval in that stage"),
                    **errors,
                },
            },
        },
        "/pipelines/{pipeline_id}/retry": {
            "parameters": [PIPELINE_ID],
            "post": {
                "operationId": "retryPipeline",
                "summary": "Start a new run of the pipeline as it is (after its inputs were fixed)",
                "responses": {
                    "200": _ok("the run started: execution_id"),
                    "404": _error("no such pipeline"),
                    "409": _error("the pipeline stack has not created the pipeline yet"),
                    **errors,
                },
            },
        },
        "/models/{group}/approval": {
            "parameters": [
                {
                    "name": "group",
                    "in": "path",
                    "required": True,
                    "description": "the model package group (name, or ARN URL-encoded)",
                    "schema": {"type": "string"},
                }
            ],
            "post": {
                "operationId": "decideModelApproval",
                "summary": "Approve or reject a registered model; pipelines following its group move with it",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["decision"],
                                "additionalProperties": False,
                                "properties": {
                                    "decision": {"type": "string", "enum": ["approve", "reject"]},
                                    "version": {"type": "integer", "minimum": 1},
                                    "comment": {"type": "string", "maxLength": 512},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _ok("the decision was recorded on the package"),
                    "404": _error("no such group or version"),
                    "409": _error("no version waits for approval"),
                    **errors,
                },
            },
        },
        "/openapi.json": {
            "get": {"operationId": "openApi", "summary": "This document", "responses": {"200": _ok("OpenAPI 3.1")}}
        },
    }


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    mapping: dict[str, str] = {}
    models = [(e.name, e.model, True) for e in REGISTRY] + [(n, m, False) for n, m in sorted(CARD_MODELS.items())]
    for type_name, model, pipeline in models:
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schema["properties"]["pipeline_type"] = {"const": type_name}
        if pipeline:
            for name, meaning in SWITCHES.items():
                schema["properties"][name] = {"type": "boolean", "default": False, "description": meaning}
        schemas[model.__name__] = schema
        mapping[type_name] = REF.format(model=model.__name__)
    schemas["ProvisionRequest"] = {
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "pipeline_type", "mapping": mapping},
    }
    schemas["StatusRequest"] = {
        "type": "object",
        "required": ["pipeline_id"],
        "properties": {"pipeline_id": {"type": "string", "description": "stack ARN or name"}},
    }
    schemas["ApprovalRequest"] = {
        "type": "object",
        "required": ["stage", "decision"],
        "additionalProperties": False,
        "properties": {
            "stage": {"type": "string", "description": "the stage to promote to: staging or prod"},
            "decision": {"type": "string", "enum": ["approve", "reject"]},
            "comment": {"type": "string", "maxLength": 512},
        },
    }
    warnings = {
        "type": "array",
        "description": "keys the request carries that this pipeline type ignores (another type's fields), and why",
        "items": {
            "type": "object",
            "required": ["field", "warning"],
            "properties": {"field": {"type": "string"}, "warning": {"type": "string"}},
        },
    }
    schemas["ProvisionAnswer"] = {
        "type": "object",
        "properties": {
            "message": {"type": "string"},
            "pipeline_id": {"type": "string", "description": "the pipeline stack's ARN"},
            "pipeline_type": {"type": "string"},
            "stack_name": {"type": "string"},
            "blueprint_stack_name": {"type": "string"},
            "action": {"type": "string", "description": "created, updated or unchanged; with dry_run, the preview's"},
            "changed": {"type": "boolean"},
            "blueprint_version": {"type": "string"},
            "dry_run": {"type": "boolean"},
            "warnings": warnings,
        },
    }
    schemas["Error"] = {
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": {"type": "string"},
            "warnings": warnings,
            "problems": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "problem": {"type": "string"}},
                },
            },
        },
    }
    return schemas


@cache
def document() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("mlops-orchestrator")
    except PackageNotFoundError:  # the Lambda package is not an installed distribution
        release = "unreleased"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MLOps Workload Orchestrator",
            "version": release,
            "description": "Every route is IAM-authorised (SigV4, service execute-api).",
        },
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"sigv4": {"type": "apiKey", "name": "Authorization", "in": "header"}},
        },
        "security": [{"sigv4": []}],
    }
