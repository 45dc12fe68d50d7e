"""Decide a pending manual approval of a promoted pipeline: approve or reject, with a comment."""

from __future__ import annotations

from typing import Any

from . import aws, status
from .errors import Conflict, NotFound, Problem, UpstreamError, ValidationFailed
from .settings import Settings
from .stacks import parameters as stack_parameters

DECISIONS = {"approve": "Approved", "approved": "Approved", "reject": "Rejected", "rejected": "Rejected"}
MAX_COMMENT = 512  # CodePipeline's limit for an approval summary


def _check(body: dict[str, Any]) -> tuple[str, str, str]:
    problems = []
    stage, decision, comment = body.get("stage"), body.get("decision"), body.get("comment", "")
    if not isinstance(stage, str) or not stage.strip():
        problems.append(Problem("stage", "is required: the stage to promote to, e.g. staging or prod"))
    if not isinstance(decision, str) or decision.lower() not in DECISIONS:
        problems.append(Problem("decision", "must be approve or reject"))
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        problems.append(Problem("comment", f"must be text of at most {MAX_COMMENT} characters"))
    unknown = sorted(set(body) - {"stage", "decision", "comment"})
    problems += [Problem(key, "is not a field of an approval (stage, decision, comment)") for key in unknown]
    if problems:
        raise ValidationFailed(problems, "the approval has problems")
    return str(stage).strip(), DECISIONS[str(decision).lower()], str(comment)


def decide(pipeline_id: Any, body: dict[str, Any], settings: Settings, caller: str = "") -> dict[str, Any]:
    stage, decision, comment = _check(body)
    pipeline = status.resolve(pipeline_id, settings)
    name = stack_parameters(pipeline).get("StackName", "")
    codepipeline = aws.client("codepipeline")
    try:
        state = codepipeline.get_pipeline_state(name=name)
    except Exception as exc:
        if aws.error_code(exc) == "PipelineNotFoundException":
            raise NotFound(f"pipeline {name} has not been created yet") from exc
        raise UpstreamError(f"could not read pipeline {name}: {exc}") from exc
    wanted = {stage.lower(), f"approve{stage.lower()}"}
    stages = [
        s for s in state.get("stageStates", []) if any(a["actionName"].startswith("Approve") for a in s["actionStates"])
    ]
    match = next((s for s in stages if s["stageName"].lower() in wanted), None)
    if match is None:
        known = ", ".join(s["stageName"].removeprefix("Approve").lower() for s in stages) or "none"
        raise ValidationFailed(
            [Problem("stage", f"{stage!r} has no approval in this pipeline; stages with one: {known}")]
        )
    action = next(
        (a for a in match["actionStates"] if (a.get("latestExecution") or {}).get("status") == "InProgress"), None
    )
    token = (action or {}).get("latestExecution", {}).get("token")
    if action is None or not token:
        raise Conflict(f"nothing awaits approval in {match['stageName']} now", stage=match["stageName"])
    summary = comment or f"{decision.lower()} through the orchestrator API" + (f" by {caller}" if caller else "")
    try:
        codepipeline.put_approval_result(
            pipelineName=name,
            stageName=match["stageName"],
            actionName=action["actionName"],
            result={"summary": summary[:MAX_COMMENT], "status": decision},
            token=token,
        )
    except Exception as exc:
        raise UpstreamError(f"could not record the decision: {exc}") from exc
    return {"pipeline_id": pipeline["StackId"], "stage": match["stageName"], "decision": decision, "summary": summary}
