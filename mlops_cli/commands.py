"""``mlops`` commands that talk to an orchestrator: validate, provision, status, list, approve,
reject, delete.

Exit codes, for scripts:
  0  done: valid, provisioned, deployed, approved, deleted
  1  the orchestrator refused (a 4xx: the problems are printed) or the pipeline failed
  2  usage: bad arguments, unreadable file, no API URL or credentials
  3  the API could not be reached or answered 5xx
  4  accepted but not finished (a 202: a delete still removing what the pipeline deployed, a
     failed pipeline stack still being deleted before it is created again): run the same
     command again, or give --wait to have it repeated until done
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from chalicelib.naming import name_of_stack_id

from .client import API_URL_ENV, STACK_ENV, Api, ClientError, api_url_from_stack

DONE, REFUSED, USAGE, UNREACHABLE, PENDING = 0, 1, 2, 3, 4
POLL_SECONDS = 5.0
ACCEPTED = 202


def _emit(doc: Any) -> None:
    click.echo(json.dumps(doc, indent=2, default=str))


def _read(file: str) -> dict[str, Any]:
    try:
        text = Path(file).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise click.UsageError(f"cannot read {file}: {exc.strerror or exc}") from exc
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise click.UsageError(f"{file} is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise click.UsageError(f"{file} must hold a JSON object")
    return body


def _api(ctx: click.Context) -> Api:
    options = ctx.find_root().params
    url = options.get("api_url")
    stack = options.get("stack")
    try:
        if not url and stack:
            url = api_url_from_stack(stack)
    except ClientError as exc:
        raise click.UsageError(str(exc)) from exc
    if not url:
        raise click.UsageError(f"give --api-url (or {API_URL_ENV}), or --stack (or {STACK_ENV}) to read it from")
    return Api(url)


def _call(
    ctx: click.Context, method: str, path: str, body: Any = None, allow: Any = lambda status, answer: False
) -> tuple[int, Any]:
    """(status, answer) of a 2xx, or of an error ``allow(status, answer)`` accepts; else exit."""
    try:
        status, answer = _api(ctx).call(method, path, body)
    except ClientError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(exc.exit_code) from exc
    if status >= 400 and allow(status, answer):
        return status, answer
    if status >= 500:
        _emit(answer)
        raise SystemExit(UNREACHABLE)
    if status >= 400:
        _emit(answer)
        raise SystemExit(REFUSED)
    return status, answer


def _still_deleting(status: int, answer: Any) -> bool:
    """A 409 while a failed pipeline stack is deleted (the resubmission then creates it)."""
    return status == 409 and isinstance(answer, dict) and answer.get("stack_status") == "DELETE_IN_PROGRESS"


def repeat_while_accepted(
    ctx: click.Context,
    send: Any,
    describe: Any,
    wait: bool,
    timeout: float,
    interval: float | None,
) -> tuple[int, Any]:
    """Send a request until it is no longer 202 (with ``wait``), printing each step.

    ``send()`` returns (status, answer); ``describe(answer)`` says what is still under way.
    Without ``wait``, or after ``timeout`` seconds, a 202 prints the answer and exits 4.
    Between two sends it waits ``interval`` seconds, or the answer's Retry-After.
    """
    deadline = time.monotonic() + timeout
    while True:
        status, answer = send()
        if status != ACCEPTED and not _still_deleting(status, answer):
            return status, answer
        click.echo(f"{time.strftime('%H:%M:%S')}  {describe(answer)}", err=True)
        if not wait or time.monotonic() > deadline:
            _emit(answer)
            click.echo("not finished: run the same command again, or give --wait", err=True)
            raise SystemExit(PENDING)
        pause = interval if interval is not None else float(answer.get("retry_after_seconds") or POLL_SECONDS)
        time.sleep(pause)


def _finished(doc: dict[str, Any]) -> str | None:
    """'Succeeded', 'Failed' or None while the latest run goes on."""
    stages = (doc.get("pipeline") or {}).get("stages") or []
    if any(s["status"] == "Failed" for s in stages):
        return "Failed"
    if stages and all(s["status"] == "Succeeded" for s in stages):
        return "Succeeded"
    return None


def _progress(doc: dict[str, Any]) -> str:
    stages = (doc.get("pipeline") or {}).get("stages") or []
    shown = ", ".join(f"{s['name']} {s['status'] or '-'}" for s in stages) or "pipeline not created yet"
    waiting = [a["stage"] for a in doc.get("awaiting_approval", [])]
    return shown + (f"; awaiting approval: {', '.join(waiting)}" if waiting else "")


def watch(ctx: click.Context, pipeline: str, timeout: float, interval: float = POLL_SECONDS) -> int:
    """Print each change of the pipeline's stages until its run ends; the exit code it earned."""
    deadline, last = time.monotonic() + timeout, ""
    while True:
        _, doc = _call(ctx, "GET", f"/pipelines/{pipeline}")
        line = _progress(doc)
        if line != last:
            click.echo(f"{time.strftime('%H:%M:%S')}  {line}", err=True)
            last = line
        outcome = _finished(doc)
        if outcome or doc.get("awaiting_approval"):
            _emit(doc)
            return REFUSED if outcome == "Failed" else DONE
        if time.monotonic() > deadline:
            click.echo(f"still running after {timeout:.0f} s", err=True)
            _emit(doc)
            return REFUSED
        time.sleep(interval)


def register(cli: click.Group) -> None:
    """Add the commands to the ``mlops`` group."""

    @cli.command()
    @click.argument("file")
    @click.option("--multi-account", is_flag=True, help="Validate for a multi-account installation.")
    @click.option("--model-registry", is_flag=True, help="Validate for an installation that uses the model registry.")
    def validate(file: str, multi_account: bool, model_registry: bool) -> None:
        """Check a request body offline, as the orchestrator would; print every problem."""
        from dataclasses import replace

        from chalicelib import provisioning
        from chalicelib.body import SWITCHES
        from chalicelib.errors import ValidationFailed
        from chalicelib.settings import Settings

        body = _read(file)
        for switch in SWITCHES:  # not fields of the pipeline
            body.pop(switch, None)
        settings = replace(Settings.from_env(), assets_bucket="assets", multi_account=multi_account,
                           use_model_registry=model_registry)  # fmt: skip
        try:
            entry, request = provisioning.validate(body, settings)
            provisioning.render(entry, request, settings)  # the parameters must fit CloudFormation too
        except ValidationFailed as exc:
            _emit({"valid": False, "message": exc.message, "problems": [p.as_dict() for p in exc.problems]})
            raise SystemExit(REFUSED) from exc
        _emit({"valid": True, "pipeline_type": entry.name})

    @cli.command()
    @click.argument("file")
    @click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
    @click.option(
        "--upgrade-blueprints", is_flag=True, help="Move an existing pipeline to the blueprints installed now."
    )
    @click.option("--wait", is_flag=True, help="Follow the pipeline's run until it ends or awaits approval.")
    @click.option("--timeout", default=3600.0, show_default=True, help="Longest --wait, in seconds.")
    @click.option("--interval", default=POLL_SECONDS, show_default=True, help="Seconds between status reads.")
    @click.pass_context
    def provision(
        ctx: click.Context, file: str, dry_run: bool, upgrade_blueprints: bool, wait: bool, timeout: float,
        interval: float,
    ) -> None:  # fmt: skip
        """Create or update the pipeline a request body describes."""
        body = _read(file)
        if dry_run:
            body["dry_run"] = True
        if upgrade_blueprints:
            body["upgrade_blueprints"] = True
        # A pipeline stack whose creation failed is deleted first (202, then 409 while it goes);
        # the same request, sent again once it is gone, creates the pipeline.
        _, answer = repeat_while_accepted(
            ctx,
            lambda: _call(ctx, "POST", "/provisionpipeline", body, allow=_still_deleting),
            lambda doc: (
                f"{doc.get('stack_name', 'the pipeline stack')} is {doc.get('stack_status', 'busy')}; "
                "it is created again once deleted"
            ),
            wait and not dry_run,
            timeout,
            interval,
        )
        _emit(answer)
        if wait and not dry_run:
            raise SystemExit(watch(ctx, answer["stack_name"], timeout, interval))

    @cli.command()
    @click.argument("pipeline_id")
    @click.option("--watch", "follow", is_flag=True, help="Follow the run until it ends or awaits approval.")
    @click.option("--timeout", default=3600.0, show_default=True, help="Longest --watch, in seconds.")
    @click.option("--interval", default=POLL_SECONDS, show_default=True, help="Seconds between status reads.")
    @click.pass_context
    def status(ctx: click.Context, pipeline_id: str, follow: bool, timeout: float, interval: float) -> None:
        """A pipeline: request, stages, deployed stacks and outputs, latest failure."""
        name = name_of_stack_id(pipeline_id)
        if follow:
            raise SystemExit(watch(ctx, name, timeout, interval))
        _, doc = _call(ctx, "GET", f"/pipelines/{name}")
        _emit(doc)

    @cli.command(name="list")
    @click.option("--type", "pipeline_type", help="Only pipelines of this type.")
    @click.option("--status", "stack_status", help="Only pipelines whose stack has this status.")
    @click.pass_context
    def list_(ctx: click.Context, pipeline_type: str | None, stack_status: str | None) -> None:
        """Every pipeline, one line each (all pages)."""
        from urllib.parse import urlencode

        token: str | None = None
        while True:
            query = {k: v for k, v in {"type": pipeline_type, "status": stack_status, "next_token": token}.items() if v}
            _, page = _call(ctx, "GET", "/pipelines" + (f"?{urlencode(query)}" if query else ""))
            for item in page["pipelines"]:
                click.echo(f"{item['name']}\t{item['pipeline_type']}\t{item['status']}\t{item['updated']}")
            token = page.get("next_token")
            if not token:
                return

    def _decide(ctx: click.Context, pipeline_id: str, stage: str, decision: str, comment: str) -> None:
        body = {"stage": stage, "decision": decision, "comment": comment}
        _, answer = _call(ctx, "POST", f"/pipelines/{name_of_stack_id(pipeline_id)}/approval", body)
        _emit(answer)

    def decision_command(decision: str, summary: str) -> None:
        @cli.command(name=decision, help=summary)
        @click.argument("pipeline_id")
        @click.argument("stage")
        @click.option("--comment", default="", help=f"Why (kept with the decision to {decision}).")
        @click.pass_context
        def command(ctx: click.Context, pipeline_id: str, stage: str, comment: str) -> None:
            _decide(ctx, pipeline_id, stage, decision, comment)

    decision_command("approve", "Promote a pipeline into STAGE (staging or prod).")
    decision_command("reject", "Stop a pipeline's promotion into STAGE.")

    @cli.command()
    @click.argument("pipeline_id")
    @click.option("--wait", is_flag=True, help="Repeat the delete until everything the pipeline deployed is gone.")
    @click.option("--timeout", default=3600.0, show_default=True, help="Longest --wait, in seconds.")
    @click.option(
        "--interval", type=float, default=None, help="Seconds between repeats (default: the API's Retry-After)."
    )
    @click.pass_context
    def delete(ctx: click.Context, pipeline_id: str, wait: bool, timeout: float, interval: float | None) -> None:
        """Delete what a pipeline deployed and the pipeline; data buckets stay.

        Stacks and stack sets take minutes to go: the API answers 202 while any remains and
        keeps the pipeline until all are gone. Without --wait that exits 4; run the command
        again (it carries on where it stopped) or give --wait.
        """
        path = f"/pipelines/{name_of_stack_id(pipeline_id)}"

        def remaining(doc: dict[str, Any]) -> str:
            left = {
                name: state for name, state in (doc.get("stacks") or {}).items() if state not in ("absent", "deleted")
            }
            return "still being removed: " + (", ".join(f"{n} ({s})" for n, s in sorted(left.items())) or "-")

        _, answer = repeat_while_accepted(ctx, lambda: _call(ctx, "DELETE", path), remaining, wait, timeout, interval)
        _emit(answer)
