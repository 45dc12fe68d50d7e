"""Reading a run from a status document: the run an update starts is not the run before it.

CodePipeline reports each stage's latest execution, so while a new run is in its first stages
the later ones still show the previous run (a failed one, say): that must not end a wait.
"""

from __future__ import annotations

from typing import Any

from mlops_cli import output


def stage(name: str, execution: str | None, status: str | None, error: str | None = None) -> dict[str, Any]:
    action = {"name": f"{name}Action", "status": status, "error": error, "updated": "2026-12-01T06:00:00+00:00"}
    return {"name": name, "status": status, "execution_id": execution, "actions": [action]}


def doc(*stages: dict[str, Any], failure: str | None = None) -> dict[str, Any]:
    return {"pipeline": {"name": "p", "stages": list(stages)}, "latest_failure": failure}


def test_a_new_run_in_its_first_stage_is_not_ended_by_the_previous_runs_failure() -> None:
    shown = doc(stage("Source", "new", "InProgress"), stage("Deploy", "old", "Succeeded"),
                stage("Run", "old", "Failed", "no baseline"), failure="Run: no baseline")  # fmt: skip
    run = output.run_of(shown)
    assert run.execution_id == "new" and run.outcome is None and run.reason is None
    assert output.last_run(shown) == "InProgress"


def test_a_run_ends_when_its_own_stages_do_and_its_failure_is_given_in_full() -> None:
    reason = "BaselineFailed: no baseline data at s3://bucket/monitoring/a-long-key.csv: upload the baseline CSV there"
    failed = output.run_of(doc(stage("Source", "new", "Succeeded"), stage("Run", "new", "Failed", reason),
                               stage("Schedule", "old", "Succeeded")))  # fmt: skip
    assert failed.outcome == "Failed" and failed.reason == f"Run/RunAction: {reason}"
    done = output.run_of(doc(stage("Source", "new", "Succeeded"), stage("Run", "new", "Succeeded")))
    assert done.outcome == "Succeeded"
    assert output.last_run(doc()) == "not started"


def test_the_status_table_has_a_row_per_stage_and_the_reason_after_it(capsys: Any) -> None:
    reason = "RunJob: BaselineFailed: " + "x" * 150
    shown = doc(stage("Source", "e", "Succeeded"), stage("Run", "e", "Failed", reason))
    shown["pipeline_stack"] = {"name": "p-codepipeline", "status": "CREATE_COMPLETE"}
    shown["deployed_stack"] = {"name": "p", "status": "CREATE_COMPLETE", "outputs": {"JobName": "job-1"}}
    output.print_status(shown)
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert any(line.split()[:3] == ["stage", "status", "last"] for line in lines)
    assert any(line.split()[:4] == ["Run", "Failed", "2026-12-01", "06:00:00"] for line in lines)
    assert any(line.split() == ["JobName", "job-1"] for line in lines)
    assert lines[-1] == f"failure: Run/RunAction: {reason}"  # whole, on one line
