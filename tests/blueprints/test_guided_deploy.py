"""`sam deploy --guided` asks for the bucket guardrail: the SAM CLI's own guided prompts, run
against the control plane's template with an operator who presses Enter at each one."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "sam" / "template.yaml"
# The parameter prompts of `sam deploy --guided` (GuidedContext.prompt_parameters), answered with Enter.
PROMPTS = """
import json, sys
import click
from click.testing import CliRunner
from samcli.commands.deploy.guided_context import GuidedContext, get_template_parameters

parameters = get_template_parameters(template_file=sys.argv[1])

@click.command()
def guided():
    answers = GuidedContext.__new__(GuidedContext).prompt_parameters(parameters, {}, "", "")
    click.echo("ANSWERS " + json.dumps({key: item["Value"] for key, item in answers.items()}))

print(CliRunner().invoke(guided, input="\\n" * len(parameters)).output)
"""


def test_guided_deploy_asks_for_the_allowed_buckets_and_keeps_the_secure_default() -> None:
    sam = Path(os.environ.get("SAM_CLI") or ROOT / ".sam-venv" / "bin" / "sam")
    assert sam.exists(), "the SAM CLI is installed by `make test` into .sam-venv"
    python = sam.parent / "python"
    output = subprocess.run(
        [str(python), "-c", PROMPTS, str(TEMPLATE)], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "Parameter AllowedS3Buckets []:" in output
    answers = json.loads(output.split("ANSWERS ", 1)[1])
    assert answers["AllowedS3Buckets"] == ""  # Enter keeps the default: only the control plane's buckets
    # A value saved in samconfig.toml would be offered instead of the template's default.
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    overrides = str(config["default"]["deploy"]["parameters"].get("parameter_overrides", ""))
    assert "AllowedS3Buckets" not in overrides
