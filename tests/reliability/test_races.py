"""Cross-process races: three app processes, one emulator, requests for one pipeline at once.

In AWS every request is its own Lambda process, so nothing in one process can keep another
out. Here three processes (:mod:`.workers`), each with the Chalice app and boto3 clients of
its own, send requests for the same pipeline together, for four pairings:

- create/create: the pipeline does not exist; all three create it;
- create/update: the pipeline does not exist; one creates it and the others arrive during
  that creation, after its first, second, ... AWS call, so they find it half made;
- update/update: the pipeline exists; all three change it;
- update/delete: the pipeline exists; one deletes it while two change it.

Each pairing runs with the same body in every process and with a different body in each. A
round either starts the three at a barrier or staggers them (a process waits until another
has made N AWS calls, N swept from round to round), and after every round the invariant
(:mod:`.invariant`) must hold for the answers the three got.

What the emulator can and cannot reproduce. moto's server handles requests on threads and
takes each API call as one step, so the interleavings of calls between processes are real.
But a stack operation completes inside the call that starts it: CloudFormation's refusal of
an update while another runs (``UPDATE_IN_PROGRESS``), and a delete that takes minutes, hardly
ever show, so two overlapping updates here both succeed, one after the other, where AWS would
refuse the second with a 409. Nor does moto run the pipeline that reads the bundle, so "the
pipeline reads the right bundle" is asserted on what the stack names, not on a run.
moto also checks a conditional S3 write (If-None-Match) and the uniqueness of a stack name
apart from the write itself, so where AWS lets exactly one of two writers win, here both may
(rarely: the window is a few Python statements). Bundles named by their content make two writes
of one key carry the same bytes, so that gap cannot show in the invariant; two live stacks of
one name would, so each round also counts them.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.reliability import traffic
from tests.reliability.invariant import Answer, check
from tests.reliability.traffic import client
from tests.reliability.workers import Job, Pool
from tests.support.plane import FAKE_ENV, Plane

PROCESSES = 3
PAIRINGS = ("create/create", "create/update", "update/update", "update/delete")
BODIES = ("same", "different")
DEFAULT_ROUNDS = 3
LONG_ROUNDS = 36  # x 4 pairings = 144 rounds per body kind
MAX_STAGGER = 4  # a staggered process starts after the other's 1st .. 4th AWS call
_models = itertools.count()


@pytest.fixture(scope="module")
def pool(moto_url: str) -> Iterator[Pool]:
    from mlops_local.bootstrap import ControlPlane

    env = {**FAKE_ENV, **ControlPlane().env(), "AWS_ENDPOINT_URL": moto_url}
    started = Pool(PROCESSES, env)
    yield started
    started.close()


def jobs_for(pairing: str, bodies: str, model: str, round_no: int) -> list[Job]:
    """The three requests of one round: a side X, a side Y, and X again with a third body."""
    creating = pairing.startswith("create")
    variants = (0, 0, 0) if creating else (1, 1, 1)
    if bodies == "different":
        variants = (0, 1, 2) if creating else (1, 2, 0)
    x, y, z = (traffic.body(model, v) for v in variants)
    y_kind = "delete" if pairing == "update/delete" else "provision"
    stagger = round_no % (MAX_STAGGER + 1)  # 0: all three start together
    if pairing == "create/update" and stagger == 0:
        stagger = 1  # the updates always arrive while the create runs
    if stagger == 0:
        return [Job("provision", x), Job(y_kind, y), Job("provision", z)]
    return [
        Job("provision", x, mark_at=stagger),
        Job(y_kind, y, wait_for=0, mark_at=stagger),
        Job("provision", z, wait_for=1),
    ]


def run_round(
    api: Any, plane: Plane, pool: Pool, pairing: str, bodies: str, round_no: int
) -> tuple[list[Answer], list[str]]:
    model = f"race{next(_models)}r{round_no}"
    answers: list[Answer] = []
    if pairing.startswith("update"):
        first = traffic.provision(api, traffic.body(model, 0))
        assert first.status == 200, first.body
        answers.append(first)
    raced = pool.round(jobs_for(pairing, bodies, model, round_no))
    answers += raced
    violations = check(client(plane, "s3"), client(plane, "cloudformation"), plane.config.assets_bucket, answers)
    return raced, violations


def run_rounds(
    api: Any, plane: Plane, pool: Pool, pairing: str, bodies: str, rounds: int, record: Callable[[str, Any], None]
) -> None:
    statuses: Counter[str] = Counter()
    failed: list[str] = []
    for round_no in range(rounds):
        raced, violations = run_round(api, plane, pool, pairing, bodies, round_no)
        statuses.update(str(a.status) for a in raced)
        if violations:
            failed.append(f"round {round_no} ({', '.join(a.describe() for a in raced)}): {'; '.join(violations)}")
    record("race_rounds", rounds)
    record("race_answers", dict(statuses))
    record("race_violations", len(failed))
    assert not failed, (
        f"{pairing}, {bodies} bodies: {len(failed)} of {rounds} rounds broke the invariant:\n" + "\n".join(failed)
    )


@pytest.mark.parametrize("bodies", BODIES)
@pytest.mark.parametrize("pairing", PAIRINGS)
def test_racing_requests_keep_the_invariant(
    api: Any, plane: Plane, pool: Pool, pairing: str, bodies: str, record_property: Callable[[str, Any], None]
) -> None:
    run_rounds(api, plane, pool, pairing, bodies, DEFAULT_ROUNDS, record_property)


@pytest.mark.long
@pytest.mark.parametrize("bodies", BODIES)
@pytest.mark.parametrize("pairing", PAIRINGS)
def test_many_racing_rounds_keep_the_invariant(
    api: Any, plane: Plane, pool: Pool, pairing: str, bodies: str, record_property: Callable[[str, Any], None]
) -> None:
    run_rounds(api, plane, pool, pairing, bodies, LONG_ROUNDS, record_property)
