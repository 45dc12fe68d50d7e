"""Create the control-plane resources the orchestrator needs in an account or emulator.

``sam deploy`` does this in AWS; local mode, the demo and the tests call :func:`bootstrap`
against the embedded emulator. Blueprints and their zipped function code are installed
under an immutable version prefix, as the control plane's installer does.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BLUEPRINTS = ROOT / "blueprints"
FUNCTIONS = BLUEPRINTS / "functions"
ACCOUNT = "123456789012"


def product_version() -> str:
    try:
        return version("mlops-orchestrator")
    except PackageNotFoundError:
        return "0.0.0"


def function_zip(directory: Path) -> bytes:
    """A byte-stable zip of one blueprint function's source files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(directory.rglob("*.py")):
            if "tests" in path.relative_to(directory).parts:
                continue
            info = zipfile.ZipInfo(str(path.relative_to(directory)), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def blueprint_files() -> dict[str, bytes]:
    """Every object the installer puts under the version prefix, by relative key."""
    files = {path.name: path.read_bytes() for path in sorted(BLUEPRINTS.glob("*.yaml"))}
    for directory in sorted(p for p in FUNCTIONS.iterdir() if p.is_dir()):
        files[f"functions/{directory.name}.zip"] = function_zip(directory)
    return files


def install_blueprints(s3: Any, bucket: str, prefix: str) -> int:
    for name, body in blueprint_files().items():
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=body)
    return len(blueprint_files())


@dataclass(frozen=True)
class ControlPlane:
    region: str = "us-east-1"
    stack_prefix: str = "mlops-pipeline"
    assets_bucket: str = f"mlops-assets-{ACCOUNT}"
    blueprint_bucket: str = f"mlops-blueprints-{ACCOUNT}"
    config_bucket: str = f"mlops-config-{ACCOUNT}"
    topic_name: str = "mlops-notifications"
    blueprint_prefix: str = field(default_factory=lambda: f"blueprints/{product_version()}")

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
            "IS_MULTI_ACCOUNT": "False",
            "USE_MODEL_REGISTRY": "No",
            "ECR_REPO_ARN": f"arn:aws:ecr:{self.region}:{ACCOUNT}:repository/mlops-ecr-repo",
        }

    def bootstrap(self, session: Any) -> None:
        """Create buckets (versioned where CodePipeline or ordering needs it), topic, blueprints."""
        s3 = session.client("s3", region_name=self.region)
        for bucket in (self.assets_bucket, self.blueprint_bucket, self.config_bucket):
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        session.client("sns", region_name=self.region).create_topic(Name=self.topic_name)
        install_blueprints(s3, self.blueprint_bucket, self.blueprint_prefix)
