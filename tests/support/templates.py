"""The shipped blueprints, read as cfn-lint reads them, and what their IAM policies grant.

``VARIANTS`` lists every registered pipeline type with each monitor engine it can render for,
so a test over every blueprint a request can select parametrizes over it.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalicelib.pipelines.catalog import REGISTRY
from mlops_cfn import load

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINTS = ROOT / "blueprints"
CONTROL_PLANE = ROOT / "sam" / "template.yaml"
VARIANTS = [(e, engine) for e in REGISTRY for engine in (dict(e.engine_blueprints) or {None: None})]


RULES = ROOT / "mlops_dev" / "cfn_rules"


def cfn_lint_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The cfn-lint command of this environment, able to load the project's rules (``mlops_dev``
    is a checkout's package, not an installed one, so the checkout goes on its path)."""
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([str(cfn_lint), *args], capture_output=True, text=True, env=env)


def template(name: str) -> dict[str, Any]:
    """The blueprint ``name`` (a file name under blueprints/)."""
    return load(BLUEPRINTS / name)


def statements(document: Any) -> list[dict[str, Any]]:
    """A policy's statements, both branches of each Fn::If (conditional statements)."""
    found = []
    for statement in document["Statement"]:
        branches = statement["Fn::If"][1:] if "Fn::If" in statement else [statement]
        found += [b for b in branches if b != {"Ref": "AWS::NoValue"}]
    return found


def actions(statement: dict[str, Any]) -> list[str]:
    named = statement["Action"]
    return [named] if isinstance(named, str) else list(named)


def grants(*documents: Any) -> Callable[[str], bool]:
    """Whether the Allow statements of these policy documents grant an action (IAM wildcards, any case)."""
    patterns = [a.lower() for d in documents for s in statements(d) if s["Effect"] == "Allow" for a in actions(s)]
    return lambda action: any(fnmatch.fnmatchcase(action.lower(), p) for p in patterns)


# Resource types moto cannot deploy, and where each is checked instead.
NOT_IN_MOTO = {
    "AWS::ApiGateway::Deployment": "moto ignores the RestApi Body, so it finds no methods; E9004 checks the body",
    "AWS::ApiGateway::Stage": "skipped by moto; throttling asserted on the template",
    "AWS::CloudFormation::CustomResource": "needs Lambda invocation (Docker); handler tested on recorded events",
}
# Resources moto creates but whose Ref it resolves wrongly; references become literals.
REF_NOT_RESOLVED = {"AWS::Lambda::LayerVersion": "moto returns the layer object, not its ARN"}


def deployable(template: dict[str, Any], dropped: set[str]) -> Any:
    """``template`` without the resources ``dropped``: references to them, and to resources whose
    Ref moto resolves wrongly, become placeholder text; DependsOn forgets them."""
    unresolved = {n for n, r in template["Resources"].items() if r["Type"] in REF_NOT_RESOLVED}

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if "Ref" in value and value["Ref"] in dropped | unresolved:
                return f"placeholder-{value['Ref']}"
            if "Fn::GetAtt" in value and value["Fn::GetAtt"][0] in dropped:
                return f"placeholder-{value['Fn::GetAtt'][0]}"
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    resources = {}
    for name, resource in template["Resources"].items():
        if name in dropped:
            continue
        depends = resource.get("DependsOn", [])
        kept = [d for d in ([depends] if isinstance(depends, str) else depends) if d not in dropped]
        resources[name] = {
            **{k: v for k, v in resource.items() if k != "DependsOn"},
            **({"DependsOn": kept} if kept else {}),
        }
    return walk({**template, "Resources": resources})


def deploy_control_plane(s3: Any, cfn: Any, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """Create the translated control plane in the emulator behind ``s3`` and ``cfn`` (stubbed function
    code, without the resources moto cannot deploy); ``{"stack": described, "translated": template}``."""
    import io
    import json
    import zipfile

    from mlops_dev.translate import code_locations, translate
    from mlops_dev.translate import load as load_sam

    s3.create_bucket(Bucket="code-bucket")
    template = load_sam()
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    for key in code_locations(template, "code-bucket").values():
        s3.put_object(Bucket="code-bucket", Key=key, Body=code.getvalue())
    translated = translate(template, "code-bucket")
    dropped = {name for name, r in translated["Resources"].items() if r["Type"] in NOT_IN_MOTO}
    assert {translated["Resources"][n]["Type"] for n in dropped} == set(NOT_IN_MOTO)
    cfn.create_stack(
        StackName="mlops-orchestrator",
        TemplateBody=json.dumps(deployable(translated, dropped)),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    return {"stack": cfn.describe_stacks(StackName="mlops-orchestrator")["Stacks"][0], "translated": translated}
