"""Custom cfn-lint rules: each fails its bad fixture, passes the good ones, and holds on the
aws-sam-translator output of the control plane and on every blueprint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from mlops_dev.translate import load, translate
from tests.support.templates import RULES, cfn_lint_cli

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "rules"


def custom_findings(template: dict[str, Any]) -> list[tuple[str, str]]:
    if "Transform" in template:
        template = translate(template)
    matches = lint(json.dumps(template), config=ManualArgs(append_rules=[str(RULES)], regions=["us-east-1"]))
    return [(m.rule.id, m.message) for m in matches if m.rule.id.startswith("E9")]


def test_every_rule_has_a_bad_fixture() -> None:
    ids = {
        line.split('"')[1]
        for path in RULES.glob("*.py")
        for line in path.read_text().splitlines()
        if line.strip().startswith("id = ")
    }
    assert len(ids) == 12
    assert ids == {p.name.split("_")[0] for p in (FIXTURES / "bad").glob("*.yaml")}


@pytest.mark.parametrize("path", sorted((FIXTURES / "bad").glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_fixtures_fail_their_rule(path: Path) -> None:
    found = custom_findings(load(path))
    assert {rule for rule, _ in found} == {path.name.split("_")[0]}, found


@pytest.mark.parametrize("path", sorted((FIXTURES / "good").glob("*.yaml")), ids=lambda p: p.stem)
def test_good_fixtures_pass(path: Path) -> None:
    assert custom_findings(load(path)) == []


def test_the_translated_control_plane_passes_every_rule() -> None:
    translated = translate(load())
    assert "Transform" not in translated
    assert custom_findings(translated) == []


def test_the_translated_api_is_iam_authorised_on_every_route() -> None:
    translated = translate(load())
    [api] = [r for r in translated["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    paths = api["Properties"]["Body"]["paths"]
    from app import app

    # Explicit paths, no {proxy+}: exactly the app's routes and methods, each IAM-authorised.
    routes = {(path, method.lower()) for path, entry in app.routes.items() for method in entry}
    assert {(path, method) for path, ops in paths.items() for method in ops} == routes
    assert all(op["security"] == [{"AWS_IAM": []}] for ops in paths.values() for op in ops.values())


def test_blueprints_pass_every_rule_from_the_cli() -> None:
    files = sorted(str(p) for p in (ROOT / "blueprints").glob("*.yaml"))
    run = cfn_lint_cli("--append-rules", str(RULES), "--", *files)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_tracing_rule_checks_the_translated_control_planes_functions() -> None:
    # SAM adds the X-Ray actions only to roles it generates: a role the template names must
    # carry them itself. Take them away from each traced function's role and the rule objects.
    translated = translate(load())
    resources = translated["Resources"]
    traced = {
        name: function["Properties"]["Role"]["Fn::GetAtt"][0]
        for name, function in resources.items()
        if function["Type"] == "AWS::Lambda::Function"
        and function["Properties"].get("TracingConfig", {}).get("Mode") == "Active"
    }
    assert {"OrchestratorApiFunction", "BlueprintInstallerFunction"} <= set(traced)
    for role in set(traced.values()):
        props = resources[role]["Properties"]
        props["ManagedPolicyArns"] = [a for a in props.get("ManagedPolicyArns", []) if "AWSXRay" not in str(a)]
    found = [message for rule, message in custom_findings(translated) if rule == "E9008"]
    assert sorted(message.split()[0] for message in found) == sorted(traced)
