"""Run a Step Functions state machine where the service is not available (local mode).

moto stores state machines but runs no tasks, so local mode interprets the subset of the
language the blueprints use: Task (SageMaker and CodeBuild ``.sync`` jobs, SNS publish,
``aws-sdk`` calls and Lambda invokes, run in-process by :mod:`.lambdas`), Pass, Wait,
Choice (``StringEquals``, ``Or``, ``And``, ``Not``), Succeed, Fail (with
``Cause``/``CausePath``), ``Catch`` and ``ResultSelector`` with ``ResultPath``, and
``Parameters`` with ``.$`` paths, ``States.Format`` and ``States.JsonToString``, and Map
(inline or distributed: items from ``ItemsPath`` or an ``ItemReader`` of a JSON array in S3,
``ItemSelector`` with ``$$.Map.Item`` paths, ``ItemProcessor``, ``ToleratedFailurePercentage``).
A distributed Map runs its items one after another here, each as an execution of its own. Job
failures surface as a failed execution whose cause is the job's failure reason, as in Step
Functions.

Tasks call the emulator with the session the machine runs as (its role's, in local mode); a
Lambda invoke is checked for ``lambda:InvokeFunction`` and runs the function as its own role.

Waits take no time: the emulator's jobs finish at once. moto leaves an AutoML job
``InProgress`` forever (its secondary status says ``Completed``), so an ``aws-sdk`` describe
of such a job reads ``Completed`` here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from botocore import xform_name

from chalicelib.aws import error_code

# integration -> (create call, describe call, name field, status field), by job kind
SYNC_JOBS = {
    f"sagemaker:create{kind}Job.sync": (
        f"create_{call}_job",
        f"describe_{call}_job",
        f"{kind}JobName",
        f"{kind}JobStatus",
    )
    for kind, call in (
        ("Transform", "transform"),
        ("Training", "training"),
        ("Processing", "processing"),
        ("HyperParameterTuning", "hyper_parameter_tuning"),
    )
}


class ExecutionFailed(Exception):
    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


class TaskFailed(Exception):
    def __init__(self, error: str, cause: str) -> None:
        super().__init__(cause)
        self.error, self.cause = error, cause


def path(document: Any, expression: str) -> Any:
    """A ``$.a.b`` reference into ``document``."""
    if expression == "$":
        return document
    value = document
    for part in expression.removeprefix("$.").split("."):
        value = value[part]
    return value


def _format(expression: str, document: Any) -> str:
    inner = re.fullmatch(r"States\.JsonToString\((\$[^)]*)\)", expression)
    if inner:
        return json.dumps(path(document, inner.group(1)), separators=(",", ":"))
    match = re.fullmatch(r"States\.Format\('(.*)'(?:,\s*(.*))?\)", expression, re.S)
    if not match:
        raise TaskFailed("States.Runtime", f"unsupported intrinsic {expression}")
    template, args = match.group(1), [a.strip() for a in (match.group(2) or "").split(",") if a.strip()]
    values = iter(str(path(document, a)) for a in args)
    return re.sub(r"\{\}", lambda _: next(values), template)


def parameters(spec: Any, document: Any, context: Any = None) -> Any:
    """``spec`` with its ``.$`` fields resolved: ``$.`` against ``document``, ``$$.`` against the
    context object (a Map's ``$$.Map.Item.Value`` and ``$$.Map.Item.Index``)."""
    if isinstance(spec, dict):
        out = {}
        for key, value in spec.items():
            if not key.endswith(".$"):
                out[key] = parameters(value, document, context)
            elif value.startswith("States."):
                out[key[:-2]] = _format(value, document)
            elif value.startswith("$$"):
                out[key[:-2]] = path(context or {}, value[1:])
            else:
                out[key[:-2]] = path(document, value)
        return out
    if isinstance(spec, list):
        return [parameters(v, document, context) for v in spec]
    return spec


def _items(session: Any, region: str, state: dict[str, Any], document: Any) -> list[Any]:
    """A Map state's items: its ItemReader's JSON array in S3, or the array at ItemsPath."""
    reader = state.get("ItemReader")
    if reader is None:
        items = path(document, state.get("ItemsPath", "$"))
    else:
        resource = reader["Resource"].split(":::", 1)[-1]
        input_type = reader.get("ReaderConfig", {}).get("InputType")
        if resource != "s3:getObject" or input_type != "JSON":
            raise TaskFailed("States.Runtime", f"local mode reads items from s3:getObject JSON only, not {resource}")
        where = parameters(reader["Parameters"], document)
        try:
            body = session.client("s3", region_name=region).get_object(Bucket=where["Bucket"], Key=where["Key"])
            items = json.loads(body["Body"].read())
        except Exception as exc:
            code = error_code(exc) or type(exc).__name__
            raise TaskFailed("States.ItemReaderFailed", f"s3://{where['Bucket']}/{where['Key']}: {code}") from exc
    if not isinstance(items, list):
        raise TaskFailed("States.Runtime", "the Map state's items are not an array")
    return items


def _map(session: Any, region: str, state: dict[str, Any], document: Any, publisher: Any, identities: Any) -> Any:
    """Each item through the ItemProcessor (or Iterator); the results in item order."""
    processor = state.get("ItemProcessor") or state["Iterator"]
    results, failures = [], []
    items = _items(session, region, state, document)
    for index, item in enumerate(items):
        context = {"Map": {"Item": {"Value": item, "Index": index}}}
        given = parameters(state["ItemSelector"], document, context) if "ItemSelector" in state else item
        try:
            results.append(run(session, processor, given, region, publisher, identities))
        except ExecutionFailed as failed:
            failures.append(failed)
            results.append(None)
    tolerated = float(state.get("ToleratedFailurePercentage", 0))
    if failures and 100 * len(failures) / len(items) > tolerated:
        first = failures[0]
        raise TaskFailed(
            "States.ExceedToleratedFailureThreshold",
            f"{len(failures)} of {len(items)} items failed; the first: {first.error}: {first.cause}",
        )
    return results


def _task(
    session: Any, region: str, resource: str, params: dict[str, Any], publisher: Any = None, identities: Any = None
) -> Any:
    integration = resource.split(":::", 1)[-1]
    if integration in SYNC_JOBS:
        create, describe, name_field, status_field = SYNC_JOBS[integration]
        client = session.client("sagemaker", region_name=region)
        try:
            getattr(client, create)(**params)
            job = getattr(client, describe)(**{name_field: params[name_field]})
        except Exception as exc:
            raise TaskFailed("SageMaker.AmazonSageMakerException", str(exc)) from exc
        if job[status_field] != "Completed":
            reason = job.get("FailureReason", "no reason given")
            raise TaskFailed("States.TaskFailed", f"{params[name_field]} {job[status_field]}: {reason}")
        return json.loads(json.dumps(job, default=str))
    if integration == "sns:publish":
        # A stage account publishes to the orchestrator's topic as its topic policy allows.
        return (publisher or session).client("sns", region_name=region).publish(**params)
    if integration.startswith("aws-sdk:"):
        return _sdk_call(session, region, integration, params)
    if integration == "codebuild:startBuild.sync":
        return _build(session.client("codebuild", region_name=region), params)
    if integration == "lambda:invoke":
        from .lambdas import InvokeFailed, invoke

        try:
            payload = invoke(session, region, params["FunctionName"], params.get("Payload", {}), identities)
        except InvokeFailed as failed:
            raise TaskFailed(failed.error, str(failed)) from failed
        return {"StatusCode": 200, "Payload": payload}
    raise TaskFailed("States.Runtime", f"local mode does not run {integration} tasks")


def _build(codebuild: Any, params: dict[str, Any]) -> Any:
    """A CodeBuild build to its end; a failed build's cause names the failed phase and its message."""
    try:
        build = codebuild.start_build(projectName=params["ProjectName"])["build"]
        for _ in range(1_000):
            if build.get("buildStatus", "IN_PROGRESS") != "IN_PROGRESS":
                break
            build = codebuild.batch_get_builds(ids=[build["id"]])["builds"][0]
    except Exception as exc:
        code = error_code(exc) or type(exc).__name__
        hint = " (local mode: moto creates no CodeBuild project from a template, and image builds need Docker)"
        raise TaskFailed(f"CodeBuild.{code}", f"{exc}{hint if code == 'ResourceNotFoundException' else ''}") from exc
    status = build.get("buildStatus")
    if status != "SUCCEEDED":
        failed = [p for p in build.get("phases", []) if p.get("phaseStatus") not in (None, "SUCCEEDED")]
        detail = "; ".join(
            f"{p['phaseType']}: {' '.join(c.get('message', '') for c in p.get('contexts', []))}".strip() for p in failed
        )
        raise TaskFailed("States.TaskFailed", f"build {build['id']} {status}: {detail or 'no phase reported why'}")
    return json.loads(json.dumps(build, default=str))


def _sdk_call(session: Any, region: str, integration: str, params: dict[str, Any]) -> Any:
    """``aws-sdk:<service>:<action>``: the API call, with errors named ``<Service>.<Code>``."""
    _, service, action = integration.split(":", 2)
    client = session.client(service, region_name=region)
    try:
        answer = getattr(client, xform_name(action))(**params)
    except Exception as exc:
        code = error_code(exc) or type(exc).__name__
        raise TaskFailed(f"{client.meta.service_model.service_id.replace(' ', '')}.{code}", str(exc)) from exc
    answer.pop("ResponseMetadata", None)
    if action == "describeAutoMLJobV2" and answer.get("AutoMLJobSecondaryStatus") == "Completed":
        answer["AutoMLJobStatus"] = "Completed"  # moto's AutoML jobs never leave InProgress
    return json.loads(json.dumps(answer, default=str))


def _matches(rule: dict[str, Any], document: Any) -> bool:
    if "Or" in rule:
        return any(_matches(r, document) for r in rule["Or"])
    if "And" in rule:
        return all(_matches(r, document) for r in rule["And"])
    if "Not" in rule:
        return not _matches(rule["Not"], document)
    try:
        value = path(document, rule["Variable"])
    except (KeyError, TypeError):
        return False
    if "StringEquals" in rule:
        return bool(value == rule["StringEquals"])
    raise TaskFailed("States.Runtime", f"local mode does not evaluate choice rule {sorted(rule)}")


def _place(document: Any, result_path: str | None, result: Any) -> Any:
    if result_path is None:
        return document
    if result_path == "$":
        return result
    out = dict(document) if isinstance(document, dict) else {}
    out[result_path.removeprefix("$.")] = result
    return out


def run(
    session: Any,
    definition: dict[str, Any],
    document: Any,
    region: str = "us-east-1",
    publisher: Any = None,
    identities: Any = None,
) -> Any:
    """Execute ``definition`` on ``document``; return the output or raise :class:`ExecutionFailed`.

    ``publisher``: the session that publishes to SNS (the orchestrator's account), when the
    machine runs in another account. ``identities`` (local mode): functions run as their roles.
    """
    name = definition["StartAt"]
    for _ in range(1_000):
        state = definition["States"][name]
        kind = state["Type"]
        if kind == "Succeed":
            return document
        if kind == "Fail":
            cause = path(document, state["CausePath"]) if "CausePath" in state else state.get("Cause", "")
            raise ExecutionFailed(state.get("Error", "States.Fail"), str(cause))
        if kind == "Pass":
            given = state.get("Result", document)
            result = parameters(state["Parameters"], document) if "Parameters" in state else given
            document = _place(document, state.get("ResultPath", "$"), result)
        elif kind == "Wait":
            pass
        elif kind == "Choice":
            chosen = next((c["Next"] for c in state["Choices"] if _matches(c, document)), state.get("Default"))
            if chosen is None:
                raise ExecutionFailed("States.NoChoiceMatched", f"no choice of {name} matched")
            name = chosen
            continue
        elif kind in ("Task", "Map"):
            try:
                if kind == "Map":
                    result = _map(session, region, state, document, publisher, identities)
                else:
                    arguments = parameters(state.get("Parameters", {}), document)
                    result = _task(session, region, state["Resource"], arguments, publisher, identities)
                if "ResultSelector" in state:
                    result = parameters(state["ResultSelector"], result)
                document = _place(document, state.get("ResultPath", "$"), result)
            except TaskFailed as failure:
                catcher = next(
                    (c for c in state.get("Catch", []) if {"States.ALL", failure.error} & set(c["ErrorEquals"])), None
                )
                if catcher is None:
                    raise ExecutionFailed(failure.error, failure.cause) from failure
                error = {"Error": failure.error, "Cause": failure.cause}
                document = _place(document, catcher.get("ResultPath", "$"), error)
                name = catcher["Next"]
                continue
        else:
            raise ExecutionFailed("States.Runtime", f"local mode does not run {kind} states")
        if state.get("End"):
            return document
        name = state["Next"]
    raise ExecutionFailed("States.Runtime", "the state machine did not finish in 1000 transitions")
