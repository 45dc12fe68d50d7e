"""The consistency invariant both reliability suites assert, once every request has returned.

(a) Every pipeline stack's ``TemplateZipFileName`` names an object in the assets bucket, and that
    bundle holds the blueprint the stack's ``TemplateFileName`` names.
(b) Every 200 describes what is deployed: the pipeline is in the state some request left it in
    that either answered 200 or could not say (a retryable 503, a raised upload), and no 200 began
    after that request had finished. For requests one after another this is exactly "the bundle
    holds the request whose 200 came last"; for requests that overlapped, either may have won.
    A request that answered 409 (or another 4xx) must have changed nothing.
(c) Nothing is left under a pipeline's prefix once a delete of it has finished (a delete still
    in progress: the stack is being deleted, or the last delete answered 202 or could not say).
    A creation that failed may leave its bundle with no stack: nothing names it, and the
    resubmission that creates the pipeline names that same bundle (it is not removed on
    failure, as a concurrent identical creation may already name it).
(d) Every answer is a 200, a 202, a 409 or a 503 with ``Retry-After``; a suite may admit other
    statuses for particular requests (a 404 for a pipeline that never existed).

:func:`check` reads the emulator and returns the violations as sentences (an empty list when
the invariant holds), so a suite can count them as well as fail on them.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib import packaging
from chalicelib.naming import pipeline_stack_name

BUNDLE_ROOT = "mlops_provisioned_pipelines"
PROVISION = "provision"
DELETE = "delete"
UNKNOWN = "unknown"  # the request raised: nobody got an answer (a config upload Lambda retries)
RETRYABLE = 503
ALWAYS_ALLOWED = frozenset({200, 202, 409, RETRYABLE})


@dataclass(frozen=True)
class Answer:
    """One request as its caller saw it."""

    pipeline: str  # the blueprint stack's name
    kind: str  # PROVISION or DELETE
    request: dict[str, Any] | None  # the normalised request a provision asked for
    status: int | str  # HTTP status, or UNKNOWN
    body: dict[str, Any]
    started: int  # time.monotonic_ns(), comparable between processes on one machine
    finished: int
    retry_after: str | None = None
    allowed: frozenset[int] = field(default=frozenset())  # statuses admitted besides ALWAYS_ALLOWED

    @property
    def took_effect(self) -> bool:
        return self.status == 200

    @property
    def may_have_taken_effect(self) -> bool:
        """200, or an answer that does not say (a 5xx, a raised handler, a delete still running)."""
        if self.status in (200, UNKNOWN) or (self.kind == DELETE and self.status == 202):
            return True
        return isinstance(self.status, int) and self.status >= 500

    @property
    def deleting(self) -> bool:
        """A delete whose caller was told to repeat it (202) or was told nothing definite."""
        return self.kind == DELETE and (self.status == 202 or (self.may_have_taken_effect and self.status != 200))

    def describe(self) -> str:
        what = self.kind if self.request is None else f"{self.kind} {_summary(self.request)}"
        return f"{what} -> {self.status}"


def _summary(request: dict[str, Any]) -> str:
    keys = ("inference_instance", "model_name")
    return "{" + ", ".join(f"{k}={request.get(k)}" for k in keys if k in request) + "}"


@dataclass(frozen=True)
class Observed:
    """What the emulator holds for one pipeline."""

    status: str | None  # the pipeline stack's status; None when it does not exist
    zip_key: str | None
    bundle: bytes | None
    template: str | None
    objects: list[str]  # keys under the pipeline's bundle prefix

    @property
    def request(self) -> dict[str, Any] | None:
        return packaging.read_request(self.bundle) if self.bundle else None


def observe(s3: Any, cfn: Any, bucket: str, pipeline: str) -> Observed:
    stack = _stack(cfn, pipeline_stack_name(pipeline))
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{BUNDLE_ROOT}/{pipeline}/")
    objects = [o["Key"] for o in listed.get("Contents", [])]
    if stack is None:
        return Observed(None, None, None, None, objects)
    params = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    key = params.get("TemplateZipFileName")
    bundle = None
    if key:
        try:
            bundle = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:
            if "NoSuchKey" not in str(exc) and "404" not in str(exc):
                raise
    return Observed(stack["StackStatus"], key, bundle, params.get("TemplateFileName"), objects)


def _stack(cfn: Any, name: str) -> dict[str, Any] | None:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except Exception as exc:
        if "does not exist" in str(exc):
            return None
        raise
    live = [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
    return live[0] if live else None


def _zip_names(bundle: bytes) -> set[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
            return set(archive.namelist())
    except zipfile.BadZipFile:
        return set()


def check(s3: Any, cfn: Any, bucket: str, answers: Iterable[Answer]) -> list[str]:
    """Every violation of the invariant for the pipelines ``answers`` name (empty: it holds)."""
    by_pipeline: dict[str, list[Answer]] = {}
    for answer in answers:
        by_pipeline.setdefault(answer.pipeline, []).append(answer)
    violations: list[str] = []
    for pipeline, mine in sorted(by_pipeline.items()):
        violations += [f"{pipeline}: {v}" for v in check_pipeline(observe(s3, cfn, bucket, pipeline), mine)]
    return violations


def check_pipeline(seen: Observed, answers: list[Answer]) -> list[str]:
    out: list[str] = []
    # (d) answers
    for a in answers:
        if isinstance(a.status, int) and a.status not in ALWAYS_ALLOWED | a.allowed:
            out.append(f"(d) {a.describe()}: {a.body.get('message', a.body)}")
        if a.status == RETRYABLE and not a.retry_after:
            out.append(f"(d) {a.describe()} without Retry-After")
    present = seen.status is not None and seen.status not in ("DELETE_IN_PROGRESS", "DELETE_COMPLETE")
    going = seen.status == "DELETE_IN_PROGRESS"
    # (a) the stack's bundle exists and holds the stack's template
    if present:
        if seen.bundle is None:
            out.append(f"(a) stack {seen.status} names bundle {seen.zip_key}, which does not exist")
        elif seen.template and seen.template not in _zip_names(seen.bundle):
            out.append(f"(a) stack names template {seen.template}, which bundle {seen.zip_key} lacks")
    # (c) nothing left behind by a finished delete
    deleting = going or any(a.deleting and _candidate(a, answers) for a in answers)
    deleted = any(a.kind == DELETE and a.may_have_taken_effect for a in answers)
    marked = any(key.endswith("/DELETING") for key in seen.objects)
    if seen.status is None and seen.objects and not deleting and (deleted or marked):
        out.append(f"(c) stack is gone but {len(seen.objects)} bundle(s) remain: {', '.join(seen.objects)}")
    # (b) the state is the effect of a request that answered 200 (or could not say), and no 200 came after it
    candidates = [a for a in answers if a.may_have_taken_effect and _candidate(a, answers)]
    if present:
        wanted = seen.request
        if seen.bundle is not None and not any(a.kind == PROVISION and a.request == wanted for a in candidates):
            out.append(
                f"(b) the bundle holds {_summary(wanted or {})}, but the last answers were "
                + "; ".join(a.describe() for a in _last(answers))
            )
    elif not going and any(a.took_effect for a in answers) and not any(a.kind == DELETE for a in candidates):
        out.append(
            "(b) the pipeline is gone, but the last answers were " + "; ".join(a.describe() for a in _last(answers))
        )
    return out


def _candidate(answer: Answer, answers: list[Answer]) -> bool:
    """No request that took effect began after ``answer`` had finished."""
    return not any(b.took_effect and b.started > answer.finished for b in answers if b is not answer)


def _last(answers: list[Answer]) -> list[Answer]:
    latest = max(a.started for a in answers)
    return [a for a in answers if a.finished >= latest]
