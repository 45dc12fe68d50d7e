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


def role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Every statement that applies to ``role``: its inline policies and the template's
    AWS::IAM::Policy / AWS::IAM::ManagedPolicy resources that name it in ``Roles`` (both
    branches of each Fn::If)."""
    resources = template.get("Resources", {})
    props = resources.get(role, {}).get("Properties", {}) or {}
    documents = [p.get("PolicyDocument") for p in props.get("Policies", []) or [] if isinstance(p, dict)]
    for resource in resources.values():
        if resource.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            attached = resource.get("Properties", {}).get("Roles", []) or []
            if {"Ref": role} in _listed(attached):
                documents.append(resource["Properties"].get("PolicyDocument"))
    found: list[dict[str, Any]] = []
    for document in documents:
        if isinstance(document, dict):
            for raw in _listed(document.get("Statement", [])):
                found += [s for s in _unwrap_if(raw) if isinstance(s, dict)]
    return found


def allows(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    """The Allow statements among ``statements`` that grant ``action`` (IAM wildcards, any case)."""
    from fnmatch import fnmatchcase

    return [
        s
        for s in statements
        if s.get("Effect") == "Allow" and any(fnmatchcase(action.lower(), a.lower()) for a in actions(s))
    ]


def trusted(role: dict[str, Any]) -> tuple[set[str], bool]:
    """(services the role trusts, whether it trusts any AWS account principal)."""
    document = role.get("Properties", {}).get("AssumeRolePolicyDocument", {})
    services: set[str] = set()
    accounts = False
    for _, statement in _statements(document):
        principal = statement.get("Principal", {})
        if not isinstance(principal, dict):
            accounts = True
            continue
        services |= {s for s in _listed(principal.get("Service", [])) if isinstance(s, str)}
        accounts = accounts or "AWS" in principal
    return services, accounts


def resource_values(value: Any) -> list[Any]:
    """A Resource element's entries, with both branches of each Fn::If."""
    return [v for item in _listed(value) for v in _unwrap_if(item)]


def sub_text(value: Any) -> str | None:
    """The text of a plain string or of an Fn::Sub (either form); None for other intrinsics."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and list(value) == ["Fn::Sub"]:
        body = value["Fn::Sub"]
        text = body[0] if isinstance(body, list) else body
        return text if isinstance(text, str) else None
    return None


def refers_to(value: Any, parameter: str) -> bool:
    """Whether a Resource entry is the parameter itself or a string built from it."""
    if value == {"Ref": parameter}:
        return True
    text = sub_text(value)
    return text is not None and "${" + parameter + "}" in text
