from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from mlops_dev.cfn_rules._common import actions, iam_statements, is_write, resources

JUSTIFIED = "AnyResource"


class IamWildcardResource(CloudFormationLintRule):
    """A write action on every resource needs a stated reason."""

    id = "E9005"
    shortdesc = "No unjustified '*' resource on write actions"
    description = (
        "An Allow statement whose Resource is '*' and whose actions include a write must have a "
        f"Sid starting with '{JUSTIFIED}' (and a comment beside it saying why nothing narrower exists)."
    )
    tags = ["mlops", "iam", "least-privilege"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        found = []
        for path, statement in iam_statements(cfn):
            if statement.get("Effect") != "Allow" or "*" not in resources(statement):
                continue
            writes = [a for a in actions(statement) if is_write(a)]
            if writes and not str(statement.get("Sid", "")).startswith(JUSTIFIED):
                found.append(
                    RuleMatch(path, f"write actions {', '.join(writes[:4])} on '*' without an {JUSTIFIED}* Sid")
                )
        return found
