"""Fault injection: every AWS call a request makes, broken in every way AWS breaks calls.

For each request kind (create, update and delete over HTTP; a config upload that creates a
pipeline and one that updates it) one clean run lists the AWS calls the orchestrator makes, in
order. Each trial then replays the request on a fresh pipeline with one fault on the Nth of
those calls (:mod:`tests.support.faults`): throttling, a 500, AccessDenied, a read timeout
before the request is sent, and a read timeout after the call succeeded. After the fault:

- the answer is a 200 (the fault did not matter), a 409, or a 503 with ``Retry-After`` (also
  for AccessDenied, which passes once IAM has applied recent changes: the 503 names it). An upload
  either raises (Lambda delivers the event again, then to the dead-letter queue) or records
  a success; a transient fault never ends in a "failed" result file, which nothing retries;
- the invariant (:mod:`.invariant`) holds;
- sending the same request once more, with the fault gone, answers 200 (a redelivered upload
  records "provisioned" for its version) and the invariant holds.

Calls run with ``AWS_MAX_ATTEMPTS=1``, so a fault is what the orchestrator sees once botocore's
retries are spent. The default variant breaks every call that writes, each with a timeout after
success and with one of the other faults in turn; the ``long`` variant breaks every call with
every fault.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.reliability import traffic
from tests.reliability.invariant import PROVISION, UNKNOWN, Answer, check
from tests.reliability.traffic import client
from tests.support.faults import ACCESS_DENIED, FAULTS, TIMEOUT_AFTER, Call, CallTap, Fault
from tests.support.plane import Plane

_models = itertools.count()
WRITES = ("Put", "Create", "Update", "Delete", "Publish")
DENIED_WORDS = ("AccessDenied", "403", "Forbidden", "denied")


@dataclass
class Trial:
    """One pipeline, and the requests made for it in order."""

    api: Any
    plane: Plane
    model: str = field(default_factory=lambda: f"fault{next(_models)}")
    answers: list[Answer] = field(default_factory=list)
    config_key: str = ""

    def __post_init__(self) -> None:
        self.config_key = f"{self.model}/mlops-config.json"

    def violations(self) -> list[str]:
        s3, cfn = client(self.plane, "s3"), client(self.plane, "cloudformation")
        return check(s3, cfn, self.plane.config.assets_bucket, self.answers)

    def provision(self, variant: int) -> Answer:
        return self._keep(traffic.provision(self.api, traffic.body(self.model, variant)))

    def delete(self) -> Answer:
        return self._keep(traffic.delete(self.api, traffic.pipeline_of(traffic.body(self.model))))

    def upload(self, variant: int) -> str:
        raw = json.dumps(traffic.body(self.model, variant)).encode()
        put = client(self.plane, "s3").put_object(Bucket=self.plane.config.config_bucket, Key=self.config_key, Body=raw)
        return str(put["VersionId"])

    def deliver(self, variant: int) -> Answer:
        """The upload handler on the config's event, as an answer: a recorded result, or raised."""
        raw = traffic.body(self.model, variant)
        event = self.api.events.generate_s3_event(bucket=self.plane.config.config_bucket, key=self.config_key)
        started = time.monotonic_ns()
        try:
            self.api.lambda_.invoke("on_config_upload", event)
        except Exception as exc:
            answer = Answer(
                traffic.pipeline_of(raw),
                PROVISION,
                traffic.normalized(raw),
                UNKNOWN,
                {"message": repr(exc)},
                started,
                time.monotonic_ns(),
            )
            return self._keep(answer)
        finished = time.monotonic_ns()
        result = self.result()
        if result is None:
            status: int | str = 0
            result = {"message": "the handler returned without recording a result"}
        else:
            status = 200 if result.get("outcome") in ("provisioned", "unchanged") else int(result.get("status", 0))
        return self._keep(
            Answer(traffic.pipeline_of(raw), PROVISION, traffic.normalized(raw), status, result, started, finished)
        )

    def result(self) -> dict[str, Any] | None:
        key = self.config_key[: -len(".json")] + ".result.json"
        try:
            obj = client(self.plane, "s3").get_object(Bucket=self.plane.config.config_bucket, Key=key)
        except Exception:
            return None
        return dict(json.loads(obj["Body"].read()))

    def _keep(self, answer: Answer) -> Answer:
        self.answers.append(answer)
        return answer


@dataclass(frozen=True)
class Scenario:
    name: str
    setup: Callable[[Trial], None]  # runs without faults
    act: Callable[[Trial], Answer]  # the request under test; sent again as the resubmission
    upload: bool = False


def _create_first(trial: Trial) -> None:
    first = trial.provision(0)
    assert first.status == 200, first.body


def _upload_first(trial: Trial) -> None:
    trial.upload(0)


def _upload_update_setup(trial: Trial) -> None:
    _create_first(trial)
    trial.upload(1)


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("create", lambda t: None, lambda t: t.provision(0)),
        Scenario("update", _create_first, lambda t: t.provision(1)),
        Scenario("delete", _create_first, lambda t: t.delete()),
        Scenario("upload-create", _upload_first, lambda t: t.deliver(0), upload=True),
        Scenario("upload-update", _upload_update_setup, lambda t: t.deliver(1), upload=True),
    )
}


def answer_problems(answer: Answer, fault: Fault | None, upload: bool) -> list[str]:
    """What is wrong with the answer to a faulted request (the invariant's (d) aside)."""
    message = str(answer.body.get("message", ""))
    if upload:
        if answer.status in (200, UNKNOWN):
            return []
        return [f"upload recorded a failed result ({answer.status}: {message}); nothing retries it"]
    if fault is ACCESS_DENIED and answer.status == 503 and not any(w in message for w in DENIED_WORDS):
        return [f"503 that does not name AccessDenied: {message}"]
    updated = answer.status == 200 and answer.body.get("action") == "updated"
    if updated and "changes" not in answer.body and "changes_unavailable" not in answer.body:
        return ["200 updated neither lists changes nor says why not"]
    return []


def allowed_for(fault: Fault | None) -> frozenset[int]:
    return frozenset()  # every fault kind: 200, 202, 409 or a 503 with Retry-After (the invariant's (d))


@dataclass
class Outcome:
    call: str
    fault: str
    first: int | str
    resubmit: int | str
    problems: list[str]


def run_trial(
    api: Any, plane: Plane, tap: CallTap, scenario: Scenario, fault: Fault | None, at: int | None
) -> tuple[Outcome, list[Call]]:
    from chalicelib import blueprint_store as blueprints

    trial = Trial(api, plane)
    tap.arm()
    scenario.setup(trial)
    blueprints.forget()  # a cold Lambda: the blueprint read is one of the calls
    tap.arm(fault, at)
    first = scenario.act(trial)
    calls, injected = list(tap.calls), tap.injected
    tap.disarm()
    problems: list[str] = []
    if fault is not None and injected is None:
        problems.append(f"the request made only {len(calls)} calls; call {at} was never made")
    first = _with_allowed(trial, first, fault)
    problems += [f"after the fault: {p}" for p in answer_problems(first, fault, scenario.upload)]
    problems += [f"after the fault: {v}" for v in trial.violations()]
    blueprints.forget()
    tap.arm()
    second = scenario.act(trial)
    if second.status != 200:
        problems.append(f"resubmitted: {second.status} {second.body.get('message', '')}")
    if scenario.upload and second.body.get("outcome") != "provisioned":
        problems.append(f"redelivered: the result records {second.body.get('outcome')!r}, not 'provisioned'")
    problems += [f"resubmitted: {v}" for v in trial.violations()]
    where = f"{injected} (call {at})" if injected else "-"
    return Outcome(where, fault.name if fault else "none", first.status, second.status, problems), calls


def _with_allowed(trial: Trial, answer: Answer, fault: Fault | None) -> Answer:
    from dataclasses import replace

    updated = replace(answer, allowed=allowed_for(fault))
    trial.answers[trial.answers.index(answer)] = updated
    return updated


def calls_of(api: Any, plane: Plane, tap: CallTap, scenario: Scenario) -> list[Call]:
    """The calls a clean run of ``scenario`` makes, after checking that run keeps the invariant."""
    outcome, calls = run_trial(api, plane, tap, scenario, None, None)
    assert not outcome.problems, outcome.problems
    return calls


def writes(calls: list[Call]) -> list[int]:
    """The indices of the calls that change something."""
    return [i for i, c in enumerate(calls) if c.operation.startswith(WRITES)]


def run_matrix(
    api: Any,
    plane: Plane,
    tap: CallTap,
    scenario: Scenario,
    trials: Callable[[list[Call]], list[tuple[int, Fault]]],
    record: Callable[[str, Any], None],
) -> None:
    outcomes = [
        run_trial(api, plane, tap, scenario, fault, at)[0] for at, fault in trials(calls_of(api, plane, tap, scenario))
    ]
    record("fault_trials", len(outcomes))
    record("fault_answers", sorted(f"{o.first}->{o.resubmit}" for o in outcomes))
    failed = [o for o in outcomes if o.problems]
    record("fault_violations", len(failed))
    report = "\n".join(f"{scenario.name} / {o.fault} on {o.call}: {'; '.join(o.problems)}" for o in failed)
    assert not failed, f"{len(failed)} of {len(outcomes)} trials broke the invariant or answered wrongly:\n{report}"


def representative(calls: list[Call]) -> list[tuple[int, Fault]]:
    """A timeout after success on every write, and one other fault on each, in turn."""
    others = [f for f in FAULTS if f is not TIMEOUT_AFTER]
    chosen = []
    for n, at in enumerate(writes(calls)):
        chosen += [(at, TIMEOUT_AFTER), (at, others[n % len(others)])]
    return chosen


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_write_survives_a_fault(
    api: Any, plane: Plane, tap: CallTap, scenario: str, record_property: Callable[[str, Any], None]
) -> None:
    run_matrix(api, plane, tap, SCENARIOS[scenario], representative, record_property)


@pytest.mark.long
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_call_survives_each_fault(
    api: Any, plane: Plane, tap: CallTap, scenario: str, fault: Fault, record_property: Callable[[str, Any], None]
) -> None:
    def every_call(calls: list[Call]) -> list[tuple[int, Fault]]:
        return [(at, fault) for at in range(len(calls))]

    run_matrix(api, plane, tap, SCENARIOS[scenario], every_call, record_property)
