"""How a real-time endpoint is served and updated: deployment guardrails, autoscaling,
serverless and asynchronous inference, a shadow variant.

Each bound is SageMaker's or Application Auto Scaling's (CloudFormation's
``AWS::SageMaker::Endpoint`` ``DeploymentConfig``, ``AWS::SageMaker::EndpointConfig``
``ServerlessConfig``, ``AsyncInferenceConfig`` and ``ShadowProductionVariants``), so a request
AWS would refuse when its stack deploys is refused when it arrives. The rules that join several
settings (a serverless endpoint takes no instance type, a rolling update needs instances, ...)
are in :func:`endpoint_problems`, which the real-time models call from their cross checks.
"""

from __future__ import annotations

import math
from fnmatch import fnmatchcase
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from ..errors import Problem
from ..settings import Settings
from . import guardrails, instances
from .fields import (
    STAGES,
    AlarmName,
    AssetKey,
    Between,
    Flag,
    ImageUri,
    InstanceType,
    OneOf,
    S3Location,
    SnsTopicArn,
    Staged,
    StageValues,
    Text,
    VariantName,
    fail,
    for_stage,
)

# AutoRollbackConfiguration.Alarms holds 1-10 alarms.
MAX_ROLLBACK_ALARMS = 10
# The alarms the blueprint creates when default_alarms is on: model 5xx errors, p99 model latency.
DEFAULT_ALARMS = 2
# Real-time InvokeEndpoint answers within 60 s, so a latency threshold above that never fires.
MAX_LATENCY_MS = 60_000
# The orchestrator's ceiling on instance counts (far above SageMaker's default account quotas).
MAX_INSTANCES = 1000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _number(low: float, high: float, low_open: bool = False) -> BeforeValidator:
    """A finite number in [low, high] (or (low, high]); digit strings are accepted."""

    def check(value: Any) -> float:
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise fail(f"must be a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise fail("must be a number")
        number = float(value)
        if number < low or number > high or (low_open and number == low):
            shown = f"above {low:g}" if low_open else f"at least {low:g}"
            raise fail(f"must be {shown} and at most {high:g}, got {number:g}")
        return number

    return BeforeValidator(check)


class Deployment(_Strict):
    """``deployment``: how an update of the endpoint shifts traffic, and what rolls it back.

    Blue/green (``BlueGreenUpdatePolicy``) shifts ``ALL_AT_ONCE``, ``CANARY`` or ``LINEAR``;
    ``rolling`` replaces the fleet in batches (``RollingUpdatePolicy``). SageMaker rolls back
    when any alarm of ``AutoRollbackConfiguration`` fires during the deployment.
    """

    strategy: Annotated[str, OneOf("blue_green", "rolling")] = "blue_green"
    traffic_routing: Annotated[str, OneOf("ALL_AT_ONCE", "CANARY", "LINEAR")] | None = None
    # CapacitySize as a percentage of the variant's instances: canary <= 50%, linear 10-50%,
    # rolling batch 5-50% (TrafficRoutingConfig, RollingUpdatePolicy).
    canary_percent: Annotated[int, Between(1, 50)] | None = None
    linear_step_percent: Annotated[int, Between(10, 50)] | None = None
    rolling_batch_percent: Annotated[int, Between(5, 50)] | None = None
    wait_interval_seconds: Annotated[int, Between(0, 3600)] = 300
    maximum_execution_timeout_seconds: Annotated[int, Between(600, 28800)] | None = None
    termination_wait_seconds: Annotated[int, Between(0, 3600)] = 0
    rollback_alarms: list[AlarmName] = []
    default_alarms: Flag = True
    latency_threshold_ms: Annotated[int, Between(1, MAX_LATENCY_MS)] = 1000

    def routing(self) -> str:
        return self.traffic_routing or "ALL_AT_ONCE"

    def steps(self) -> int:
        """How many waits a deployment makes: one per traffic step (and one bake for all at once)."""
        if self.strategy == "rolling":
            return math.ceil(100 / (self.rolling_batch_percent or 5))
        if self.routing() == "LINEAR":
            return math.ceil(100 / (self.linear_step_percent or 10))
        return 1

    def alarm_count(self) -> int:
        return len(self.rollback_alarms) + (DEFAULT_ALARMS if self.default_alarms else 0)


class Autoscaling(_Strict):
    """``autoscaling``: a scalable target on the variant and one target-tracking policy.

    The tracked metric follows the endpoint's kind: invocations per instance (instances),
    provisioned-concurrency utilisation (serverless), backlog per instance (asynchronous).
    """

    min_capacity: Annotated[int, Between(0, MAX_INSTANCES)]
    max_capacity: Annotated[int, Between(1, MAX_INSTANCES)]
    target_value: Annotated[float, _number(0, 1_000_000, low_open=True)]
    scale_in_cooldown_seconds: Annotated[int, Between(0, 3600)] = 300
    scale_out_cooldown_seconds: Annotated[int, Between(0, 3600)] = 60


def _memory(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail("must be a whole number of MB: 1024, 2048, 3072, 4096, 5120 or 6144")
    if value not in range(1024, 6145, 1024):
        raise fail(f"must be 1024, 2048, 3072, 4096, 5120 or 6144 (1 GB steps), got {value}")
    return value


class Serverless(_Strict):
    """``serverless``: ServerlessConfig (memory in 1 GB steps, 1-200 concurrent invocations)."""

    memory_size_mb: Annotated[int, BeforeValidator(_memory)]
    max_concurrency: Annotated[int, Between(1, 200)]
    provisioned_concurrency: Annotated[int, Between(1, 200)] | None = None


class AsyncInference(_Strict):
    """``async_inference``: AsyncInferenceConfig (where results and failures go, who is told)."""

    output_location: Staged[S3Location]
    failure_location: Staged[S3Location] | None = None
    success_topic_arn: Staged[SnsTopicArn] | None = None
    error_topic_arn: Staged[SnsTopicArn] | None = None
    max_concurrent_invocations_per_instance: Annotated[int, Between(1, 1000)] | None = None


class SmokeTest(_Strict):
    """``smoke_test``: after each stage's deploy, send this sample and expect this status within this time.

    A failure stops the pipeline before the next approval.
    """

    payload_key: AssetKey
    content_type: Text = "text/csv"
    expected_status: Annotated[int, Between(100, 599)] = 200
    max_latency_ms: Annotated[int, Between(1, MAX_LATENCY_MS)] = 1000


class Shadow(_Strict):
    """``shadow``: a candidate model beside the live one, sent a copy of a share of its requests.

    The endpoint config's ``ShadowProductionVariants``: SageMaker replicates the sampled requests
    to the shadow variant and returns only the production variant's answers to callers. The
    candidate runs on its own instances (by default as many, of the same type, as the production
    variant: AWS's advice, so that it is known to carry the load before it is promoted), in one
    stage of a multi-account installation.
    """

    model_artifact_location: AssetKey
    # Custom types only: the candidate's serving image (default: the model's custom_image_uri).
    custom_image_uri: ImageUri | None = None
    inference_instance: InstanceType | None = None
    initial_instance_count: Annotated[int, Between(1, MAX_INSTANCES)] | None = None
    # The share of the production variant's requests copied to the shadow (a shadow test's
    # SamplingPercentage, at most 100).
    sampling_percent: Annotated[int, Between(1, 100)] = 100
    variant_name: VariantName = "Shadow"
    stage: Annotated[str, OneOf(*STAGES)] | None = None


def _one_shadow(value: Any) -> Any:
    if isinstance(value, list):
        raise fail(
            "must be one object: SageMaker hosts at most one shadow variant on an endpoint (beside its one "
            "production variant)"
        )
    return value


OneShadow = Annotated[Shadow, BeforeValidator(_one_shadow)]
# The production variant's name, which the blueprint fixes (deployment guardrails need it stable).
PRODUCTION_VARIANT = "AllTraffic"


def _staged_problems(where: str, value: Any, settings: Settings) -> list[Problem]:
    if isinstance(value, StageValues) and not settings.multi_account:
        return [Problem(where, "per-stage values need a multi-account installation; give one value")]
    return []


def _location_problems(where: str, value: Any, settings: Settings) -> list[Problem]:
    if value is None or settings.allowed_buckets is None:
        return []
    own = {settings.assets_bucket, settings.blueprint_bucket, settings.config_bucket}
    found = []
    values = (
        [(f"{where}.{s}", getattr(value, s)) for s in STAGES] if isinstance(value, StageValues) else [(where, value)]
    )
    for path, location in values:
        bucket = location.split("/", 1)[0]
        if bucket not in own and not any(fnmatchcase(bucket, p) for p in settings.allowed_buckets):
            found.append(Problem(path, guardrails.bucket_problem(bucket, settings.allowed_buckets)))
    return found


def _instance_types(request: Any) -> list[str]:
    """Every instance type the endpoint runs on, in any stage: its variant's and its shadow variant's."""
    value = getattr(request, "inference_instance", None)
    shadow: Shadow | None = getattr(request, "shadow", None)
    extra = [shadow.inference_instance] if shadow is not None and shadow.inference_instance else []
    if value is None:
        return extra
    if isinstance(value, StageValues):
        return [for_stage(value, stage) for stage in STAGES] + extra
    return [value, *extra]


def shadow_in(request: Any, stage: str | None) -> Shadow | None:
    """The request's shadow variant if ``stage`` (None: a single account) is the one that gets it."""
    shadow: Shadow | None = getattr(request, "shadow", None)
    return shadow if shadow is not None and shadow.stage == stage else None


def shadow_instance(request: Any, shadow: Shadow, stage: str | None) -> str:
    """The shadow variant's instance type: as asked, else the production variant's in that stage."""
    return shadow.inference_instance or str(for_stage(request.inference_instance, stage))


def shadow_instance_count(request: Any, shadow: Shadow) -> int:
    """The shadow variant's InitialInstanceCount: as asked, else the production variant's."""
    return shadow.initial_instance_count or int(request.instance_count())


def deployment_problems(request: Any) -> list[Problem]:
    plan: Deployment | None = request.deployment
    if plan is None:
        return []
    found: list[Problem] = []
    if plan.strategy == "rolling":
        if request.serverless is not None:
            found.append(
                Problem("deployment.strategy", "rolling updates are not available for serverless endpoints (AWS "
                        "excludes them); use blue_green")
            )  # fmt: skip
        for name in ("traffic_routing", "canary_percent", "linear_step_percent"):
            if getattr(plan, name) is not None:
                found.append(Problem(f"deployment.{name}", "applies to blue_green deployments, not rolling ones"))
    else:
        if plan.rolling_batch_percent is not None:
            found.append(Problem("deployment.rolling_batch_percent", "applies to rolling deployments only"))
        routing = plan.routing()
        if plan.canary_percent is not None and routing != "CANARY":
            found.append(Problem("deployment.canary_percent", "applies when traffic_routing is CANARY"))
        if plan.linear_step_percent is not None and routing != "LINEAR":
            found.append(Problem("deployment.linear_step_percent", "applies when traffic_routing is LINEAR"))
        if routing == "CANARY" and plan.canary_percent is None:
            found.append(Problem("deployment.canary_percent", "is required when traffic_routing is CANARY (1-50)"))
        if routing == "LINEAR" and plan.linear_step_percent is None:
            found.append(
                Problem("deployment.linear_step_percent", "is required when traffic_routing is LINEAR (10-50)")
            )
    inf1 = [t for t in _instance_types(request) if t.startswith("ml.inf1.")]
    if inf1:
        found.append(
            Problem(
                "deployment",
                f"SageMaker applies no deployment guardrails to Inf1 instances ({inf1[0]}): an update goes blue/green "
                "all at once, with no baking period and no alarm rollback; remove deployment",
            )
        )
    if plan.alarm_count() > MAX_ROLLBACK_ALARMS:
        extra = " (2 of them the default alarms)" if plan.default_alarms else ""
        found.append(
            Problem(
                "deployment.rollback_alarms",
                f"names {plan.alarm_count()} alarms{extra}; SageMaker watches at most {MAX_ROLLBACK_ALARMS}",
            )
        )
    if len(set(plan.rollback_alarms)) != len(plan.rollback_alarms):
        found.append(Problem("deployment.rollback_alarms", "names the same alarm twice"))
    timeout = plan.maximum_execution_timeout_seconds
    waits = plan.wait_interval_seconds * plan.steps() + plan.termination_wait_seconds
    if timeout is not None and timeout <= waits:
        found.append(
            Problem(
                "deployment.maximum_execution_timeout_seconds",
                f"must exceed the deployment's waits: {plan.steps()} x wait_interval_seconds "
                f"{plan.wait_interval_seconds} + termination_wait_seconds {plan.termination_wait_seconds} = {waits}",
            )
        )
    return found


def autoscaling_problems(request: Any) -> list[Problem]:
    scaling: Autoscaling | None = request.autoscaling
    found: list[Problem] = []
    count = request.initial_instance_count
    if scaling is None:
        return found
    if scaling.min_capacity > scaling.max_capacity:
        found.append(Problem("autoscaling.min_capacity", f"is above max_capacity {scaling.max_capacity}"))
    if request.serverless is not None:
        limit = request.serverless.max_concurrency
        if request.serverless.provisioned_concurrency is None:
            found.append(
                Problem("autoscaling", "a serverless endpoint scales its provisioned concurrency: give "
                        "serverless.provisioned_concurrency")
            )  # fmt: skip
        if scaling.min_capacity < 1:
            found.append(Problem("autoscaling.min_capacity", "must be at least 1 for provisioned concurrency"))
        if scaling.max_capacity > limit:
            found.append(Problem("autoscaling.max_capacity", f"is above serverless.max_concurrency {limit}"))
        if scaling.target_value > 1:
            found.append(
                Problem("autoscaling.target_value", "is a provisioned-concurrency utilisation for serverless "
                        "endpoints: above 0 and at most 1 (e.g. 0.5)")
            )  # fmt: skip
        return found
    if scaling.min_capacity == 0 and request.async_inference is None:
        found.append(
            Problem("autoscaling.min_capacity", "only asynchronous endpoints scale to zero instances; use 1 or more")
        )
    if count is not None and not max(scaling.min_capacity, 1) <= count <= scaling.max_capacity:
        found.append(
            Problem("initial_instance_count", f"must lie between autoscaling.min_capacity and max_capacity ({count})")
        )
    return found


def serverless_problems(request: Any, settings: Settings) -> list[Problem]:
    """What serverless endpoints refuse (SageMaker Serverless Inference's feature exclusions)."""
    serverless: Serverless | None = request.serverless
    if serverless is None:
        return []
    why = {
        "inference_instance": "serverless endpoints run on SageMaker-managed CPU capacity: they take no instance "
        "type (and no GPU); remove it",
        "initial_instance_count": "serverless endpoints have no instances; remove it",
        "data_capture_location": "serverless endpoints do not support data capture (nor Model Monitor); remove it",
        "vpc_config": "serverless endpoints do not support VPC configuration; remove it or use instances",
        "async_inference": "asynchronous inference runs on instances, not on serverless endpoints",
    }
    found = [Problem(key, text) for key, text in why.items() if getattr(request, key, None) is not None]
    if request.enable_network_isolation:
        found.append(Problem("enable_network_isolation", "serverless endpoints do not support network isolation"))
    provisioned = serverless.provisioned_concurrency
    if provisioned is not None and provisioned > serverless.max_concurrency:
        found.append(
            Problem(
                "serverless.provisioned_concurrency",
                f"is {provisioned}, more than max_concurrency {serverless.max_concurrency}; SageMaker takes at most "
                "max_concurrency",
            )
        )
    package = marketplace_package(getattr(request, "model_package_name", None), settings)
    if package:
        found.append(
            Problem(
                "serverless",
                f"model_package_name {package} is an AWS Marketplace model (an unversioned package of another "
                "account), which serverless endpoints do not host; remove serverless or deploy on instances",
            )
        )
    return found


def shadow_problems(request: Any, settings: Settings) -> list[Problem]:
    """What a shadow variant excludes (SageMaker's shadow variants and the features they do not join)."""
    shadow: Shadow | None = getattr(request, "shadow", None)
    if shadow is None:
        return []
    found: list[Problem] = []
    if settings.multi_account and shadow.stage is None:
        found.append(
            Problem("shadow.stage", f"is required in a multi-account installation: the stage whose endpoint gets "
                    f"the shadow variant ({', '.join(STAGES)})")
        )  # fmt: skip
    if not settings.multi_account and shadow.stage is not None:
        found.append(
            Problem("shadow.stage", "applies to multi-account installations; this one deploys a single endpoint, "
                    "which gets the shadow variant: leave stage out")
        )  # fmt: skip
    if settings.use_model_registry or request.model_package_name or request.model_package_group_name:
        found.append(
            Problem("shadow", "is built from an artifact in the assets bucket and an image, not from a model "
                    "package: it is not available when the model comes from the model registry")
        )  # fmt: skip
    if request.serverless is not None:
        found.append(
            Problem("shadow", "serverless endpoints host a single variant (Serverless Inference excludes multiple "
                    "variants): a shadow variant needs an endpoint on instances")
        )  # fmt: skip
    if request.async_inference is not None:
        found.append(
            Problem("shadow", "SageMaker replicates the requests of real-time endpoints to shadow variants; an "
                    "asynchronous endpoint queues its requests instead: remove shadow or async_inference")
        )  # fmt: skip
    if request.deployment is not None and request.deployment.strategy == "rolling":
        found.append(
            Problem("deployment.strategy", "rolling updates exclude multi-variant endpoints (SageMaker's deployment "
                    "guardrails), and a shadow variant is a second variant: use blue_green")
        )  # fmt: skip
    if shadow.variant_name.lower() == PRODUCTION_VARIANT.lower():
        found.append(
            Problem("shadow.variant_name", f"names the production variant, {PRODUCTION_VARIANT}: an endpoint "
                    "config's variants need names of their own")
        )  # fmt: skip
    if shadow.custom_image_uri is not None and "custom_image_uri" not in type(request).model_fields:
        found.append(
            Problem("shadow.custom_image_uri", f"applies to byom_realtime_custom; {request.TYPE_NAME} serves the "
                    "shadow variant with the model's built-in algorithm image")
        )  # fmt: skip
    found += _shadow_volume_key_problems(request, shadow)
    return found


def _shadow_volume_key_problems(request: Any, shadow: Shadow) -> list[Problem]:
    """The endpoint config's KmsKeyId encrypts every variant's volumes, the shadow's too (models/instances.py)."""
    stage = shadow.stage
    key = for_stage(request.kms_key_arn, stage) if stage or not isinstance(request.kms_key_arn, StageValues) else None
    instance = shadow.inference_instance
    if not key or not instance or not instances.has_local_storage(instance):
        return []
    where_key = f"kms_key_arn.{stage}" if isinstance(request.kms_key_arn, StageValues) else "kms_key_arn"
    return [
        Problem(
            "shadow.inference_instance",
            f"{instance} has local NVMe instance storage, which the instance encrypts itself; SageMaker refuses the "
            f"endpoint's volume KMS key ({where_key}) with it: choose an instance type without local storage "
            "(such as ml.m5.xlarge) or leave kms_key_arn out",
        )
    ]


def marketplace_package(package: Any, settings: Settings) -> str:
    """``package`` when it is an AWS Marketplace model package, else "". A Marketplace model is
    an unversioned model package (no group, no version) of an account outside the installation."""
    if not isinstance(package, str) or not package.startswith("arn:") or ":model-package/" not in package:
        return ""
    account, name = package.split(":")[4], package.split(":model-package/", 1)[-1]
    ours = {settings.account_id, *(account_id for _, account_id in settings.stage_accounts)} - {""}
    return "" if "/" in name or account in ours else package


def marketplace_problems(request: Any, settings: Settings) -> list[Problem]:
    """SageMaker applies no deployment guardrails to AWS Marketplace containers."""
    package = marketplace_package(getattr(request, "model_package_name", None), settings)
    if request.deployment is None or not package:
        return []
    return [
        Problem(
            "deployment",
            f"model_package_name {package} is an unversioned package of account {package.split(':')[4]}, as AWS "
            "Marketplace models are; SageMaker applies no deployment guardrails to Marketplace containers (an "
            "update goes blue/green all at once, with no baking period and no alarm rollback): remove deployment",
        )
    ]


def endpoint_problems(request: Any, settings: Settings) -> list[Problem]:
    """Every rule that joins the endpoint settings of a real-time request."""
    found = serverless_problems(request, settings)
    found += deployment_problems(request)
    found += marketplace_problems(request, settings)
    found += autoscaling_problems(request)
    found += shadow_problems(request, settings)
    asynchronous: AsyncInference | None = request.async_inference
    if asynchronous is not None:
        for name in ("output_location", "failure_location", "success_topic_arn", "error_topic_arn"):
            found += _staged_problems(f"async_inference.{name}", getattr(asynchronous, name), settings)
        for name in ("output_location", "failure_location"):
            found += _location_problems(f"async_inference.{name}", getattr(asynchronous, name), settings)
    found += _staged_problems("vpc_config", request.vpc_config, settings)
    if request.smoke_test is not None and asynchronous is not None:
        found.append(
            Problem("smoke_test", "asynchronous endpoints answer through S3 (InvokeEndpointAsync); the smoke test "
                    "sends one synchronous request: remove smoke_test or async_inference")
        )  # fmt: skip
    return found
