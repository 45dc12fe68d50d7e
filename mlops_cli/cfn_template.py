"""Read a CloudFormation template (YAML with its short-form tags, or JSON) the way cfn-lint does.

The one loader of the dev tools and the tests: ``!Ref``, ``!Sub`` and the other short forms come
back as their long forms (``{"Ref": ...}``, ``{"Fn::Sub": ...}``), exactly as cfn-lint and its
rules see them. Imported by the build tools and the tests, never by the orchestrator or local mode
(cfn-lint is a development dependency).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str


def loads(text: str, source: str = "the template") -> dict[str, Any]:
    """A template from its text; a ValueError names ``source`` and what cfn-lint could not read."""
    template, problems = decode_str(text)
    if template is None:
        raise ValueError(f"cannot read {source}: {problems}")
    return dict(template)


def load(path: Path | str) -> dict[str, Any]:
    """The template in the file at ``path``."""
    return loads(Path(path).read_text(), str(path))
