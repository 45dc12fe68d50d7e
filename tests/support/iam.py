"""Read a CloudFormation template's IAM the way AWS would, for checks the emulator cannot make.

``resolve`` turns intrinsic functions into strings for one set of parameter values: a
resource's ``Ref`` and ``GetAtt`` become recognisable placeholders (``<Logical>`` and
``<Logical.Attr>``), so a test can ask "is this statement about that resource?" without
deploying anything. ``allows`` evaluates Allow/Deny statements on an action and a resource
with IAM's wildcards (actions match case-insensitively, resources case-sensitively, as in IAM).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
CONTROL_PLANE = ROOT / "sam" / "template.yaml"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com",
}
_NO_VALUE = object()


def load(path: Path = CONTROL_PLANE) -> dict[str, Any]:
    template, problems = decode(str(path))
    if template is None:
        raise ValueError(f"cannot read {path}: {problems}")
    return dict(template)


class Resolver:
    """One template under one set of parameter values (defaults, then ``overrides``)."""

    def __init__(self, template: dict[str, Any], **overrides: str) -> None:
        self.template = template
        self.names: dict[str, Any] = {k: p.get("Default", "") for k, p in template.get("Parameters", {}).items()}
        self.names.update(PSEUDO, StackName="mlops-orchestrator")
        self.names["AWS::StackName"] = "mlops-orchestrator"
        self.names.update(overrides)
        self.resources = template.get("Resources", {})
        self.truths: dict[str, bool] = {}
        for name in template.get("Conditions", {}):
            self.condition(name)

    def condition(self, name: str) -> bool:
        if name not in self.truths:
            self.truths[name] = bool(self.truth(self.template["Conditions"][name]))
        return self.truths[name]

    def truth(self, expr: Any) -> bool:
        """A condition expression (Equals, Not, And, Or, Condition), as Conditions and Rules take it."""
        ((key, inner),) = expr.items()
        if key == "Condition":
            return self.condition(inner)
        if key == "Fn::Equals":
            left, right = (self.resolve(v) for v in inner)
            return bool(left == right)
        if key == "Fn::Not":
            return not self.truth(inner[0])
        if key == "Fn::And":
            return all(self.truth(e) for e in inner)
        if key == "Fn::Or":
            return any(self.truth(e) for e in inner)
        raise ValueError(f"unsupported condition {key}")

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.names:
            value = self.names[name]
            declared = self.template["Parameters"].get(name, {})
            if declared.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                return value.split(",")
            return value
        return f"<{name}>"

    def _sub(self, text: str, local: dict[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in local:
                return str(local[key])
            if "." in key and key.split(".")[0] in self.resources:
                return f"<{key}>"
            value = self._ref(key)
            return ",".join(value) if isinstance(value, list) else str(value)

        return re.sub(r"\$\{([^}!]+)\}", one, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, inner),) = value.items()
            if key == "Ref":
                return self._ref(inner)
            if key == "Fn::GetAtt":
                parts = inner if isinstance(inner, list) else inner.split(".", 1)
                return f"<{parts[0]}.{parts[1]}>"
            if key == "Fn::Sub":
                if isinstance(inner, str):
                    return self._sub(inner, {})
                text, local = inner
                return self._sub(text, {k: self.resolve(v) for k, v in local.items()})
            if key == "Fn::If":
                condition, yes, no = inner
                return self.resolve(yes if self.condition(condition) else no)
            if key == "Fn::Join":
                sep, items = inner
                resolved = self.resolve(items)
                return sep.join(str(i) for i in (resolved if isinstance(resolved, list) else [resolved]))
            if key == "Fn::Split":
                sep, text = inner
                return str(self.resolve(text)).split(sep)
            if key == "Fn::Select":
                index, items = inner
                return self.resolve(items)[int(self.resolve(index))]
        if isinstance(value, dict):
            out = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in out.items() if v is not _NO_VALUE}
        if isinstance(value, list):
            out_list = [self.resolve(v) for v in value]
            return [v for v in out_list if v is not _NO_VALUE]
        return value

    def present(self, logical: str) -> bool:
        condition = self.resources[logical].get("Condition")
        return condition is None or self.condition(condition)

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
