"""Fixtures of the reliability suites: the ``long`` marker, one control plane per emulator, and a
tap on the orchestrator's clients.

Every trial works on a pipeline of its own, so the suites share one bootstrapped control plane
instead of resetting the emulator for each test (a bootstrap takes about two seconds). Tests of
other modules may reset the emulator in between; the plane is bootstrapped again when its
buckets are gone.
"""

from __future__ import annotations

import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.reliability.traffic import client
from tests.support.faults import CallTap
from tests.support.plane import Plane

_planes: dict[str, Plane] = {}


def _bootstrapped(plane: Plane) -> bool:
    try:
        client(plane, "s3").head_bucket(Bucket=plane.config.assets_bucket)
    except Exception:
        return False
    return True


@pytest.fixture
def plane(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Plane:
    """The control plane in the emulator, bootstrapped unless it already is."""
    from mlops_local.bootstrap import ControlPlane

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    for key, value in ControlPlane().env().items():
        monkeypatch.setenv(key, value)
    known = _planes.get(moto_url)
    if known is None or not _bootstrapped(known):
        urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()
        _planes[moto_url] = Plane(moto_url)
    return _planes[moto_url]


@pytest.fixture
def tap(plane: Plane, monkeypatch: pytest.MonkeyPatch) -> Iterator[CallTap]:
    """Every client the orchestrator creates carries the tap's hooks."""
    from chalicelib import aws

    tapped = CallTap()
    original = aws.client

    def hooked(service: str) -> Any:
        return tapped.hook(original(service))

    monkeypatch.setattr(aws, "client", hooked)
    yield tapped


COUNTED = ("fault_trials", "fault_violations", "race_rounds", "race_violations")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The suites' counts (from each test's recorded properties), for the README's reliability section."""
    totals: Counter[str] = Counter()
    answers: dict[str, Counter[str]] = {"fault_answers": Counter(), "race_answers": Counter()}
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "") != "call":
                continue
            props = dict(getattr(report, "user_properties", []))
            for key in COUNTED:
                totals[key] += int(props.get(key, 0))
            answers["fault_answers"].update(props.get("fault_answers", []))
            answers["race_answers"].update(props.get("race_answers", {}))
    if not totals["fault_trials"] and not totals["race_rounds"]:
        return
    write = terminalreporter.write_line
    terminalreporter.section("reliability counts")
    if totals["fault_trials"]:
        write(f"fault trials: {totals['fault_trials']}, with a violation: {totals['fault_violations']}")
        write("answers (after the fault -> after one resubmission): " + _listed(answers["fault_answers"]))
    if totals["race_rounds"]:
        write(f"race rounds: {totals['race_rounds']}, with a violation: {totals['race_violations']}")
        write("answers of the racing requests: " + _listed(answers["race_answers"]))


def _listed(counts: Counter[str]) -> str:
    return ", ".join(f"{key}: {n}" for key, n in sorted(counts.items()))
