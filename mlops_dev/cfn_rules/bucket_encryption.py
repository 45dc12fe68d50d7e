from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch


class BucketEncryption(CloudFormationLintRule):
    """Every S3 bucket sets default encryption."""

    id = "E9001"
    shortdesc = "S3 buckets are encrypted"
    description = "Every AWS::S3::Bucket declares BucketEncryption with a default algorithm."
    tags = ["mlops", "s3", "encryption"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        found = []
        for name, resource in cfn.get_resources(["AWS::S3::Bucket"]).items():
            rules = (resource.get("Properties", {}).get("BucketEncryption") or {}).get(
                "ServerSideEncryptionConfiguration"
            )
            if not rules:
                found.append(RuleMatch(["Resources", name, "Properties"], f"bucket {name} has no default encryption"))
        return found
