"""Control-plane settings, resolved from environment variables on each use.

The SAM template sets these on the orchestrator functions; local mode and tests set them
in the process. Names live here and nowhere else. Nothing is read at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# Environment variable names (the same names the original solution used, where it had one).
PIPELINE_STACK_NAME = "PIPELINE_STACK_NAME"
ASSETS_BUCKET = "ASSETS_BUCKET"
BLUEPRINT_BUCKET = "BLUEPRINT_BUCKET"
BLUEPRINT_PREFIX = "BLUEPRINT_PREFIX"
CONFIG_BUCKET = "CONFIG_BUCKET"
NOTIFICATIONS_TOPIC = "MLOPS_NOTIFICATIONS_SNS_TOPIC"
CFN_ROLE_ARN = "CFN_ROLE_ARN"
IS_MULTI_ACCOUNT = "IS_MULTI_ACCOUNT"
USE_MODEL_REGISTRY = "USE_MODEL_REGISTRY"
ECR_REPO_ARN = "ECR_REPO_ARN"
REGION = "AWS_REGION"
PERMISSIONS_BOUNDARY_ARN = "PERMISSIONS_BOUNDARY_ARN"
ALLOWED_S3_BUCKETS = "ALLOWED_S3_BUCKETS"
ALLOWED_ECR_REGISTRIES = "ALLOWED_ECR_REGISTRIES"
SAGEMAKER_LAYER_ARN = "SAGEMAKER_LAYER_ARN"
ALLOW_DETAILED_ERRORS = "ALLOW_DETAILED_ERRORS"
DEFAULT_MONITOR_ENGINE = "DEFAULT_MONITOR_ENGINE"
# The installation's customer-managed key (buckets, topic), "" for AWS-managed encryption.
INSTALLATION_KMS_KEY_ARN = "INSTALLATION_KMS_KEY_ARN"
# Multi-account promotion: <STAGE>_ACCOUNT_ID and <STAGE>_ORG_ID for dev, staging and prod.
STAGE_ACCOUNT_ID = "{}_ACCOUNT_ID"
STAGE_ORG_ID = "{}_ORG_ID"
MONITOR_ENGINES = ("sagemaker", "serverless")
CONFIG_FILE_NAME = "mlops-config.json"
RESULT_SUFFIX = ".result.json"

_TRUE = {"true", "yes", "1"}
STAGES = ("dev", "staging", "prod")


def _flag(name: str, default: str = "") -> bool:
    return os.environ.get(name, default).strip().lower() in _TRUE


def _patterns(name: str) -> tuple[str, ...] | None:
    """A comma-separated allow list; None when the variable is unset (no guardrail)."""
    value = os.environ.get(name)
    if value is None:
        return None
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _engine(value: str) -> str:
    value = value.strip().lower()
    return value if value in MONITOR_ENGINES else "serverless"


@dataclass(frozen=True)
class Settings:
    """A snapshot of the control plane's configuration."""

    stack_prefix: str
    assets_bucket: str
    blueprint_bucket: str
    blueprint_prefix: str
    config_bucket: str
    notifications_topic_arn: str
    cfn_role_arn: str
    multi_account: bool
    use_model_registry: bool
    ecr_repo_arn: str
    region: str
    permissions_boundary_arn: str = ""
    # Guardrails: buckets and ECR registries requests may name (None: not restricted).
    allowed_buckets: tuple[str, ...] | None = None
    allowed_ecr_registries: tuple[str, ...] | None = None
    sagemaker_layer_arn: str = ""
    detailed_errors: bool = True
    # Engine of data/model quality monitors whose request names none.
    default_monitor_engine: str = "serverless"
    # Multi-account promotion: stage -> account id / organizational unit id ("" for none).
    stage_accounts: tuple[tuple[str, str], ...] = ()
    stage_org_units: tuple[tuple[str, str], ...] = ()
    # The key the installation's buckets and topic are encrypted with ("": AWS-managed keys).
    installation_kms_key_arn: str = ""

    @property
    def account_id(self) -> str:
        """This (the orchestrator's) account, read from an ARN the installation gives."""
        for arn in (self.cfn_role_arn, self.notifications_topic_arn, self.permissions_boundary_arn):
            parts = arn.split(":")
            if len(parts) > 4 and parts[4].isascii() and parts[4].isdigit():
                return parts[4]
        return ""

    def stage_account(self, stage: str) -> str:
        return dict(self.stage_accounts).get(stage, "")

    def stage_org_unit(self, stage: str) -> str:
        return dict(self.stage_org_units).get(stage, "")

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        return cls(
            stack_prefix=env(PIPELINE_STACK_NAME, "mlops-pipeline"),
            assets_bucket=env(ASSETS_BUCKET, ""),
            blueprint_bucket=env(BLUEPRINT_BUCKET, ""),
            blueprint_prefix=env(BLUEPRINT_PREFIX, "blueprints").strip("/"),
            config_bucket=env(CONFIG_BUCKET, ""),
            notifications_topic_arn=env(NOTIFICATIONS_TOPIC, ""),
            cfn_role_arn=env(CFN_ROLE_ARN, ""),
            multi_account=_flag(IS_MULTI_ACCOUNT),
            use_model_registry=_flag(USE_MODEL_REGISTRY),
            ecr_repo_arn=env(ECR_REPO_ARN, ""),
            region=env(REGION) or env("AWS_DEFAULT_REGION") or "us-east-1",
            permissions_boundary_arn=env(PERMISSIONS_BOUNDARY_ARN, ""),
            allowed_buckets=_patterns(ALLOWED_S3_BUCKETS),
            allowed_ecr_registries=_patterns(ALLOWED_ECR_REGISTRIES),
            sagemaker_layer_arn=env(SAGEMAKER_LAYER_ARN, ""),
            detailed_errors=_flag(ALLOW_DETAILED_ERRORS, "yes"),
            default_monitor_engine=_engine(env(DEFAULT_MONITOR_ENGINE, "serverless")),
            stage_accounts=tuple((st, env(STAGE_ACCOUNT_ID.format(st.upper()), "")) for st in STAGES),
            stage_org_units=tuple((st, env(STAGE_ORG_ID.format(st.upper()), "")) for st in STAGES),
            installation_kms_key_arn=env(INSTALLATION_KMS_KEY_ARN, ""),
        )


def get_settings() -> Settings:
    return Settings.from_env()
