from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

SETTINGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


class BucketPublicAccessBlock(CloudFormationLintRule):
    """Every S3 bucket blocks public access with all four settings."""

    id = "E9003"
    shortdesc = "S3 buckets block public access"
    description = "Every AWS::S3::Bucket sets all four PublicAccessBlockConfiguration flags to true."
    tags = ["mlops", "s3", "public-access"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        found = []
        for name, resource in cfn.get_resources(["AWS::S3::Bucket"]).items():
            block = resource.get("Properties", {}).get("PublicAccessBlockConfiguration") or {}
            missing = [flag for flag in SETTINGS if block.get(flag) not in (True, "true")]
            if missing:
                found.append(
                    RuleMatch(["Resources", name, "Properties"], f"bucket {name} does not set {', '.join(missing)}")
                )
        return found
