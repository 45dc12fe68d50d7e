"""The orchestrator function's role allows every AWS call its code makes (the emulator enforces
no IAM, so a missing permission would first show in AWS as an AccessDenied 502)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import botocore.session

from mlops_cli.cfn_template import load
from tests.support.templates import CONTROL_PLANE, grants

ROOT = Path(__file__).resolve().parents[2]
CHALICELIB = ROOT / "orchestrator_api" / "chalicelib"
# Calls whose IAM action is not the operation's name.
ACTION_OF = {
    "s3:HeadObject": "s3:GetObject",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:ListObjectVersions": "s3:ListBucketVersions",
}


def calls_in_code() -> set[str]:
    """``service:Operation`` for each botocore operation the orchestrator's code names, per file
    among the services that file creates clients for (directly or through a module helper)."""
    session = botocore.session.get_session()
    found = set()
    for path in sorted(CHALICELIB.rglob("*.py")):
        text = path.read_text()
        services = set(re.findall(r'client\("([a-z0-9-]+)"\)', text))
        for service in services:
            model = session.get_service_model(service)
            prefix = model.metadata.get("signingName", model.endpoint_prefix)
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
