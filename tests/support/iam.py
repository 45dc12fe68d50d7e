"""Read a CloudFormation template's IAM the way AWS would, for checks the emulator cannot make.

``Resolver`` (the project's one, ``mlops_cfn``'s) turns intrinsic functions into strings for
one set of parameter values: a resource's ``Ref`` and ``GetAtt`` become recognisable placeholders (``<Logical>`` and
``<Logical.Attr>``), so a test can ask "is this statement about that resource?" without
deploying anything. ``allows`` evaluates Allow/Deny statements on an action and a resource
with IAM's wildcards (actions match case-insensitively, resources case-sensitively, as in IAM).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import mlops_cfn

ROOT = Path(__file__).resolve().parents[2]
CONTROL_PLANE = ROOT / "sam" / "template.yaml"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com",
}


def load(path: Path = CONTROL_PLANE) -> dict[str, Any]:
    return mlops_cfn.load(path)


class Resolver(mlops_cfn.Resolver):
    """One template under one set of parameter values (defaults, then ``overrides``).

    A resource's ``Ref`` and ``GetAtt`` become ``<Logical>`` and ``<Logical.Attr>``.
    """

    def __init__(self, template: dict[str, Any], **overrides: str) -> None:
        names = {k: p.get("Default", "") for k, p in template.get("Parameters", {}).items()}
        names.update(PSEUDO, StackName="mlops-orchestrator", **overrides)
        names["AWS::StackName"] = "mlops-orchestrator"
        super().__init__(template, names, unresolved=lambda name: f"<{name}>")

    def role_statements(self, role: str) -> list[dict[str, Any]]:
        """The resolved statements of a role's inline policies."""
        properties = self.resolve(self.resources[role]["Properties"])
        return [s for p in properties.get("Policies", []) for s in as_list(p["PolicyDocument"]["Statement"])]

    def managed_policies(self, role: str) -> list[str]:
        return [str(a) for a in self.resolve(self.resources[role]["Properties"]).get("ManagedPolicyArns", [])]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(statement: dict[str, Any], action: str, resource: str) -> bool:
    actions = [a.lower() for a in as_list(statement.get("Action", []))]
    resources = [str(r) for r in as_list(statement.get("Resource", "*"))]
    return any(fnmatch.fnmatchcase(action.lower(), a) for a in actions) and any(
        fnmatch.fnmatchcase(resource, r) for r in resources
    )


def allows(statements: Iterable[dict[str, Any]], action: str, resource: str = "*") -> bool:
    """Whether identity-policy statements allow ``action`` on ``resource`` (conditions ignored)."""
    statements = list(statements)
    denied = any(s["Effect"] == "Deny" and _matches(s, action, resource) for s in statements)
    return not denied and any(s["Effect"] == "Allow" and _matches(s, action, resource) for s in statements)
