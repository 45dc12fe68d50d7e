"""``mlops`` commands that talk to an orchestrator: validate, provision, status, list, approve,
reject, retry, delete.

People get tables and a live progress view; ``--json`` prints one JSON document per command
for scripts (see :mod:`.output`).

Exit codes, for scripts:
  0  done: valid, provisioned, deployed, approved, retried, deleted
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
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from chalicelib.naming import name_of_stack_id

from . import output
from .client import API_URL_ENV, STACK_ENV, Api, ClientError, api_url_from_stack

DONE, REFUSED, USAGE, UNREACHABLE, PENDING = 0, 1, 2, 3, 4
POLL_SECONDS = 5.0
ACCEPTED = 202
NO_CHANGE = "no change, nothing to wait for"
FAILED_STACK = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED")


# --- output mode ---------------------------------------------------------------------------


def _set_json(ctx: click.Context, _: Any, value: bool) -> None:
    if value:
        ctx.meta["mlops_json"] = True


def json_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--json``: one JSON document on stdout instead of tables."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_json,
        help="Print one JSON document (for scripts) instead of tables.",
    )(command)


def json_wanted() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.meta.get("mlops_json"))


def _emit(doc: Any, human: Callable[[Any], None] = output.print_answer) -> None:
    """``doc`` as JSON with --json, else as ``human`` prints it."""
    if json_wanted():
        output.emit_json(doc)
    else:
        human(doc)


def _note(text: str) -> None:
    """Progress and hints for people, on stderr (never mixed into a JSON document)."""
    click.echo(text, err=True)


# --- requests ------------------------------------------------------------------------------


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
    if status >= 400:
        _emit(answer, output.print_refusal)
        raise SystemExit(UNREACHABLE if status >= 500 else REFUSED)
    return status, answer


def pipeline_path(pipeline_id: str) -> str:
    """``/pipelines/{id}`` for a stack name or the stack ARN provision returned, URL-encoded
    (the API decodes it; API Gateway matches the ARN's decoded slashes as three segments)."""
    return f"/pipelines/{quote(pipeline_id.strip(), safe='')}"


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
        _note(f"{time.strftime('%H:%M:%S')}  {describe(answer)}")
        if not wait or time.monotonic() > deadline:
            _emit(answer)
            _note("not finished: run the same command again, or give --wait")
            raise SystemExit(PENDING)
        pause = interval if interval is not None else float(answer.get("retry_after_seconds") or POLL_SECONDS)
        time.sleep(pause)


# --- following a run -------------------------------------------------------------------------


class Watched:
    """How following a run ended: the exit code it earned, the last status document, and why."""

    def __init__(self, code: int, doc: dict[str, Any], summary: str) -> None:
        self.code, self.doc, self.summary = code, doc, summary

    def as_json(self) -> dict[str, Any]:
        run = output.run_of(self.doc)
        return {"outcome": self.summary, "execution_id": run.execution_id, "reason": run.reason, "status": self.doc}


def watch(
    ctx: click.Context,
    pipeline: str,
    timeout: float,
    interval: float = POLL_SECONDS,
    after: str | None = None,
    execution: str | None = None,
    waiting_for: str = "waiting for the pipeline's run to start",
) -> Watched:
    """Follow a run of the pipeline until it ends or awaits approval.

    The run followed is the latest one, and with ``after`` one other than that execution (the run
    an update starts, not the one before it), or with ``execution`` that very one (a retry's).
    A terminal shows a live table of the stages; a log gets a line per change.
    """
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    console = output.stderr()
    live = Live(console=console, transient=True, auto_refresh=False) if console.is_terminal else None
    deadline, last = time.monotonic() + timeout, ""
    if live:
        live.start()
    try:
        while True:
            _, doc = _call(ctx, "GET", pipeline_path(pipeline))
            run = output.run_of(doc)
            ours = bool(output.stages_of(doc)) and run.execution_id != after
            ours = ours and (execution is None or run.execution_id == execution)
            line = output.progress(doc, waiting_for) if ours else waiting_for
            if live:
                shown = [Text(f"{time.strftime('%H:%M:%S')}  {line}")]
                live.update(Group(*shown, output.stage_table(doc)) if ours else shown[0], refresh=True)
            elif line != last:
                _note(f"{time.strftime('%H:%M:%S')}  {line}")
            last = line
            if ours and run.outcome:
                return Watched(DONE if run.outcome == "Succeeded" else REFUSED, doc, f"Run {run.outcome}")
            if ours and run.awaiting:
                return Watched(DONE, doc, f"awaiting approval: {', '.join(run.awaiting)}")
            stack_status = (doc.get("pipeline_stack") or {}).get("status") or ""
            if not ours and stack_status.endswith(FAILED_STACK):
                reason = doc.get("latest_failure") or stack_status
                return Watched(REFUSED, doc, f"the pipeline stack is {stack_status}: {reason}")
            if time.monotonic() > deadline:
                return Watched(REFUSED, doc, f"still running after {timeout:.0f} s")
            time.sleep(interval)
    finally:
        if live:
            live.stop()


def finish(watched: Watched, extra: dict[str, Any] | None = None) -> None:
    """Print how the run ended (the reason in full on failure) and exit with its code."""
    if json_wanted():
        output.emit_json({**(extra or {}), **watched.as_json()})
    else:
        output.print_status(watched.doc)
        run = output.run_of(watched.doc)
        if run.outcome == "Failed" and watched.summary == "Run Failed":
            _note(f"Run Failed: {run.reason}")
        else:
            _note(watched.summary)
    raise SystemExit(watched.code)


def _print_valid(answer: dict[str, Any]) -> None:
    click.echo(f"valid: {answer['pipeline_type']}")
    output.print_warnings(answer)


def _current_execution(ctx: click.Context, body: dict[str, Any]) -> str | None:
    """The execution the pipeline of ``body`` shows now, before it is provisioned (None: no run).

    A dry run names the pipeline as this installation would, without changing anything."""
    status, preview = _call(ctx, "POST", "/provisionpipeline", {**body, "dry_run": True}, allow=lambda s, a: True)
    if status != 200 or preview.get("action") == "create" or not preview.get("stack_name"):
        return None
    status, doc = _call(ctx, "GET", pipeline_path(preview["stack_name"]), allow=lambda s, a: True)
    return output.run_of(doc).execution_id if status == 200 else None


def _list_items(ctx: click.Context, pipeline_type: str | None, stack_status: str | None) -> list[dict[str, Any]]:
    """Every page of the list, each pipeline with how its latest run stands."""
    from urllib.parse import urlencode

    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        query = {k: v for k, v in {"type": pipeline_type, "status": stack_status, "next_token": token}.items() if v}
        _, page = _call(ctx, "GET", "/pipelines" + (f"?{urlencode(query)}" if query else ""))
        items += page["pipelines"]
        token = page.get("next_token")
        if not token:
            break
    for item in items:
        body = {"pipeline_id": item["pipeline_id"]}
        status, doc = _call(ctx, "POST", "/pipelinestatus", body, allow=lambda s, a: True)
        item["last_run"] = output.last_run(doc) if status == 200 else "unknown"
    return items


def register(cli: click.Group) -> None:
    """Add the commands to the ``mlops`` group."""

    @cli.command()
    @click.argument("file")
    @click.option("--multi-account", is_flag=True, help="Validate for a multi-account installation.")
    @click.option("--model-registry", is_flag=True, help="Validate for an installation that uses the model registry.")
    @json_option
    def validate(file: str, multi_account: bool, model_registry: bool) -> None:
        """Check a request body offline, as the orchestrator would; print every problem and warning."""
        from dataclasses import replace

        from chalicelib import intake, provisioning
        from chalicelib.body import SWITCHES
        from chalicelib.errors import ValidationFailed
        from chalicelib.settings import Settings

        body = _read(file)
        for switch in SWITCHES:  # not fields of the pipeline
            body.pop(switch, None)
        settings = replace(Settings.from_env(), assets_bucket="assets", multi_account=multi_account,
                           use_model_registry=model_registry)  # fmt: skip
        warnings = intake.warnings_of(body, settings)
        extra = {"warnings": warnings} if warnings else {}
        try:
            entry, request = provisioning.validate(body, settings)
            provisioning.render(entry, request, settings)  # the parameters must fit CloudFormation too
        except ValidationFailed as exc:
            problems = [p.as_dict() for p in exc.problems]
            _emit({"valid": False, "message": exc.message, "problems": problems, **extra}, output.print_refusal)
            raise SystemExit(REFUSED) from exc
        answer = {"valid": True, "pipeline_type": entry.name, **extra}
        _emit(answer, _print_valid)

    @cli.command()
    @click.argument("file")
    @click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
    @click.option(
        "--upgrade-blueprints", is_flag=True, help="Move an existing pipeline to the blueprints installed now."
    )
    @click.option("--wait", is_flag=True, help="Follow the run this provision starts until it ends or awaits approval.")
    @click.option("--timeout", default=3600.0, show_default=True, help="Longest --wait, in seconds.")
    @click.option("--interval", default=POLL_SECONDS, show_default=True, help="Seconds between status reads.")
    @json_option
    @click.pass_context
    def provision(
        ctx: click.Context, file: str, dry_run: bool, upgrade_blueprints: bool, wait: bool, timeout: float,
        interval: float,
    ) -> None:  # fmt: skip
        """Create or update the pipeline a request body describes.

        With --wait, follow the run this provision starts (never an earlier one); when nothing
        changed there is none, and a pipeline whose latest run failed exits 1 with how to retry.
        """
        body = _read(file)
        if dry_run:
            body["dry_run"] = True
        if upgrade_blueprints:
            body["upgrade_blueprints"] = True
        wait = wait and not dry_run
        before = _current_execution(ctx, body) if wait else None
        # A pipeline stack whose creation failed is deleted first (202, then 409 while it goes);
        # the same request, sent again once it is gone, creates the pipeline.
        _, answer = repeat_while_accepted(
            ctx,
            lambda: _call(ctx, "POST", "/provisionpipeline", body, allow=_still_deleting),
            lambda doc: (
                f"{doc.get('stack_name', 'the pipeline stack')} is {doc.get('stack_status', 'busy')}; "
                "it is created again once deleted"
            ),
            wait,
            timeout,
            interval,
        )
        if not wait:
            _emit(answer)
            return
        failed_before = answer.get("latest_run") == "Failed"
        if not answer.get("changed", True):
            if json_wanted():
                output.emit_json({"provision": answer, "outcome": NO_CHANGE})
            else:
                output.print_answer(answer)
                _note(NO_CHANGE)
            raise SystemExit(REFUSED if failed_before else DONE)
        if not json_wanted():
            output.print_answer(answer)
        waiting_for = (
            "stack creation started; waiting for the pipeline's first run"
            if answer.get("action") == "created"
            else "update started; waiting for the run it starts"
        )
        watched = watch(ctx, answer["stack_name"], timeout, interval, after=before, waiting_for=waiting_for)
        finish(watched, {"provision": answer})

    @cli.command()
    @click.argument("pipeline_id")
    @click.option("--watch", "follow", is_flag=True, help="Follow the latest run until it ends or awaits approval.")
    @click.option("--timeout", default=3600.0, show_default=True, help="Longest --watch, in seconds.")
    @click.option("--interval", default=POLL_SECONDS, show_default=True, help="Seconds between status reads.")
    @json_option
    @click.pass_context
    def status(ctx: click.Context, pipeline_id: str, follow: bool, timeout: float, interval: float) -> None:
        """A pipeline: its stages, key outputs and the first failure's reason (PIPELINE_ID: the
        pipeline_id provision returned, or the stack name)."""
        if follow:
            finish(watch(ctx, pipeline_id, timeout, interval))
        _, doc = _call(ctx, "GET", pipeline_path(pipeline_id))
        _emit(doc, output.print_status)

    @cli.command(name="list")
    @click.option("--type", "pipeline_type", help="Only pipelines of this type.")
    @click.option("--status", "stack_status", help="Only pipelines whose stack has this status.")
    @json_option
    @click.pass_context
    def list_(ctx: click.Context, pipeline_type: str | None, stack_status: str | None) -> None:
        """Every pipeline (all pages) with its stack's status and how its latest run ended."""
        items = _list_items(ctx, pipeline_type, stack_status)
        filtered = bool(pipeline_type or stack_status)
        _emit({"pipelines": items}, lambda doc: output.print_list(doc["pipelines"], filtered))

    def _decide(ctx: click.Context, pipeline_id: str, stage: str, decision: str, comment: str) -> None:
        body = {"stage": stage, "decision": decision, "comment": comment}
        _, answer = _call(ctx, "POST", f"/pipelines/{name_of_stack_id(pipeline_id)}/approval", body)
        _emit(answer)

    def decision_command(decision: str, summary: str) -> None:
        @cli.command(name=decision, help=summary)
        @click.argument("pipeline_id")
        @click.argument("stage")
        @click.option("--comment", default="", help=f"Why (kept with the decision to {decision}).")
        @json_option
        @click.pass_context
        def command(ctx: click.Context, pipeline_id: str, stage: str, comment: str) -> None:
            _decide(ctx, pipeline_id, stage, decision, comment)

    decision_command("approve", "Promote a pipeline into STAGE (staging or prod).")
    decision_command("reject", "Stop a pipeline's promotion into STAGE.")

    @cli.command()
    @click.argument("pipeline_id")
    @click.option("--wait", is_flag=True, help="Follow the new run until it ends or awaits approval.")
    @click.option("--timeout", default=3600.0, show_default=True, help="Longest --wait, in seconds.")
    @click.option("--interval", default=POLL_SECONDS, show_default=True, help="Seconds between status reads.")
    @json_option
    @click.pass_context
    def retry(ctx: click.Context, pipeline_id: str, wait: bool, timeout: float, interval: float) -> None:
        """Run a pipeline again as it is, once the inputs its last run failed on are fixed.

        Resending the same request changes nothing and starts no run; this does.
        """
        name = name_of_stack_id(pipeline_id.strip())
        _, answer = _call(ctx, "POST", f"/pipelines/{quote(name, safe='')}/retry", {})
        if not wait:
            _emit(answer)
            return
        if not json_wanted():
            output.print_answer(answer)
        watched = watch(ctx, name, timeout, interval, execution=answer.get("execution_id"),
                        waiting_for="waiting for the new run to start")  # fmt: skip
        finish(watched, {"retry": answer})

    @cli.command()
    @click.argument("pipeline_id")
    @click.option("--wait", is_flag=True, help="Repeat the delete until everything the pipeline deployed is gone.")
    @click.option("--timeout", default=3600.0, show_default=True, help="Longest --wait, in seconds.")
    @click.option(
        "--interval", type=float, default=None, help="Seconds between repeats (default: the API's Retry-After)."
    )
    @json_option
    @click.pass_context
    def delete(ctx: click.Context, pipeline_id: str, wait: bool, timeout: float, interval: float | None) -> None:
        """Delete what a pipeline deployed and the pipeline; data buckets stay.

        Stacks and stack sets take minutes to go: the API answers 202 while any remains and
        keeps the pipeline until all are gone. Without --wait that exits 4; run the command
        again (it carries on where it stopped) or give --wait.
        """
        path = pipeline_path(pipeline_id)

        def remaining(doc: dict[str, Any]) -> str:
            left = {
                name: state for name, state in (doc.get("stacks") or {}).items() if state not in ("absent", "deleted")
            }
            return "still being removed: " + (", ".join(f"{n} ({s})" for n, s in sorted(left.items())) or "-")

        _, answer = repeat_while_accepted(ctx, lambda: _call(ctx, "DELETE", path), remaining, wait, timeout, interval)
        _emit(answer)
