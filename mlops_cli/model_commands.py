"""``mlops`` commands for the model registry: approve-model and reject-model.

They decide a registered model's approval through the orchestrator (``POST
/models/{group}/approval``); SageMaker's event then moves the pipelines that follow the group.
"""

from __future__ import annotations

from urllib.parse import quote

import click

from .commands import _call, _emit, json_option


def _decide(ctx: click.Context, group: str, decision: str, version: int | None, comment: str) -> None:
    body: dict[str, object] = {"decision": decision, "comment": comment}
    if version is not None:
        body["version"] = version
    _, answer = _call(ctx, "POST", f"/models/{quote(group.strip(), safe='')}/approval", body)
    _emit(answer)


def register(cli: click.Group) -> None:
    """Add the model registry's commands to ``cli``."""

    def decision_command(name: str, decision: str, summary: str) -> None:
        @cli.command(name=name, help=summary)
        @click.argument("group")
        @click.option("--version", type=click.IntRange(min=1), help="Package version (default: newest pending).")
        @click.option("--comment", default="", help="Why (kept with the package as its approval description).")
        @json_option
        @click.pass_context
        def command(ctx: click.Context, group: str, version: int | None, comment: str) -> None:
            _decide(ctx, group, decision, version, comment)

    decision_command(
        "approve-model",
        "approve",
        "Approve a registered model of GROUP: the pipelines that follow the group deploy it.",
    )
    decision_command(
        "reject-model",
        "reject",
        "Reject a model of GROUP: pipelines that deployed it go back to the previous approved one.",
    )
