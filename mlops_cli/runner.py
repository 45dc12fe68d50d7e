"""Run a provisioned pipeline's stages where no CodePipeline service runs (the emulator).

moto stores no CodePipeline from CloudFormation and runs no actions, so this reads what
the single-account pipeline would do from its stack's parameters and does it: fetch the
source bundle from the assets bucket, then create or update the blueprint stack from the
template and template configuration inside it.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StageResult:
    stage: str
    status: str  # Succeeded | Failed
    detail: str


def _params(stack: dict[str, Any]) -> dict[str, str]:
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}


def run(session: Any, pipeline_stack: str, region: str = "us-east-1") -> list[StageResult]:
    cfn = session.client("cloudformation", region_name=region)
    s3 = session.client("s3", region_name=region)
    params = _params(cfn.describe_stacks(StackName=pipeline_stack)["Stacks"][0])
    try:
        data = s3.get_object(Bucket=params["AssetsBucket"], Key=params["TemplateZipFileName"])["Body"].read()
        bundle = zipfile.ZipFile(io.BytesIO(data))
        template = bundle.read(params["TemplateFileName"]).decode()
        config = json.loads(bundle.read(params["TemplateParamsName"]))
    except Exception as exc:
        return [StageResult("Source", "Failed", f"could not read the bundle: {exc}")]
    results = [StageResult("Source", "Succeeded", f"s3://{params['AssetsBucket']}/{params['TemplateZipFileName']}")]
    stack_name = params["StackName"]
    arguments = {
        "StackName": stack_name,
        "TemplateBody": template,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in config["Parameters"].items()],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        "Tags": [{"Key": k, "Value": v} for k, v in config.get("Tags", {}).items()],
    }
    try:
        existing = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == stack_name]
        if any(s["StackStatus"] != "DELETE_COMPLETE" for s in existing):
            try:
                cfn.update_stack(**arguments)
            except Exception as exc:
                if "No updates are to be performed" not in str(exc):
                    raise
        else:
            cfn.create_stack(**arguments)
        status = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
    except Exception as exc:
        return [*results, StageResult("Deploy", "Failed", str(exc))]
    ok = status in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    return [*results, StageResult("Deploy", "Succeeded" if ok else "Failed", f"{stack_name}: {status}")]
