from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

BOUNDARY_PARAMETER = "PermissionsBoundaryArn"


class RolePermissionsBoundary(CloudFormationLintRule):
    """Roles a blueprint creates carry the installation's permissions boundary."""

    id = "E9007"
    shortdesc = "Blueprint roles carry the permissions boundary"
    description = (
        f"In a template with a {BOUNDARY_PARAMETER} parameter (every blueprint), each "
        f"AWS::IAM::Role sets PermissionsBoundary to that parameter."
    )
    tags = ["mlops", "iam", "boundary"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        if BOUNDARY_PARAMETER not in cfn.template.get("Parameters", {}):
            return []
        return [
            RuleMatch(["Resources", name, "Properties"], f"role {name} does not carry the permissions boundary")
            for name, role in cfn.get_resources(["AWS::IAM::Role"]).items()
            if role.get("Properties", {}).get("PermissionsBoundary") != {"Ref": BOUNDARY_PARAMETER}
        ]
