"""Reading a run from a status document: the run an update starts is not the run before it.

CodePipeline reports each stage's latest execution, so while a new run is in its first stages
the later ones still show the previous run (a failed one, say): that must not end a wait.
"""

from __future__ import annotations

from typing import Any

from mlops_cli import output
from tests.support.realtime import CANARY, canary_in_progress, described


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


# --- a real-time pipeline's endpoint, as endpoint_status reads it from DescribeEndpoint -------


def endpoint(answer: dict[str, Any]) -> dict[str, Any]:
    """The status document's ``endpoint`` for a canary pipeline whose DescribeEndpoint answers ``answer``."""
    import boto3
    from botocore.stub import Stubber

    from chalicelib import aws, endpoint_status

    client = boto3.client("sagemaker", region_name="us-east-1")
    aws.inject("sagemaker", client)
    with Stubber(client) as stub:
        stub.add_response("describe_endpoint", answer, {"EndpointName": "churn-endpoint"})
        return endpoint_status.describe("churn-endpoint", CANARY)


def printed_status(section: dict[str, Any], capsys: Any) -> list[str]:
    shown = doc(stage("Source", "e", "Succeeded"), stage("Deploy", "e", "Succeeded"))
    shown["pipeline_stack"] = {"name": "p-codepipeline", "status": "UPDATE_COMPLETE"}
    shown["deployed_stack"] = {
        "name": "p",
        "status": "UPDATE_IN_PROGRESS",
        "outputs": {"EndpointName": "churn-endpoint"},
    }
    shown["endpoint"] = section
    output.print_status(shown)
    return list(capsys.readouterr().out.splitlines())


def test_status_shows_a_canary_in_progress_its_traffic_and_the_alarms_it_watches(capsys: Any) -> None:
    lines = printed_status(endpoint(canary_in_progress()), capsys)
    at = lines.index("endpoint: churn-endpoint Updating (config churn-xgboost-old)")
    assert lines[at + 1 : at + 6] == [
        "  variant AllTraffic weight 0.9, 2/2 instances",
        "  deployment in progress: to config churn-xgboost-new since 2026-12-01 12:05:00, phase Baking (canary)",
        "  traffic: new fleet weight 0.1, old fleet weight 0.9 (10% of traffic on the new fleet)",
        "  updates shift traffic: blue/green canary 10% for 600 s, then the rest; rolls back on 2 alarms "
        "(model 5xx, p99 model latency > 250 ms)",
        "  alarms watched: s-model-5xx, s-model-latency-p99",
    ]
    assert not any("rolling back" in line for line in lines)


def test_status_shows_a_rollback_and_its_reason_in_full(capsys: Any) -> None:
    reason = "Alarm s-model-5xx went into ALARM state during the deployment [AllTraffic] " + "x" * 150
    lines = printed_status(
        endpoint(described("churn-xgboost-old", 0.9, EndpointStatus="RollingBack", FailureReason=reason)), capsys
    )
    assert "endpoint: churn-endpoint RollingBack (config churn-xgboost-old)" in lines
    assert f"  rolling back: {reason}" in lines  # whole, brackets and all
    assert not any(line.startswith("  deployment in progress") for line in lines)


def test_status_says_when_the_endpoint_cannot_be_read(capsys: Any) -> None:
    import boto3
    from botocore.stub import Stubber

    from chalicelib import aws, endpoint_status

    client = boto3.client("sagemaker", region_name="us-east-1")
    aws.inject("sagemaker", client)
    with Stubber(client) as stub:
        stub.add_client_error("describe_endpoint", "ValidationException", "Could not find endpoint", 400)
        section = endpoint_status.describe("churn-endpoint", CANARY)
    lines = printed_status(section, capsys)
    at = lines.index("endpoint: churn-endpoint -")
    assert lines[at + 1] == "  note: endpoint unavailable: ValidationException"
