"""Field types shared by the request models.

Each type normalises what the original solution accepted (numbers as strings,
``bucket/prefix`` or ``s3://bucket/prefix``, ``"True"``/``true``) into one canonical value, so
two bodies that mean the same thing validate to the same model and render the same bytes. Messages are
written for the person who sent the body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeAlias, TypeVar, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Tag, ValidationInfo
from pydantic_core import PydanticCustomError

from ..body import NotJson, read_json
from ..errors import ValidationFailed
from ..settings import STAGES as STAGES  # the stages of multi-account promotion

T = TypeVar("T")


def fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("mlops", message)


# C0 controls, DEL and C1 controls; no field that goes through _text takes a line break.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# The same, less tab, line feed and carriage return: for prose (model card descriptions).
_CONTROL_IN_PROSE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_problem(text: str, allowed_breaks: bool = False) -> str | None:
    """Why ``text`` is refused for holding a control character, or None."""
    found = (_CONTROL_IN_PROSE if allowed_breaks else _CONTROL).search(text)
    if found is None:
        return None
    return (
        f"holds the control character U+{ord(found.group()):04X} at position {found.start()}; "
        "only printable characters are accepted"
    )


def _text(value: Any, what: str = "a string") -> str:
    if isinstance(value, bool) or not isinstance(value, str):
        raise fail(f"must be {what}, got {_kind(value)}")
    problem = control_problem(value)
    if problem:
        raise fail(problem)
    text = value.strip()
    if not text:
        raise fail("must not be empty")
    return text


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def pattern(regex: str, explain: str, max_len: int, lower: bool = False) -> Callable[[Any], str]:
    # ASCII: AWS's patterns are; in Python \d and \w would take any script's digits and letters.
    compiled = re.compile(regex, re.ASCII)

    def check(value: Any) -> str:
        text = _text(value)
        if lower:
            text = text.lower()
        if len(text) > max_len:
            raise fail(f"is {len(text)} characters long; at most {max_len} are allowed")
        if not compiled.fullmatch(text):
            raise fail(f"{text!r} is not valid: {explain}")
        return text

    return check


# --- names -------------------------------------------------------------------------------

SAGEMAKER_NAME = r"[a-zA-Z0-9](-*[a-zA-Z0-9])*"
SAGEMAKER_NAME_RULE = "use letters, digits and hyphens, starting and ending with a letter or digit"
# The SageMaker Model carries an 8-character content hash: "<model_name>-<hash>" <= 63.
MODEL_NAME_MAX = 63 - 9

ModelName = Annotated[str, BeforeValidator(pattern(SAGEMAKER_NAME, SAGEMAKER_NAME_RULE, MODEL_NAME_MAX))]
# A production or shadow variant's name (ProductionVariant VariantName: 1-63, [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}).
VariantName = Annotated[str, BeforeValidator(pattern(SAGEMAKER_NAME, SAGEMAKER_NAME_RULE, 63))]
EndpointName = Annotated[str, BeforeValidator(pattern(SAGEMAKER_NAME, SAGEMAKER_NAME_RULE, 63, lower=True))]
JobName = Annotated[str, BeforeValidator(pattern(SAGEMAKER_NAME, SAGEMAKER_NAME_RULE, 63))]
RunId = Annotated[
    str, BeforeValidator(pattern(r"[a-zA-Z0-9][a-zA-Z0-9._-]*", "use letters, digits, '.', '_' and '-'", 64))
]
EcrRepoName = Annotated[
    str,
    BeforeValidator(
        pattern(
            r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
            "ECR repository names use lowercase letters, digits and . _ - /",
            256,
        )
    ),
]
ImageTag = Annotated[
    str,
    BeforeValidator(pattern(r"[a-zA-Z0-9_][a-zA-Z0-9_.-]*", "image tags use letters, digits, '_', '.' and '-'", 128)),
]
InstanceType = Annotated[
    str,
    BeforeValidator(pattern(r"ml\.[a-z0-9]+\.[a-z0-9]+", "expected a SageMaker instance type such as ml.m5.large", 64)),
]


_KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+", re.ASCII)
_KMS_ALIAS = re.compile(r"(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:)?alias/.+", re.ASCII)


def _kms_key_arn(value: Any) -> str:
    """A KMS key ARN. Not an alias: IAM policies match a key only by its key ARN, so the
    pipeline's roles, whose statements name this value, could never use a key named by alias."""
    text = _text(value)
    if len(text) > 2048:
        raise fail(f"is {len(text)} characters long; at most 2048 are allowed")
    if _KMS_ALIAS.fullmatch(text):
        raise fail(
            f"{text!r} is a KMS alias: IAM cannot grant the use of a key through its alias, so the pipeline's "
            "roles could not use it; give the key ARN (aws kms describe-key --key-id <alias> "
            "--query KeyMetadata.Arn)"
        )
    if not _KMS_KEY_ARN.fullmatch(text):
        raise fail(
            f"{text!r} is not valid: expected a KMS key ARN such as arn:aws:kms:us-east-1:111122223333:key/<key-id>"
        )
    return text


KmsKeyArn = Annotated[str, BeforeValidator(_kms_key_arn)]
ImageUri = Annotated[
    str,
    BeforeValidator(
        pattern(
            r"[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+"
            r"(:[A-Za-z0-9_.-]{1,128}|@sha256:[a-f0-9]{64})",
            "expected an ECR image URI such as 111122223333.dkr.ecr.us-east-1.amazonaws.com/repo:tag",
            2048,
        )
    ),
]
# A model package: a versioned package's ARN (``model-package/<group>/<version>``), or an
# unversioned package's ARN or name (DescribeModelPackage and CreateModel take either). The
# orchestrator looks the package up when the request arrives and keeps the ARN it answers.
ModelPackageArn = Annotated[
    str,
    BeforeValidator(
        pattern(
            rf"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{{12}}:model-package/{SAGEMAKER_NAME}(/[0-9]+)?"
            rf"|{SAGEMAKER_NAME}",
            "expected a versioned model package ARN such as "
            "arn:aws:sagemaker:us-east-1:111122223333:model-package/my-group/1 (or an unversioned package's "
            "name or ARN)",
            2048,
        )
    ),
]
Text = Annotated[str, BeforeValidator(pattern(r".+", "must not be empty", 1024))]


def _framework_version(value: Any) -> str:
    # The original solution's users write versions both as "1" and 1.
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return pattern(r"[a-zA-Z0-9][a-zA-Z0-9._-]*", "expected a version such as 1.7-1", 64)(value)


FrameworkVersion = Annotated[str, BeforeValidator(_framework_version)]
Framework = Annotated[
    str, BeforeValidator(pattern(r"[a-z0-9][a-z0-9-]*", "expected an algorithm name such as xgboost", 64))
]

# --- schedules ---------------------------------------------------------------------------

_CRON = re.compile(r"cron\(([!-~]+ ){5}[!-~]+\)", re.ASCII)
_RATE = re.compile(r"rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)", re.ASCII)


def _cron(value: Any) -> str:
    text = _text(value)
    if not (_CRON.fullmatch(text) or _RATE.fullmatch(text)):
        raise fail(
            f"{text!r} is not valid: expected cron with six fields, e.g. cron(0 * ? * * *), "
            "or (serverless engine) rate(1 hour)"
        )
    return text


def is_rate(expression: str) -> bool:
    return bool(_RATE.fullmatch(expression))


CronExpression = Annotated[str, BeforeValidator(_cron)]

# --- S3 ----------------------------------------------------------------------------------

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
_IP = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", re.ASCII)


def check_bucket(bucket: str) -> str | None:
    """Why ``bucket`` is not a valid S3 bucket name, or None."""
    if not _BUCKET.fullmatch(bucket) or ".." in bucket or _IP.fullmatch(bucket):
        return (
            f"{bucket!r} is not a valid bucket name: 3-63 lowercase letters, digits, '.' and '-', "
            "starting and ending with a letter or digit"
        )
    return None


def _key(key: str) -> str:
    if key.startswith("/") or "//" in key:
        raise fail(f"{key!r} is not a valid S3 key: no leading or doubled '/'")
    if len(key.encode()) > 1024:
        raise fail("S3 keys are at most 1024 bytes")
    if any(part in (".", "..") for part in key.split("/")):
        raise fail(f"{key!r} is not a valid S3 key: no '.' or '..' path segments")
    return key


def _s3_location(value: Any) -> str:
    """``bucket[/prefix]`` or ``s3://bucket[/prefix]`` -> ``bucket[/prefix]`` with no trailing '/'."""
    text = _text(value)
    if text.startswith("s3://"):
        text = text[5:]
    elif "://" in text:
        raise fail(f"{text!r} is not an S3 location: use bucket/prefix or s3://bucket/prefix")
    text = text.rstrip("/")
    bucket, _, key = text.partition("/")
    problem = check_bucket(bucket)
    if problem:
        raise fail(problem)
    if key:
        _key(key)
    return text


@dataclass(frozen=True)
class S3LocationMarker:
    """Marks a field type as an S3 location: the bucket guardrail checks every field whose type carries it."""


S3_LOCATION = S3LocationMarker()
S3Location = Annotated[str, BeforeValidator(_s3_location), S3_LOCATION]


def asset_key(value: Any, info: ValidationInfo) -> str:
    """A key in the control plane's assets bucket; ``s3://<assets bucket>/key`` is accepted too."""
    text = _text(value)
    if text.startswith("s3://"):
        bucket, _, key = text[5:].partition("/")
        assets = (info.context or {}).get("assets_bucket")
        if assets and bucket != assets:
            raise fail(f"must be a key in the assets bucket {assets!r}, not in {bucket!r}")
        text = key
    if not text:
        raise fail("must name an object key")
    return _key(text.rstrip("/") if text.endswith("/") and len(text) > 1 else text)


AssetKey = Annotated[str, BeforeValidator(asset_key)]

# --- numbers and flags -------------------------------------------------------------------


# int() and float() read any script's digits ("١٢" is 12); requests take ASCII digits only.
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?", re.ASCII)


def int_range(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool):
            raise fail("must be a whole number, got a boolean")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and _DIGITS.fullmatch(value.strip(" ")):
            value = int(value)
        if not isinstance(value, int):
            raise fail(f"must be a whole number (or a string of digits), got {_kind(value)}")
        if not low <= value <= high:
            raise fail(f"must be between {low} and {high}, got {value}")
        return value

    return check


def Between(low: int, high: int) -> BeforeValidator:
    """Use as ``Annotated[int, Between(1, 100)]``: a whole number (or digit string) in range."""
    return BeforeValidator(int_range(low, high))


def _fraction(value: Any) -> str:
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip(" ")):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(f"must be a number between 0 and 1, got {_kind(value)}")
    number = float(value)
    if not 0 <= number <= 1:
        raise fail(f"must be between 0 and 1, got {number}")
    return repr(number)


Fraction = Annotated[str, BeforeValidator(_fraction)]


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise fail(f'must be true or false (or "True"/"False"), got {_kind(value)}')


Flag = Annotated[bool, BeforeValidator(_flag)]


def OneOf(*options: str, empty: str | None = None) -> BeforeValidator:
    """Use as ``Annotated[str, OneOf("a", "b")]``; ``""`` maps to ``empty`` when given."""

    def check(value: Any) -> str:
        if empty is not None and value in ("", None):
            return empty
        text = _text(value)
        if text not in options:
            raise fail(f"{text!r} is not one of: {', '.join(options)}")
        return text

    return BeforeValidator(check)


ProblemType = Annotated[str, OneOf("BinaryClassification", "MulticlassClassification", "Regression")]

# --- JSON objects carried through to SageMaker configs ----------------------------------


def embedded_json(text: str) -> Any:
    """The JSON a string-valued field carries, read under the body's rules (``body.read_json``).

    Raises ``NotJson`` if the string is not JSON; a breach of the rules is a field error
    naming the path inside the string.
    """
    try:
        return read_json(text)
    except ValidationFailed as exc:
        where = "; ".join(f"{p.field}: {p.problem}" if p.field else p.problem for p in exc.problems)
        raise fail(f"holds JSON that breaks the request rules: {where}") from None


def json_object(value: Any) -> Any:
    """A JSON object, or a string holding one (the original solution's users sometimes JSON-encode these)."""
    if isinstance(value, str):
        try:
            return embedded_json(value)
        except NotJson:
            raise fail("must be a JSON object (or a string holding one)") from None
    return value


# --- per-stage values --------------------------------------------------------------------


class StageValues(BaseModel, Generic[T]):
    """``{"dev": ..., "staging": ..., "prod": ...}``: one value per deployment stage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dev: T
    staging: T
    prod: T


def _stage_tag(value: Any) -> str:
    return "stages" if isinstance(value, dict | StageValues) else "value"


def _object_stage_tag(value: Any) -> str:
    """For object-valued fields (a VPC config): per-stage values when the keys name a stage."""
    if isinstance(value, StageValues) or (isinstance(value, dict) and set(value) & set(STAGES)):
        return "stages"
    return "value"


if TYPE_CHECKING:
    Staged: TypeAlias = Union[T, StageValues[T]]  # noqa: UP007
else:

    class Staged:
        """``Staged[X]``: a field the original solution reads per stage, one X or a dict of three.

        Built per inner type: a generic alias would lose X's validators inside StageValues.
        """

        def __class_getitem__(cls, inner: Any) -> Any:
            is_object = isinstance(inner, type) and issubclass(inner, BaseModel)
            return Annotated[
                Union[Annotated[inner, Tag("value")], Annotated[StageValues[inner], Tag("stages")]],  # noqa: UP007
                Discriminator(_object_stage_tag if is_object else _stage_tag),
            ]


def for_stage(value: Any, stage: str | None) -> Any:
    """The value of a possibly per-stage field in ``stage`` (None: single-account)."""
    if isinstance(value, StageValues):
        if stage is None:
            raise ValueError("a per-stage value needs a stage")
        return getattr(value, stage)
    return value


# --- networks, topics, alarms ------------------------------------------------------------

SubnetId = Annotated[
    str, BeforeValidator(pattern(r"subnet-[0-9a-z]+", "expected a subnet ID such as subnet-0123456789abcdef0", 32))
]
SecurityGroupId = Annotated[
    str,
    BeforeValidator(pattern(r"sg-[0-9a-zA-Z]+", "expected a security group ID such as sg-0123456789abcdef0", 32)),
]
SnsTopicArn = Annotated[
    str,
    BeforeValidator(
        pattern(
            r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[a-zA-Z0-9_.-]+",
            "expected an SNS topic ARN such as arn:aws:sns:us-east-1:111122223333:my-topic",
            1024,
        )
    ),
]
# CloudWatch alarm names: 1-255 characters, not only blanks (PutMetricAlarm AlarmName).
AlarmName = Annotated[str, BeforeValidator(pattern(r".+", "must not be empty", 255))]


def _id_list(low: int, high: int, what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise fail(f"must be a list of {what}, got {_kind(value)}")
        if not low <= len(value) <= high:
            raise fail(f"must list {low} to {high} {what}, got {len(value)}")
        if len(set(map(str, value))) != len(value):
            raise fail(f"lists the same {what[:-1]} twice")
        return value

    return check


class VpcConfig(BaseModel):
    """Where a model or job's containers run: SageMaker attaches them to these subnets and groups.

    The bounds are SageMaker's (VpcConfig: 1-16 subnets, 1-5 security groups).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    subnets: Annotated[list[SubnetId], BeforeValidator(_id_list(1, 16, "subnet IDs"))]
    security_group_ids: Annotated[list[SecurityGroupId], BeforeValidator(_id_list(1, 5, "security group IDs"))]

    def api(self) -> dict[str, list[str]]:
        """SageMaker's ``VpcConfig`` (CreateTrainingJob, CreateProcessingJob, CreateAutoMLJobV2, ...)."""
        return {"Subnets": list(self.subnets), "SecurityGroupIds": list(self.security_group_ids)}
