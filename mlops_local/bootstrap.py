"""Create the control-plane resources the orchestrator needs in an account or emulator.

``sam deploy`` does this in AWS; local mode, the demo and the tests call :func:`bootstrap`
against the embedded emulator. Blueprints and their zipped function code are installed
under an immutable version prefix, as the control plane's installer does.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .files import BLUEPRINTS

ACCOUNT = "123456789012"


def product_version() -> str:
    try:
        return version("mlops-orchestrator")
    except PackageNotFoundError:
        return "0.0.0"


def _installer() -> Any:
    """blueprints/installer.py: the same code the control plane's custom resource runs."""
    spec = importlib.util.spec_from_file_location("mlops_blueprint_installer", BLUEPRINTS / "installer.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


installer = _installer()


def blueprint_files() -> dict[str, bytes]:
    """Every object the installer puts under the version prefix, by relative key."""
    return dict(installer.pack_files(BLUEPRINTS))


@dataclass(frozen=True)
class ControlPlane:
    region: str = "us-east-1"
    stack_prefix: str = "mlops-pipeline"
    assets_bucket: str = f"mlops-assets-{ACCOUNT}"
    blueprint_bucket: str = f"mlops-blueprints-{ACCOUNT}"
    config_bucket: str = f"mlops-config-{ACCOUNT}"
    topic_name: str = "mlops-notifications"
    blueprint_prefix: str = field(default_factory=lambda: installer.prefix_for(product_version(), blueprint_files()))
    # stage -> account of multi-account promotion (empty: a single-account installation)
    stage_accounts: tuple[tuple[str, str], ...] = ()

    @property
    def boundary_name(self) -> str:
        """The permissions boundary the control plane installs (the emulator does not enforce it)."""
        return f"{self.stack_prefix}-roles-boundary-{self.region}"

    @property
    def layer_name(self) -> str:
        return f"{self.stack_prefix}-sagemaker-sdk"

    @property
    def layer_arn(self) -> str:
        """Version 1 of the SageMaker SDK layer; local mode runs its functions with the layer's venv."""
        return f"arn:aws:lambda:{self.region}:{ACCOUNT}:layer:{self.layer_name}:1"

    @property
    def topic_arn(self) -> str:
        return f"arn:aws:sns:{self.region}:{ACCOUNT}:{self.topic_name}"

    def env(self) -> dict[str, str]:
        """The orchestrator's environment, as the SAM template sets it."""
        return {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "PIPELINE_STACK_NAME": self.stack_prefix,
            "ASSETS_BUCKET": self.assets_bucket,
            "BLUEPRINT_BUCKET": self.blueprint_bucket,
            "BLUEPRINT_PREFIX": self.blueprint_prefix,
            "CONFIG_BUCKET": self.config_bucket,
            "MLOPS_NOTIFICATIONS_SNS_TOPIC": self.topic_arn,
            "CFN_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/{self.stack_prefix}-deploy-{self.region}",
            "IS_MULTI_ACCOUNT": str(bool(self.stage_accounts)),
            **{f"{stage.upper()}_ACCOUNT_ID": account for stage, account in self.stage_accounts},
            "USE_MODEL_REGISTRY": "No",
            "ECR_REPO_ARN": f"arn:aws:ecr:{self.region}:{ACCOUNT}:repository/mlops-ecr-repo",
            "PERMISSIONS_BOUNDARY_ARN": f"arn:aws:iam::{ACCOUNT}:policy/{self.boundary_name}",
            "SAGEMAKER_LAYER_ARN": self.layer_arn,
        }

    def bootstrap(self, session: Any) -> None:
        """Create buckets (versioned where CodePipeline or ordering needs it), topic, blueprints."""
        s3 = session.client("s3", region_name=self.region)
        for bucket in (self.assets_bucket, self.blueprint_bucket, self.config_bucket):
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        session.client("sns", region_name=self.region).create_topic(Name=self.topic_name)
        boundary = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        session.client("iam").create_policy(PolicyName=self.boundary_name, PolicyDocument=json.dumps(boundary))
        prefix = installer.install(s3, self.blueprint_bucket, product_version(), blueprint_files())
        assert prefix == self.blueprint_prefix
        self._publish_layer(session, ACCOUNT)
        for _, account in self.stage_accounts:
            # The control plane lets the stage accounts use its layer; the emulator finds a
            # layer by name in the function's own account, so each account gets the same one.
            role = f"arn:aws:iam::{account}:role/mlops-local-bootstrap"
            self._publish_layer(assumed_session(session, self.region, role, "bootstrap"), account)

    def _publish_layer(self, session: Any, account: str) -> None:
        """The layer's packages are not in the emulator: :mod:`.lambdas` supplies them."""
        published = session.client("lambda", region_name=self.region).publish_layer_version(
            LayerName=self.layer_name,
            Description="SageMaker Python SDK (local mode: the layer's venv)",
            Content={"ZipFile": _empty_zip()},
            CompatibleRuntimes=["python3.12"],
        )
        assert published["LayerVersionArn"] == self.layer_arn.replace(ACCOUNT, account)


def _empty_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/.layer", "")
    return buffer.getvalue()


def assumed_session(session: Any, region: str, role_arn: str, name: str) -> Any:
    """A boto3 session in the account of ``role_arn``, from ``session``'s credentials."""
    import boto3

    credentials = session.client("sts", region_name=region).assume_role(RoleArn=role_arn, RoleSessionName=name)[
        "Credentials"
    ]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
