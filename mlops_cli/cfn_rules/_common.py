"""Helpers shared by the rules: walking IAM statements wherever templates declare them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

POLICY_HOLDERS = {
    "AWS::IAM::Role": ("Policies",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
}
READ_PREFIXES = ("Get", "List", "Describe", "Head", "BatchGet", "Query", "Scan")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(document, dict):
        for index, statement in enumerate(_listed(document.get("Statement", []))):
            if isinstance(statement, dict):
                yield index, statement
            elif isinstance(statement, dict) is False and isinstance(statement, dict | list):
                continue


def _unwrap_if(statement: Any) -> list[Any]:
    """Both branches of an Fn::If statement (conditions are checked as if either holds)."""
    if isinstance(statement, dict) and list(statement) == ["Fn::If"]:
        _, yes, no = statement["Fn::If"]
        return [s for branch in (yes, no) for s in _unwrap_if(branch)]
    if isinstance(statement, dict) and list(statement) == ["Ref"] and statement["Ref"] == "AWS::NoValue":
        return []
    return [statement]


def iam_statements(cfn: Any) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    """(path, statement) for every IAM policy statement in the template."""
    for name, resource in cfn.get_resources(list(POLICY_HOLDERS)).items():
        props = resource.get("Properties", {})
        documents: list[tuple[list[Any], Any]] = []
        if resource["Type"] == "AWS::IAM::Role":
            for index, policy in enumerate(props.get("Policies", []) or []):
                if isinstance(policy, dict):
                    documents.append(
                        (["Resources", name, "Properties", "Policies", index], policy.get("PolicyDocument"))
                    )
        else:
            documents.append((["Resources", name, "Properties"], props.get("PolicyDocument")))
        for path, document in documents:
            if not isinstance(document, dict):
                continue
            for index, raw in enumerate(_listed(document.get("Statement", []))):
                for statement in _unwrap_if(raw):
                    if isinstance(statement, dict):
                        yield [*path, "PolicyDocument", "Statement", index], statement


def actions(statement: dict[str, Any]) -> list[str]:
    return [a for a in _listed(statement.get("Action", [])) if isinstance(a, str)]


def resources(statement: dict[str, Any]) -> list[Any]:
    return _listed(statement.get("Resource", []))


def is_write(action: str) -> bool:
    verb = action.split(":", 1)[-1]
    return verb == "*" or not verb.startswith(READ_PREFIXES)
