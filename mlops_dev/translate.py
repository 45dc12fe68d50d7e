"""Translate the SAM control-plane template to plain CloudFormation (aws-sam-translator).

Local code paths become placeholder S3 locations, as ``sam package`` would make them, so the
result can be linted and deployed into the emulator.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from mlops_cfn import load as load_template

ROOT = Path(__file__).resolve().parents[1]  # the source checkout
TEMPLATE = ROOT / "sam" / "template.yaml"
CODE_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Lambda::Function": "Code",
}


class _NoManagedPolicies:
    """The template names managed policies by ARN, so no lookup is needed."""

    def load(self) -> dict[str, str]:
        return {}


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    """The control-plane template (or another at ``path``), read as cfn-lint reads it."""
    return load_template(path)


def code_locations(template: dict[str, Any], bucket: str) -> dict[str, str]:
    """Point local code paths at ``s3://bucket/<logical id>.zip``; returns logical id -> key."""
    keys = {}
    for name, resource in template.get("Resources", {}).items():
        prop = CODE_PROPERTIES.get(resource.get("Type"))
        value = resource.get("Properties", {}).get(prop) if prop else None
        if isinstance(value, str):
            keys[name] = f"{name}.zip"
            if resource["Type"] == "AWS::Lambda::Function":
                resource["Properties"][prop] = {"S3Bucket": bucket, "S3Key": keys[name]}
            else:
                resource["Properties"][prop] = f"s3://{bucket}/{keys[name]}"
    return keys


def translate(template: dict[str, Any], bucket: str = "mlops-code-placeholder") -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    work = copy.deepcopy(template)
    code_locations(work, bucket)
    return _stage_findings_from_their_api(template, dict(transform(work, {}, _NoManagedPolicies())))


def _stage_findings_from_their_api(template: dict[str, Any], translated: dict[str, Any]) -> dict[str, Any]:
    """SAM keeps an API's Metadata on the RestApi it makes, but not on the Stage: the checkov
    suppressions written on an ``AWS::Serverless::Api`` (their reasons included) go to both."""
    apis = {
        name: r["Metadata"]["checkov"]
        for name, r in template.get("Resources", {}).items()
        if r.get("Type") == "AWS::Serverless::Api" and "checkov" in r.get("Metadata", {})
    }
    for resource in translated["Resources"].values():
        api = resource.get("Properties", {}).get("RestApiId", {})
        if resource["Type"] == "AWS::ApiGateway::Stage" and isinstance(api, dict) and api.get("Ref") in apis:
            resource.setdefault("Metadata", {})["checkov"] = apis[api["Ref"]]
    return translated


if __name__ == "__main__":
    import json
    import sys

    json.dump(translate(load()), sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write("\n")
