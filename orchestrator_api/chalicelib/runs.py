"""Runs of a pipeline: how its latest run ended, and starting another (``retry``).

A pipeline runs when its stack creates or changes it. A run that failed on its inputs (a
baseline not yet uploaded, a bucket created late) succeeds once they are fixed, but the same
request is then "unchanged" and starts nothing: a retry starts a new run of the pipeline as it
is (CodePipeline's StartPipelineExecution), without a new ``run_id``. An "unchanged" answer for
a pipeline whose latest run failed says so (:func:`retry_hint`).

The CodePipeline pipeline is named after the stack it deploys (the pipeline stack's
``StackName`` parameter); callers pass that name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from . import aws
from .errors import Conflict, UpstreamError

NOT_CREATED = "the pipeline stack has not created the pipeline yet; wait for its creation, then retry"


def retry_path(stack_name: str) -> str:
    """The API path that retries the pipeline of a stack name."""
    return f"/pipelines/{quote(stack_name, safe='')}/retry"


def latest_failure(pipeline: str) -> str | None:
    """The reason the pipeline's latest run failed, or None (succeeded, running, unknown)."""
    try:
        state = aws.client("codepipeline").get_pipeline_state(name=pipeline)
    except Exception:
        return None  # best effort: the answer it adds to is right without it
    failed: str | None = None
    for stage in state.get("stageStates", []):
        if stage.get("latestExecution", {}).get("status") != "Failed":
            continue
        for action in stage.get("actionStates", []):
            latest = action.get("latestExecution", {})
            if latest.get("status") == "Failed":
                detail = (latest.get("errorDetails") or {}).get("message") or "failed"
                return f"{stage.get('stageName')}/{action.get('actionName')}: {detail}"
        failed = f"stage {stage.get('stageName')} failed"
    return failed


def retry_hint(pipeline: str) -> dict[str, Any]:
    """For an "unchanged" answer: how to run the pipeline again when its latest run failed."""
    failure = latest_failure(pipeline)
    if failure is None:
        return {}
    return {
        "latest_run": "Failed",
        "latest_failure": failure,
        "retry": (
            "resending the same request changes nothing; once the inputs are fixed, run the pipeline "
            f"again with `mlops retry {pipeline}` or POST {retry_path(pipeline)} "
            "(a new run_id in the request also starts a new run)"
        ),
    }


def retry(pipeline: str, pipeline_id: str) -> dict[str, Any]:
    """Start a new run of the pipeline as it is."""
    try:
        started = aws.client("codepipeline").start_pipeline_execution(name=pipeline)
    except Exception as exc:
        if aws.error_code(exc) == "PipelineNotFoundException":
            raise Conflict(NOT_CREATED, pipeline=pipeline) from exc
        raise UpstreamError(f"could not start a run of pipeline {pipeline}: {exc}") from exc
    return {
        "message": f"a new run of pipeline {pipeline} started",
        "pipeline_id": pipeline_id,
        "pipeline": pipeline,
        "execution_id": started.get("pipelineExecutionId"),
    }
