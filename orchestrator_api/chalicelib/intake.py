"""What a provision body asks for, whichever way it arrives (HTTP or a config upload): a
model-card operation, a dry run, or a pipeline to create or update.

Keys the body's type leaves out (another type's fields, or fields another field makes unused:
:func:`~.models.base.ignored`) are listed in the answer's ``warnings``, also when the request is
refused for another reason. A ``model_package_name`` is looked up in SageMaker before the
request is planned, in any installation: a package that does not exist is a 400 now rather
than a failed CreateModel in the pipeline's deploy stage minutes later.
"""

from __future__ import annotations

from typing import Any

from . import aws, dryrun, model_card_operations, provisioning, registry
from .body import switches
from .errors import OrchestratorError, Problem, UpstreamError, ValidationFailed
from .models.base import RequestModel, ignored
from .models.endpoints import marketplace_package
from .models.fields import ModelPackageArn
from .models.model_cards import MODELS
from .pipelines.catalog import REGISTRY
from .settings import Settings

# A package whose model cannot be created (SageMaker's ModelPackageStatus values).
UNUSABLE_PACKAGE = {"Failed", "Deleting"}
PACKAGE_FIELD = "model_package_name"


def model_of(body: dict[str, Any]) -> type[RequestModel] | None:
    """The request model of the body's pipeline_type; None when it names none."""
    kind = body.get("pipeline_type")
    if not isinstance(kind, str):
        return None
    entry = REGISTRY.find(kind.strip())
    return entry.model if entry else MODELS.get(kind.strip())


def warnings_of(body: dict[str, Any], settings: Settings) -> list[dict[str, str]]:
    """The answer's ``warnings``: each key the request leaves out, and why."""
    model = model_of(body)
    if model is None:
        return []
    return [{"field": item.field, "warning": item.problem} for item in ignored(model, body, settings)]


def handle(body: dict[str, Any], settings: Settings, caller: str = "") -> dict[str, Any]:
    warnings: list[dict[str, str]] = []
    try:
        if model_card_operations.handles(body):
            warnings = warnings_of(body, settings)
            answer = model_card_operations.handle(body, settings)
        else:
            asked = switches(body)
            warnings = warnings_of(body, settings)
            body = with_package_arn(registry.resolve(body, settings, model_of(body)), settings)
            refuse_serverless_monitoring(body, settings, aws.client("sagemaker"))
            if asked["dry_run"]:
                answer = dryrun.dry_run(body, settings, upgrade=asked["upgrade_blueprints"])
            else:
                answer = provisioning.provision(body, settings, caller=caller, upgrade=asked["upgrade_blueprints"])
    except OrchestratorError as exc:
        if warnings:
            exc.details["warnings"] = warnings
        raise
    if warnings:
        answer["warnings"] = warnings
    return answer


def refuse_serverless_monitoring(body: dict[str, Any], settings: Settings, sagemaker: Any) -> None:
    """A 400 for a monitor of a live serverless endpoint: serverless endpoints capture no data,
    which every monitor reads. An endpoint that does not exist yet (or per-stage names, in
    other accounts) is not looked up; the lookup is a courtesy, so its own failures are not the
    request's. In multi-account installations the endpoints live in the stage accounts, which
    the orchestrator does not read, so nothing is looked up there."""
    if settings.multi_account:
        return
    name, entry = body.get("endpoint_name"), REGISTRY.find(str(body.get("pipeline_type")))
    if entry is None or entry.monitor_kind is None or not isinstance(name, str) or not name.strip():
        return
    try:
        described = sagemaker.describe_endpoint(EndpointName=name.strip())
    except Exception:
        return
    if any(v.get("CurrentServerlessConfig") for v in described.get("ProductionVariants") or []):
        raise ValidationFailed(
            [
                Problem(
                    "endpoint_name",
                    f"{name} is a serverless endpoint, and serverless endpoints capture no data: there is nothing "
                    "for a monitor to read (SageMaker excludes Model Monitor from them); monitor an endpoint on "
                    "instances with data capture",
                )
            ],
            "the endpoint cannot be monitored",
        )


def _well_formed_package(value: Any) -> bool:
    from pydantic import TypeAdapter, ValidationError

    try:
        TypeAdapter(ModelPackageArn).validate_python(value)
    except ValidationError:
        return False
    return True


def with_package_arn(body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """``body`` with its model package named by the ARN SageMaker answers; a 400 if it does not exist.

    Only a well-formed name is looked up: a malformed one is left to validation, which lists it
    with every other problem.
    """
    model = model_of(body)
    value = body.get(PACKAGE_FIELD)
    if model is None or PACKAGE_FIELD not in model.model_fields or not _well_formed_package(value):
        return body
    name = str(value).strip()
    try:
        package = aws.client("sagemaker").describe_model_package(ModelPackageName=name)
    except Exception as exc:
        if aws.error_code(exc) in ("ValidationException", "ResourceNotFound"):
            raise ValidationFailed(
                [
                    Problem(
                        PACKAGE_FIELD,
                        f"names no model package this installation can read in {settings.region} ({exc}); "
                        "give the ARN of an existing package version, e.g. from "
                        "aws sagemaker list-model-packages --model-package-group-name <group>",
                    )
                ],
                "the model package does not exist",
            ) from None
        if aws.denied(exc) and marketplace_package(name, settings):
            account = name.split(":")[4]
            # Versions of a central registry's groups are read across accounts; an unversioned
            # package of another account is how AWS Marketplace models are named.
            raise ValidationFailed(
                [
                    Problem(
                        PACKAGE_FIELD,
                        f"{name} is an unversioned model package of account {account}, the form AWS Marketplace "
                        "models take, and this installation may not read it: it deploys packages of its own "
                        "account and versions of its model registry's groups",
                    )
                ],
                "the model package cannot be read",
            ) from None
        raise UpstreamError(f"could not look up model package {name}: {exc}") from exc
    status = package.get("ModelPackageStatus", "")
    if status in UNUSABLE_PACKAGE:
        raise ValidationFailed(
            [
                Problem(
                    PACKAGE_FIELD,
                    f"model package {package['ModelPackageArn']} is {status}; a model needs one that is Completed",
                )
            ],
            "the model package cannot be deployed",
        )
    return {**body, PACKAGE_FIELD: package["ModelPackageArn"]}
