"""CloudFormation templates as data: the one reader and the one evaluator of intrinsic functions.

``load``/``loads`` read a template (YAML with its short-form tags, or JSON) with cfn-lint's
decoder, so ``!Ref``, ``!Sub`` and the other short forms come back in their long forms
(``{"Ref": ...}``, ``{"Fn::Sub": ...}``), exactly as cfn-lint and its rules see them.
``Resolver`` evaluates a template's conditions and intrinsic functions for one set of
parameter values, as CloudFormation would at deploy time.

Used by local mode (to deploy blueprints and read the control plane's roles), by the developer
tools and by the tests. It imports nothing of the project; the orchestrator (``chalicelib``)
never imports it, since the Lambda package does not carry cfn-lint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

from .intrinsics import NO_VALUE, Resolver

__all__ = ["NO_VALUE", "Resolver", "load", "loads"]


def loads(text: str, source: str = "the template") -> dict[str, Any]:
    """A template from its text; a ValueError names ``source`` and what cfn-lint could not read."""
    template, problems = decode_str(text)
    if template is None:
        raise ValueError(f"cannot read {source}: {problems}")
    return dict(template)


def load(path: Path | str) -> dict[str, Any]:
    """The template in the file at ``path``."""
    return loads(Path(path).read_text(), str(path))
