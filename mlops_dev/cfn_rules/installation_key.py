"""With a customer-managed installation key, every role touching the installation's objects or
topic may use the key.

The assets and blueprint buckets use SSE-KMS with the installation's key and the notifications
topic is encrypted with it. S3 needs kms:Decrypt to read such objects and kms:GenerateDataKey
(plus kms:Decrypt for multipart uploads) to write them (Amazon S3 User Guide, "Using
server-side encryption with AWS KMS keys"); an SNS publisher to an encrypted topic needs
kms:GenerateDataKey and kms:Decrypt (Amazon SNS Developer Guide, "Encryption at rest").
The emulator encrypts nothing, so it never refuses.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from mlops_dev.cfn_rules._common import allows, refers_to, resource_values, role_statements

KEY_PARAMETER = "InstallationKmsKeyArn"
READS = ("s3:GetObject", "s3:GetObjectVersion")
WRITES = ("s3:PutObject", "sns:Publish")


def _key_actions(statements: list[dict[str, Any]], action: str) -> bool:
    return any(
        any(refers_to(r, KEY_PARAMETER) for r in resource_values(s.get("Resource"))) for s in allows(statements, action)
    )


class InstallationKeyAccess(CloudFormationLintRule):
    """Roles that read or write the installation's objects, or publish to its topic, may use its key."""

    id = "E9011"
    shortdesc = "Roles using encrypted installation storage may use the installation key"
    description = (
        f"In a template with a {KEY_PARAMETER} parameter, each AWS::IAM::Role that allows an S3 object "
        "read also allows kms:Decrypt on that key, and one that allows s3:PutObject or sns:Publish also "
        "allows kms:GenerateDataKey and kms:Decrypt on it."
    )
    tags = ["mlops", "iam", "kms"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        if KEY_PARAMETER not in cfn.template.get("Parameters", {}):
            return []
        found = []
        for name in cfn.get_resources(["AWS::IAM::Role"]):
            statements = role_statements(cfn.template, name)
            needed = set()
            if any(allows(statements, a) for a in READS):
                needed.add("kms:Decrypt")
            if any(allows(statements, a) for a in WRITES):
                needed |= {"kms:Decrypt", "kms:GenerateDataKey"}
            missing = sorted(a for a in needed if not _key_actions(statements, a))
            if missing:
                found.append(
                    RuleMatch(
                        ["Resources", name, "Properties", "Policies"],
                        f"{name} reads or writes the installation's objects or topic but lacks "
                        f"{', '.join(missing)} on {KEY_PARAMETER}",
                    )
                )
        return found
