"""`sam package` (the first half of `make publish`) against moto's S3."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from mlops_cfn import load
from tests.support.accounts import Account

ROOT = Path(__file__).resolve().parents[2]


def sam_cli() -> str:
    sam = os.environ.get("SAM_CLI") or str(ROOT / ".sam-venv" / "bin" / "sam")
    assert Path(sam).exists(), "the SAM CLI is installed by `make test` into .sam-venv"
    return sam


def test_sam_package_uploads_code_readme_and_license(account: Account, tmp_path: Path) -> None:
    s3 = account.client("s3")
    s3.create_bucket(Bucket="sar-artifacts")
    out = tmp_path / "packaged.yaml"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ENDPOINT_URL": account.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SAM_CLI_TELEMETRY": "0",
    }
    run = subprocess.run(
        [sam_cli(), "package", "--template-file", "sam/template.yaml", "--s3-bucket", "sar-artifacts",
         "--output-template-file", str(out), "--region", "us-east-1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    packaged: dict[str, Any] = load(out)
    resources = packaged["Resources"]
    uploaded = {o["Key"] for o in s3.list_objects_v2(Bucket="sar-artifacts")["Contents"]}
    locations = [
        resources["OrchestratorApiFunction"]["Properties"]["CodeUri"],
        resources["ConfigHandlerFunction"]["Properties"]["CodeUri"],
        resources["SageMakerLayer"]["Properties"]["ContentUri"],
        resources["BlueprintInstallerFunction"]["Properties"]["Code"],
    ]
    for location in locations:
        key = location["S3Key"] if isinstance(location, dict) else location.removeprefix("s3://sar-artifacts/")
        assert key in uploaded, location
    sar = packaged["Metadata"]["AWS::ServerlessRepo::Application"]
    for field in ("LicenseUrl", "ReadmeUrl"):
        assert (
            sar[field].startswith("s3://sar-artifacts/") and sar[field].removeprefix("s3://sar-artifacts/") in uploaded
        )
