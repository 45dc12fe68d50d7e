"""What the ``mlops`` commands print: tables for people, one JSON document for scripts.

People get rich tables (stages, outputs, pipelines) on stdout and progress on stderr; the
reason of a failure is printed in full, never cut to fit a column. ``--json`` prints exactly
one JSON document on stdout per command, whatever happened, so ``| python -m json.tool`` and
``| jq`` always work.

Reading a run from a status document is here too: which run the document shows, whether it
ended, and why it failed. CodePipeline reports each stage's latest execution; the stages a run
has not reached yet still show an earlier run's (or, in local mode, none), so a run is the
first stage's execution and the stages that carry the same id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

STYLE = {"Succeeded": "green", "Failed": "red", "InProgress": "yellow", "Stopped": "red", "Rejected": "red"}


# Where no terminal says how wide it is (a log, a pipe), lines are not folded to 80 columns.
LOG_WIDTH = 200


def _console(stderr: bool) -> Console:
    console = Console(stderr=stderr, soft_wrap=True, highlight=False)
    if not console.is_terminal:
        console = Console(stderr=stderr, soft_wrap=True, highlight=False, width=LOG_WIDTH)
    return console


def stdout() -> Console:
    return _console(stderr=False)


def stderr() -> Console:
    return _console(stderr=True)


def when(value: Any) -> str:
    """An ISO 8601 time as ``YYYY-MM-DD HH:MM:SS`` (UTC as given), '-' for none."""
    text = str(value or "")
    return text[:19].replace("T", " ") if len(text) >= 19 else (text or "-")


def emit_json(doc: Any) -> None:
    print(json.dumps(doc, indent=2, default=str))


def _status(value: str | None) -> Text:
    return Text(value or "-", style=STYLE.get(value or "", ""))


# --- runs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """The run a status document shows: its id, its outcome so far, the first failure's reason."""

    execution_id: str | None
    outcome: str | None  # Succeeded | Failed | None (under way, or no run yet)
    reason: str | None
    awaiting: tuple[str, ...] = ()


def stages_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list((doc.get("pipeline") or {}).get("stages") or [])


def run_of(doc: dict[str, Any]) -> Run:
    stages = stages_of(doc)
    current = stages[0].get("execution_id") if stages else None
    mine = [s for s in stages if s.get("execution_id") == current and s.get("status")]
    reason = None
    for stage in mine:
        for action in stage.get("actions") or []:
            if action.get("status") == "Failed":
                reason = f"{stage['name']}/{action['name']}: {action.get('error') or 'failed'}"
                break
        if reason:
            break
    outcome = None
    if any(s["status"] == "Failed" for s in mine):
        outcome = "Failed"
        reason = reason or doc.get("latest_failure") or "a stage failed"
    elif stages and len(mine) == len(stages) and all(s["status"] == "Succeeded" for s in mine):
        outcome = "Succeeded"
    awaiting = tuple(a["stage"] for a in doc.get("awaiting_approval") or [])
    return Run(current, outcome, reason, awaiting)


def last_run(doc: dict[str, Any]) -> str:
    """One word for the list: how the latest run stands."""
    if not stages_of(doc):
        return "not started"
    run = run_of(doc)
    if run.outcome:
        return run.outcome
    if run.awaiting:
        return "awaiting approval"
    return "InProgress"


# --- tables ----------------------------------------------------------------------------


def stage_table(doc: dict[str, Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for column in ("stage", "status", "last change", "error"):
        table.add_column(column, overflow="fold")
    for stage in stages_of(doc):
        actions = stage.get("actions") or []
        changes = [a["updated"] for a in actions if a.get("updated")]
        errors = [f"{a['name']}: {a['error']}" for a in actions if a.get("error")]
        first = errors[0] if errors else ""
        table.add_row(
            stage["name"], _status(stage.get("status")), when(max(changes) if changes else None), _short(first)
        )
    return table


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def progress(doc: dict[str, Any], waiting_for: str) -> str:
    """One line of a run's progress (for logs, where a live view cannot redraw)."""
    stages = stages_of(doc)
    if not stages:
        return waiting_for
    shown = ", ".join(f"{s['name']} {s.get('status') or '-'}" for s in stages)
    awaiting = [a["stage"] for a in doc.get("awaiting_approval") or []]
    return shown + (f"; awaiting approval: {', '.join(awaiting)}" if awaiting else "")


def print_status(doc: dict[str, Any], console: Console | None = None) -> None:
    """A pipeline's stages, its key outputs, its live endpoint, then the first failure's reason in full."""
    console = console or stdout()
    stack = doc.get("pipeline_stack") or {}
    name = (doc.get("pipeline") or {}).get("name") or stack.get("name") or doc.get("pipeline_id")
    console.print(
        Text.assemble(("pipeline ", "bold"), (str(name), "bold"), f"  ({doc.get('pipeline_type') or 'unknown type'})")
    )
    console.print(f"pipeline stack: {stack.get('name')} {stack.get('status')}")
    if stages_of(doc):
        console.print(stage_table(doc))
    else:
        console.print((doc.get("pipeline") or {}).get("note") or doc.get("message") or "no run yet")
    deployed = doc.get("deployed_stack") or {}
    if deployed:
        console.print(f"deployed stack: {deployed.get('name')} {deployed.get('status')}")
        outputs = deployed.get("outputs") or {}
        if outputs:
            table = Table(box=box.SIMPLE_HEAD, show_edge=False)
            table.add_column("output")
            table.add_column("value", overflow="fold")
            for key, value in sorted(outputs.items()):
                table.add_row(key, str(value))
            console.print(table)
    if doc.get("endpoint"):
        print_endpoint(doc["endpoint"], console)
    for waiting in doc.get("awaiting_approval") or []:
        console.print(f"awaiting approval: {waiting['stage']} (since {waiting.get('since')})")
    run = run_of(doc)
    reason = run.reason if run.outcome == "Failed" else doc.get("latest_failure")
    if reason:
        console.print(Text("failure: ", style="bold red") + Text(str(reason)))


# --- a real-time pipeline's live endpoint ----------------------------------------------------


def _weight(value: Any) -> str:
    return f"{float(value):g}" if isinstance(value, int | float) else "-"


def _variant(variant: dict[str, Any]) -> str:
    """``AllTraffic weight 1, 2/2 instances``, or the serverless capacity; its latest phase if any."""
    serverless = variant.get("serverless")
    if serverless:
        capacity = "serverless " + ", ".join(f"{k} {v}" for k, v in sorted(serverless.items()))
    else:
        counts = variant.get("instances") or {}
        capacity = f"{counts.get('current', '-')}/{counts.get('desired', '-')} instances"
    text = f"{variant.get('name')} weight {_weight(variant.get('weight'))}, {capacity}"
    status = variant.get("status") or {}
    if status.get("phase"):
        text += f", {status['phase']}" + (f" ({status['message']})" if status.get("message") else "")
    return text


def _range(capacity: dict[str, Any] | None) -> str:
    return f"{capacity.get('min')}-{capacity.get('max')}" if capacity else "none"


def endpoint_lines(endpoint: dict[str, Any]) -> list[str]:
    """The status document's ``endpoint`` section, a line each: status, variants, deployment, scaling, shadow."""
    config = f" (config {endpoint['config']})" if endpoint.get("config") else ""
    lines = [f"endpoint: {endpoint.get('name')} {endpoint.get('status') or '-'}{config}"]
    if endpoint.get("note"):
        lines.append(f"  note: {endpoint['note']}")
    for variant in endpoint.get("variants") or []:
        lines.append(f"  variant {_variant(variant)}")
    deployment = endpoint.get("deployment") or {}
    moving = deployment.get("in_progress")
    if moving:
        new, old = float(moving.get("new_fleet_weight") or 0), float(moving.get("old_fleet_weight") or 0)
        share = f" ({new / (new + old) * 100:.0f}% of traffic on the new fleet)" if new + old else ""
        phase = moving.get("phase") or "-"
        if moving.get("phase_message"):
            phase += f" ({moving['phase_message']})"
        lines.append(
            f"  deployment in progress: to config {moving.get('target_config')} since {when(moving.get('started'))}, "
            f"phase {phase}"
        )
        lines.append(f"  traffic: new fleet weight {_weight(new)}, old fleet weight {_weight(old)}{share}")
    if deployment.get("requested"):
        lines.append(f"  updates shift traffic: {deployment['requested']}")
    if deployment.get("alarms_watched"):
        lines.append(f"  alarms watched: {', '.join(str(a) for a in deployment['alarms_watched'])}")
    if deployment.get("rolling_back"):
        lines.append(f"  rolling back: {deployment.get('rollback_reason') or 'no reason given'}")
    elif endpoint.get("failure_reason"):
        lines.append(f"  failure: {endpoint['failure_reason']}")
    scaling = endpoint.get("autoscaling")
    if scaling:
        lines.append(
            f"  autoscaling ({scaling.get('tracks')}): {_range(scaling.get('requested'))} requested, "
            f"{_range(scaling.get('registered'))} registered"
        )
        if scaling.get("note"):
            lines.append(f"  note: {scaling['note']}")
    shadow = endpoint.get("shadow")
    if shadow:
        lines.append(f"  shadow requested: {shadow.get('requested') or 'none'}")
        deployed = [_variant(v) for v in shadow.get("variants") or []]
        lines.append(f"  shadow deployed: {'; '.join(deployed) or 'none'}")
        if shadow.get("note"):
            lines.append(f"  note: {shadow['note']}")
    return lines


def print_endpoint(endpoint: dict[str, Any], console: Console | None = None) -> None:
    console = console or stdout()
    for line in endpoint_lines(endpoint):
        console.print(Text(line))  # as given: a status message is not markup


def print_list(items: list[dict[str, Any]], filtered: bool, console: Console | None = None) -> None:
    console = console or stdout()
    if not items:
        console.print("no pipelines match" if filtered else "no pipelines yet: mlops provision BODY.json creates one")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for column in ("name", "type", "stack status", "last run", "updated"):
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(
            item["name"],
            item.get("pipeline_type") or "-",
            item.get("status") or "-",
            _status(item.get("last_run")),
            when(item.get("updated")),
        )
    console.print(table)


def print_refusal(answer: dict[str, Any], console: Console | None = None) -> None:
    """A 4xx or 5xx answer: its message and each problem, by field."""
    console = console or stdout()
    console.print(Text("refused: ", style="bold red") + Text(str(answer.get("message") or answer)))
    for problem in answer.get("problems") or []:
        console.print(f"  {problem.get('field')}: {problem.get('problem')}")
    for key in ("stack_status", "dependents", "retry_after_seconds"):
        if answer.get(key):
            console.print(f"  {key}: {answer[key]}")
    print_warnings(answer, console)


def print_warnings(answer: dict[str, Any], console: Console | None = None) -> None:
    console = console or stdout()
    for warning in answer.get("warnings") or []:
        console.print(f"warning: {warning.get('field')}: {warning.get('warning')}")


def print_answer(answer: dict[str, Any], console: Console | None = None) -> None:
    """A provision, delete, approval or retry answer: its message and the fields that matter.

    A dry run's update adds the parameter diff, the resources it replaces and what it does to a
    live endpoint."""
    console = console or stdout()
    if answer.get("message"):
        console.print(str(answer["message"]))
    for key in ("pipeline_id", "stack_name", "action", "execution_id", "decision", "done"):
        if key in answer:
            console.print(f"  {key}: {answer[key]}")
    for change in answer.get("changes") or []:
        console.print(f"  changes {change.get('field')}: {change.get('old')!r} -> {change.get('new')!r}")
    for stage, rows in (answer.get("parameter_diff") or {}).items():
        for row in rows:
            replaces = f"  (replaces {row['replaces']})" if row.get("replaces") else ""
            if row.get("replaces") and row.get("because_of"):
                replaces = f"  (replaces {row['replaces']}, because of {', '.join(row['because_of'])})"
            console.print(f"  {stage} {row['parameter']}: {row.get('old')!r} -> {row.get('new')!r}{replaces}")
    for replaced in answer.get("replacements") or []:
        console.print(Text(f"  replaces: {replaced}"))
    for stage, notes in (answer.get("endpoint_update") or {}).items():
        where = "" if stage == "all" else f" ({stage})"
        for note in notes:
            console.print(Text(f"  endpoint update{where}: {note}"))
    stacks = answer.get("stacks")
    if isinstance(stacks, dict):
        for name, state in sorted(stacks.items()):
            console.print(f"  {name}: {state}")
    print_warnings(answer, console)
    if answer.get("latest_failure") and answer.get("retry"):
        console.print(Text("latest run failed: ", style="bold red") + Text(str(answer["latest_failure"])))
        console.print(str(answer["retry"]))
