"""Bring-your-own-model inference requests: real-time endpoints and batch transform."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from ..errors import Problem
from ..settings import Settings
from .base import RequestModel, forbid, require
from .fields import (
    AssetKey,
    Between,
    EndpointName,
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
)

_REGISTRY_KEYS = ("model_framework", "model_framework_version", "model_artifact_location", "custom_image_uri")


class _Byom(RequestModel):
    model_name: ModelName
    inference_instance: Staged[InstanceType]
    kms_key_arn: Staged[KmsKeyArn] | None = None
    model_artifact_location: AssetKey | None = None
    model_package_name: ModelPackageArn | None = None

    STAGED: ClassVar[frozenset[str]] = frozenset({"inference_instance", "kms_key_arn"})
    # The key encrypts the endpoint's volumes (CreateEndpointConfig KmsKeyId) or the transform
    # job's (TransformResources.VolumeKmsKeyId).
    VOLUME_KEY_FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("inference_instance", "kms_key_arn"),)
    # Keys that name the model when the control plane does not use the model registry.
    MODEL_KEYS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def _package_given(cls, raw: dict[str, Any]) -> bool:
        return raw.get("model_package_name") not in (None, "")

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
        from .. import image_uris

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
    data_capture_location: Staged[S3Location]
    endpoint_name: Staged[EndpointName] | None = None
    STAGED: ClassVar[frozenset[str]] = _Byom.STAGED | {"data_capture_location", "endpoint_name"}


class _Batch(_Byom):
    batch_inference_data: Staged[S3Location]
    batch_job_output_location: Staged[S3Location]
    # Transform job settings (the original solution fixed these; here they are request fields).
    content_type: Text = "text/csv"
    split_type: Annotated[str, OneOf("Line", "None", "RecordIO", "TFRecord")] = "Line"
    instance_count: Annotated[int, Between(1, 100)] = 1
    run_id: RunId | None = None
    STAGED: ClassVar[frozenset[str]] = _Byom.STAGED | {"batch_inference_data", "batch_job_output_location"}


class RealtimeBuiltin(_Realtime, _Builtin):
    TYPE_NAME: ClassVar[str] = "byom_realtime_builtin"


class RealtimeCustom(_Realtime, _Custom):
    TYPE_NAME: ClassVar[str] = "byom_realtime_custom"


class BatchBuiltin(_Batch, _Builtin):
    TYPE_NAME: ClassVar[str] = "byom_batch_builtin"


class BatchCustom(_Batch, _Custom):
    TYPE_NAME: ClassVar[str] = "byom_batch_custom"
