from __future__ import annotations

import json
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch


class BucketTlsOnly(CloudFormationLintRule):
    """Every S3 bucket has a policy denying requests that do not use TLS."""

    id = "E9002"
    shortdesc = "S3 buckets refuse requests without TLS"
    description = (
        "Every AWS::S3::Bucket has an AWS::S3::BucketPolicy with a Deny statement conditioned "
        'on aws:SecureTransport "false".'
    )
    tags = ["mlops", "s3", "tls"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        protected = set()
        for policy in cfn.get_resources(["AWS::S3::BucketPolicy"]).values():
            props = policy.get("Properties", {})
            target = props.get("Bucket")
            text = json.dumps(props.get("PolicyDocument", {}))
            if '"Deny"' in text and "aws:SecureTransport" in text and isinstance(target, dict) and "Ref" in target:
                protected.add(target["Ref"])
        return [
            RuleMatch(["Resources", name], f"bucket {name} has no policy denying non-TLS requests")
            for name in cfn.get_resources(["AWS::S3::Bucket"])
            if name not in protected
        ]
