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
