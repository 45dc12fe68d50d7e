"""Bring-your-own-model inference requests: real-time endpoints and batch transform."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator

from ..errors import Problem
from ..settings import Settings
from .base import RequestModel, forbid, require
from .endpoints import (
    MAX_INSTANCES,
    AsyncInference,
    Autoscaling,
    Deployment,
    OneShadow,
    Serverless,
    SmokeTest,
    endpoint_problems,
)
from .fields import (
    SAGEMAKER_NAME,
    AssetKey,
    Between,
    EndpointName,
    Flag,
    Framework,
    FrameworkVersion,
    ImageUri,
    InstanceType,
    KmsKeyArn,
    ModelName,
    ModelPackageArn,
    OneOf,
    RunId,
    S3Location,
    Staged,
    Text,
    VpcConfig,
    pattern,
)

_REGISTRY_KEYS = ("model_framework", "model_framework_version", "model_artifact_location", "custom_image_uri")

# A model package group, by name or (a registry in another account) by ARN: the pipeline deploys
# its latest Approved package and follows its approvals (chalicelib.registry, model_events).
ModelPackageGroupName = Annotated[
    str,
    BeforeValidator(
        pattern(
            rf"(arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{{12}}:model-package-group/)?{SAGEMAKER_NAME}",
            "expected a model package group's name (letters, digits and hyphens, at most 63) or its ARN "
            "(arn:aws:sagemaker:<region>:<account>:model-package-group/<name>)",
            256,
        )
    ),
]


class _Byom(RequestModel):
    model_name: ModelName
    inference_instance: Staged[InstanceType]
    kms_key_arn: Staged[KmsKeyArn] | None = None
    model_artifact_location: AssetKey | None = None
    model_package_name: ModelPackageArn | None = None
    model_package_group_name: ModelPackageGroupName | None = None

    STAGED: ClassVar[frozenset[str]] = frozenset({"inference_instance", "kms_key_arn"})
    # The key encrypts the endpoint's volumes (CreateEndpointConfig KmsKeyId) or the transform
    # job's (TransformResources.VolumeKmsKeyId).
    VOLUME_KEY_FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("inference_instance", "kms_key_arn"),)
    # Keys that name the model when the control plane does not use the model registry.
    MODEL_KEYS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def _package_given(cls, raw: dict[str, Any]) -> bool:
        return any(raw.get(key) not in (None, "") for key in ("model_package_name", "model_package_group_name"))

    @classmethod
    def unused_keys(cls, raw: dict[str, Any], settings: Settings) -> list[Problem]:
        """With a model package, the package names the image and the artifact (as in the original solution)."""
        if not cls._package_given(raw):
            return []
        return [
            Problem(key, "is ignored: the model is built from model_package_name, which names its image and artifact")
            for key in _REGISTRY_KEYS
            if key in cls.model_fields and key in raw
        ]

    @classmethod
    def presence_problems(cls, raw: dict[str, Any], settings: Settings) -> list[Problem]:
        problems: list[Problem] = []
        if cls._package_given(raw):
            return problems
        if settings.use_model_registry:
            problems += require(raw, "model_package_name", "when the installation uses the model registry")
            for key in _REGISTRY_KEYS:
                if key in cls.model_fields:
                    problems += forbid(
                        raw, key, "when the installation uses the model registry: give model_package_name"
                    )
        else:
            for key in cls.MODEL_KEYS:
                problems += require(raw, key, f"for pipeline_type {cls.TYPE_NAME} (or give model_package_name)")
        return problems

    def cross_checks(self, settings: Settings) -> list[Problem]:
        from .. import image_uris, registry

        group, package = self.model_package_group_name, self.model_package_name
        if group and not package:  # the orchestrator resolves the group before it validates
            return [Problem("model_package_group_name", f"{group} has no Approved package to deploy")]
        if group and package and registry.group_of(package) != registry.group_name(group):
            return [
                Problem(
                    "model_package_name",
                    f"is not a version of model_package_group_name {group}; give the group alone to deploy its "
                    "latest Approved package",
                )
            ]

        framework = getattr(self, "model_framework", None)
        version = getattr(self, "model_framework_version", None)
        if framework and version:
            problem = image_uris.check(framework, version, settings.region)
            if problem:
                return [Problem(problem[0], problem[1])]
        return []


class _Builtin(_Byom):
    model_framework: Framework | None = None
    model_framework_version: FrameworkVersion | None = None
    MODEL_KEYS: ClassVar[tuple[str, ...]] = (
        "model_framework",
        "model_framework_version",
        "model_artifact_location",
    )


class _Custom(_Byom):
    custom_image_uri: ImageUri | None = None
    MODEL_KEYS: ClassVar[tuple[str, ...]] = ("custom_image_uri", "model_artifact_location")


class _Realtime(_Byom):
    # Both required, except for serverless endpoints, which take neither (endpoints.py).
    inference_instance: Staged[InstanceType] | None = None  # type: ignore[assignment]
    data_capture_location: Staged[S3Location] | None = None
    endpoint_name: Staged[EndpointName] | None = None
    # How the endpoint is served and updated (models/endpoints.py).
    initial_instance_count: Annotated[int, Between(1, MAX_INSTANCES)] | None = None
    deployment: Deployment | None = None
    autoscaling: Autoscaling | None = None
    serverless: Serverless | None = None
    async_inference: AsyncInference | None = None
    vpc_config: Staged[VpcConfig] | None = None
    enable_network_isolation: Flag = False
    smoke_test: SmokeTest | None = None
    shadow: OneShadow | None = None
    STAGED: ClassVar[frozenset[str]] = _Byom.STAGED | {"data_capture_location", "endpoint_name", "vpc_config"}

    @classmethod
    def presence_problems(cls, raw: dict[str, Any], settings: Settings) -> list[Problem]:
        problems = super().presence_problems(raw, settings)
        if raw.get("serverless") in (None, ""):
            for key in ("inference_instance", "data_capture_location"):
                problems += require(raw, key, f"for pipeline_type {cls.TYPE_NAME} (unless the endpoint is serverless)")
        return problems

    def cross_checks(self, settings: Settings) -> list[Problem]:
        return super().cross_checks(settings) + endpoint_problems(self, settings)

    def asks_for_run_stage(self) -> bool:
        """A smoke test runs in the pipeline's Run stage, after each stage's deploy."""
        return self.smoke_test is not None

    def instance_count(self) -> int:
        """The variant's InitialInstanceCount: as asked, else autoscaling's minimum (at least 1), else 1."""
        if self.initial_instance_count is not None:
            return self.initial_instance_count
        return max(self.autoscaling.min_capacity, 1) if self.autoscaling else 1


class _Batch(_Byom):
    batch_inference_data: Staged[S3Location]
    batch_job_output_location: Staged[S3Location]
    # Transform job settings (the original solution fixed these; here they are request fields).
    content_type: Text = "text/csv"
    split_type: Annotated[str, OneOf("Line", "None", "RecordIO", "TFRecord")] = "Line"
    instance_count: Annotated[int, Between(1, 100)] = 1
    run_id: RunId | None = None
    # The model's network, as for real-time endpoints (per stage: each account has its own VPC);
    # the transform job runs the model's containers in it, or cut off from any network. Unset
    # unless given, so a request without them keeps its job's name.
    vpc_config: Staged[VpcConfig] | None = None
    enable_network_isolation: Flag | None = None
    STAGED: ClassVar[frozenset[str]] = _Byom.STAGED | {
        "batch_inference_data",
        "batch_job_output_location",
        "vpc_config",
    }


class RealtimeBuiltin(_Realtime, _Builtin):
    TYPE_NAME: ClassVar[str] = "byom_realtime_builtin"


class RealtimeCustom(_Realtime, _Custom):
    TYPE_NAME: ClassVar[str] = "byom_realtime_custom"


class BatchBuiltin(_Batch, _Builtin):
    TYPE_NAME: ClassVar[str] = "byom_batch_builtin"


class BatchCustom(_Batch, _Custom):
    TYPE_NAME: ClassVar[str] = "byom_batch_custom"
