from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from mlops_dev.cfn_rules._common import actions, iam_statements


class IamPassRoleCondition(CloudFormationLintRule):
    """iam:PassRole always names the service the role may be passed to."""

    id = "E9006"
    shortdesc = "iam:PassRole carries an iam:PassedToService condition"
    description = "Every Allow statement that grants iam:PassRole (or iam:* or *) has an iam:PassedToService condition."
    tags = ["mlops", "iam"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        found = []
        for path, statement in iam_statements(cfn):
            granted = [a for a in actions(statement) if a in ("iam:PassRole", "iam:*", "*")]
            if (
                statement.get("Effect") == "Allow"
                and granted
                and "iam:PassedToService" not in str(statement.get("Condition"))
            ):
                found.append(RuleMatch(path, f"{granted[0]} without an iam:PassedToService condition"))
        return found
