"""Evaluate a template's conditions and intrinsic functions for one set of parameter values."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

NO_VALUE: Any = object()  # what ``Ref: AWS::NoValue`` stands for until its key or item is dropped
_SUB = re.compile(r"\$\{([^}!]+)\}")


class Resolver:
    """One template under one set of names.

    ``names`` maps parameters and pseudo parameters (``AWS::Region``) to values; a parameter
    that is not named takes its ``Default``, and a ``CommaDelimitedList`` value given as text
    becomes a list, as CloudFormation passes it. ``attributes`` maps ``(logical id, attribute)``
    to what ``Fn::GetAtt`` returns. A name neither provides goes to ``unresolved`` (given
    ``"Name"`` or ``"Logical.Attribute"``); without it, the reference stays as written:
    ``Ref`` gives the name, ``Fn::GetAtt`` ``Logical.Attribute`` and ``Fn::Sub`` ``${Name}``.
    """

    def __init__(
        self,
        template: Mapping[str, Any] | None = None,
        names: Mapping[str, Any] | None = None,
        *,
        attributes: Mapping[tuple[str, str], Any] | None = None,
        unresolved: Callable[[str], Any] | None = None,
    ) -> None:
        self.template: Mapping[str, Any] = template or {}
        self.parameters: Mapping[str, Any] = self.template.get("Parameters", {})
        self.names: dict[str, Any] = {k: p["Default"] for k, p in self.parameters.items() if "Default" in p}
        self.names.update(names or {})
        self.attributes = dict(attributes or {})
        self.unresolved = unresolved
        self.resources: Mapping[str, Any] = self.template.get("Resources", {})
        self._truths: dict[str, bool] = {}

    # -- conditions ---------------------------------------------------------------------

    @property
    def truths(self) -> dict[str, bool]:
        """Every declared condition's value."""
        for name in self.template.get("Conditions", {}):
            self.condition(name)
        return dict(self._truths)

    def condition(self, name: str) -> bool:
        if name not in self._truths:
            self._truths[name] = self.truth(self.template["Conditions"][name])
        return self._truths[name]

    def truth(self, expression: Any) -> bool:
        """A condition expression (Equals, Not, And, Or, Condition), as Conditions and Rules take it."""
        ((key, inner),) = expression.items()
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
        raise ValueError(f"unsupported condition function {key}")

    def present(self, logical: str) -> bool:
        """Whether the resource ``logical`` exists under these names (its Condition holds)."""
        condition = self.resources[logical].get("Condition")
        return condition is None or self.condition(condition)

    # -- values -------------------------------------------------------------------------

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.names:
            value = self.names[name]
            if self.parameters.get(name, {}).get("Type") == "CommaDelimitedList" and isinstance(value, str):
                return value.split(",")
            return value
        return self.unresolved(name) if self.unresolved else name

    def get_att(self, logical: str, attribute: str) -> Any:
        if (logical, attribute) in self.attributes:
            return self.attributes[(logical, attribute)]
        reference = f"{logical}.{attribute}"
        return self.unresolved(reference) if self.unresolved else reference

    def sub(self, text: str, variables: Mapping[str, Any] | None = None) -> str:
        local = variables or {}

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                value = local[name]
            elif "." in name:
                logical, attribute = name.split(".", 1)
                if (logical, attribute) not in self.attributes and not self.unresolved:
                    return match.group(0)
                value = self.get_att(logical, attribute)
            elif name in self.names or self.unresolved or name == "AWS::NoValue":
                value = self.ref(name)
            else:
                return match.group(0)
            return ",".join(str(v) for v in value) if isinstance(value, list) else str(value)

        return _SUB.sub(one, text)

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function evaluated and ``AWS::NoValue`` dropped."""
        if isinstance(value, dict) and len(value) == 1:
            ((key, inner),) = value.items()
            if key == "Ref":
                return self.ref(inner)
            if key == "Fn::GetAtt":
                logical, attribute = inner if isinstance(inner, list) else inner.split(".", 1)
                return self.get_att(logical, attribute)
            if key == "Fn::Sub":
                if isinstance(inner, str):
                    return self.sub(inner)
                text, variables = inner
                return self.sub(text, {k: self.resolve(v) for k, v in variables.items()})
            if key == "Fn::If":
                condition, yes, no = inner
                return self.resolve(yes if self.condition(condition) else no)
            if key == "Fn::Join":
                separator, items = inner
                resolved = self.resolve(items)
                flat = [p for part in _as_list(resolved) for p in _as_list(part)]
                return separator.join(str(p) for p in flat)
            if key == "Fn::Split":
                separator, text = inner
                return str(self.resolve(text)).split(separator)
            if key == "Fn::Select":
                index, items = inner
                chosen, resolved = int(self.resolve(index)), self.resolve(items)
                # past the end only when the list came from a reference with no value here
                return resolved[chosen] if chosen < len(resolved) else value
        if isinstance(value, dict):
            out = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in out.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        return value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
