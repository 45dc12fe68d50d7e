"""Start a pipeline's run the way CodePipeline does for this project: by a pipeline-stack update
that names another bundle (RestartExecutionOnUpdate), as an operator or a resubmission would."""

from __future__ import annotations

from typing import Any


def run_with_bundle(local: Any, stack_name: str, bundle: bytes, name: str) -> str:
    """Write ``bundle`` beside the pipeline's current one as ``<name>.zip`` and point the stack at it."""
    cfn = local.client("cloudformation")
    described = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    current = next(p["ParameterValue"] for p in described["Parameters"] if p["ParameterKey"] == "TemplateZipFileName")
    key = current.rsplit("/", 1)[0] + f"/{name}.zip"
    local.client("s3").put_object(Bucket=local.banner["assets_bucket"], Key=key, Body=bundle)
    cfn.update_stack(
        StackName=stack_name,
        UsePreviousTemplate=True,
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[
            {"ParameterKey": p["ParameterKey"], "ParameterValue": key}
            if p["ParameterKey"] == "TemplateZipFileName"
            else {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
            for p in described["Parameters"]
        ],
    )
    return key


def current_bundle(local: Any, stack_name: str) -> bytes:
    """The bundle the pipeline stack names."""
    described = local.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    key = next(p["ParameterValue"] for p in described["Parameters"] if p["ParameterKey"] == "TemplateZipFileName")
    return bytes(local.client("s3").get_object(Bucket=local.banner["assets_bucket"], Key=key)["Body"].read())
