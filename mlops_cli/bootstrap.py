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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BLUEPRINTS = ROOT / "blueprints"
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
            "CFN_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/mlops-pipeline-deploy",
            "IS_MULTI_ACCOUNT": str(bool(self.stage_accounts)),
            **{f"{stage.upper()}_ACCOUNT_ID": account for stage, account in self.stage_accounts},
            "USE_MODEL_REGISTRY": "No",
            "ECR_REPO_ARN": f"arn:aws:ecr:{self.region}:{ACCOUNT}:repository/mlops-ecr-repo",
            "PERMISSIONS_BOUNDARY_ARN": f"arn:aws:iam::{ACCOUNT}:policy/{self.boundary_name}",
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
