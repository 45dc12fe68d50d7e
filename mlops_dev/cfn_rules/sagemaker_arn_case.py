"""SageMaker writes resource names in lower case in its ARNs; IAM compares ARNs case-sensitively.

A job created as ``Churn-1a2b`` has the ARN ``...:training-job/churn-1a2b``, so a statement
scoped to ``training-job/Churn-1a2b`` never matches and the call is denied (SageMaker API
reference: job names are unique per account and region and case-insensitive). Every
parameter that a SageMaker ARN in an IAM statement is built from must therefore be unable
to carry capitals: its AllowedPattern admits none.
"""

from __future__ import annotations

import re
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from mlops_dev.cfn_rules._common import iam_statements, resource_values, sub_text

# Regex escapes that match an upper-case letter.
_WIDE_ESCAPES = set("wWSDpPX")


def admits_capitals(pattern: str) -> bool:
    """Whether a CloudFormation AllowedPattern can match a string with a capital letter.

    Conservative: any construct that could (``.``, a negated class, ``\\w``, ``\\S``, a
    literal or range with an upper-case letter, a case-insensitive flag) counts as yes.
    """
    if "(?i" in pattern:
        return True
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            if pattern[index + 1 : index + 2] in _WIDE_ESCAPES:
                return True
            index += 2
            continue
        if char == "." or char.isupper() or pattern[index : index + 2] == "[^":
            return True
        index += 1
    return False


def _sagemaker_names(resource: Any) -> list[str]:
    """Variables ``${Name}`` in the resource part of a SageMaker ARN (after region and account)."""
    text = sub_text(resource)
    if text is None or ":sagemaker:" not in text:
        return []
    tail = text.split(":sagemaker:", 1)[1].split(":", 2)[-1]
    return [n for n in re.findall(r"\$\{([^}!]+)\}", tail) if not n.startswith("AWS::")]


class SageMakerArnLowercase(CloudFormationLintRule):
    """SageMaker ARNs in IAM statements are built only from parameters that cannot hold capitals."""

    id = "E9010"
    shortdesc = "SageMaker ARNs in IAM statements come from lower-case parameters"
    description = (
        "Each template parameter that names the resource in a SageMaker ARN of an IAM statement's "
        "Resource has an AllowedPattern that admits no upper-case letter (SageMaker lowercases names in ARNs)."
    )
    tags = ["mlops", "iam", "sagemaker"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        parameters = cfn.template.get("Parameters", {})
        found: dict[str, RuleMatch] = {}
        for path, statement in iam_statements(cfn):
            for resource in resource_values(statement.get("Resource")):
                for name in _sagemaker_names(resource):
                    if name not in parameters or name in found:
                        continue
                    pattern = parameters[name].get("AllowedPattern")
                    if not isinstance(pattern, str) or admits_capitals(pattern):
                        found[name] = RuleMatch(
                            ["Parameters", name],
                            f"{name} names a SageMaker resource in a statement of {path[1]} but its "
                            "AllowedPattern admits capitals, which SageMaker's ARNs never carry",
                        )
        return list(found.values())
