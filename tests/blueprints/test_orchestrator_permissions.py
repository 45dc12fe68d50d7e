"""The orchestrator's and the installer's roles allow every AWS call their code makes (the
emulator enforces no IAM, so a missing permission would first show in AWS as an AccessDenied)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import botocore.session

from mlops_cfn import load
from tests.support.templates import CONTROL_PLANE, grants

ROOT = Path(__file__).resolve().parents[2]
CHALICELIB = ROOT / "orchestrator_api" / "chalicelib"
INSTALLER = ROOT / "blueprints" / "installer.py"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# Calls whose IAM action is not the operation's name.
ACTION_OF = {
    "s3:HeadObject": "s3:GetObject",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:ListObjectVersions": "s3:ListBucketVersions",
    "s3:DeleteObjects": "s3:DeleteObjectVersion",  # authorised per key; the installer deletes versions
    "s3:GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "s3:PutBucketNotificationConfiguration": "s3:PutBucketNotification",
}
# Services whose signing name is not their IAM prefix.
IAM_PREFIX = {"monitoring": "cloudwatch"}


def calls_in_code(paths: list[Path] | None = None) -> set[str]:
    """``service:Operation`` for each botocore operation the code names (the orchestrator's by
    default), per file among the services that file creates clients for (directly or through a
    module helper)."""
    session = botocore.session.get_session()
    found = set()
    for path in paths or sorted(CHALICELIB.rglob("*.py")):
        text = path.read_text()
        services = set(re.findall(r'client\("([a-z0-9-]+)"\)', text))
        for service in services:
            model = session.get_service_model(service)
            prefix = model.metadata.get("signingName", model.endpoint_prefix)
            prefix = IAM_PREFIX.get(prefix, prefix)
            for operation in model.operation_names:
                snake = botocore.xform_name(operation)
                if re.search(rf'\.{snake}\(|get_paginator\("{snake}"\)', text):
                    action = f"{prefix}:{operation}"
                    found.add(ACTION_OF.get(action, action))
    return found


def test_the_code_calls_what_the_routes_need() -> None:
    # The scan itself must see the calls, or the test below would pass on nothing.
    assert {"cloudformation:DescribeStacks", "s3:PutObject", "sagemaker:CreateModelCard",
            "codepipeline:PutApprovalResult", "sns:Publish"} <= calls_in_code()  # fmt: skip


def test_the_orchestrator_role_allows_every_call_its_code_makes() -> None:
    control_plane: Any = load(CONTROL_PLANE)
    policy = control_plane["Resources"]["OrchestratorFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    granted = grants(policy)
    missing = sorted(c for c in calls_in_code() if not granted(c))
    assert missing == [], missing


def test_the_installer_role_allows_every_call_its_code_makes() -> None:
    # Resolved with a key and an existing config bucket, as the key-policy check and the
    # config bucket's notification run only then.
    from tests.support.iam import Resolver

    calls = calls_in_code([INSTALLER])
    assert {"kms:GetKeyPolicy", "cloudformation:ListStacks", "s3:ListBucketVersions"} <= calls
    statements = Resolver(load(CONTROL_PLANE), KmsKeyArn=KEY, ExistingConfigBucket="team-configs").role_statements(
        "BlueprintInstallerRole"
    )
    granted = grants({"Statement": statements})
    missing = sorted(c for c in calls if not granted(c))
    assert missing == [], missing
