"""Acceptance tier: the cheapest meaningful pipelines, provisioned, checked and deleted end to end.

With ``MLOPS_STACK`` set the suite runs against that real installation with the standard AWS
credential chain (``make e2e-aws``); unset, it starts ``mlops local`` on a free port and runs
the same tests there as part of ``make test``. Local mode shows that the requests, the
pipelines' stages, the status and delete routes and the teardown work together; it cannot show
that SageMaker accepts the model, the instance type or the roles (its jobs complete at once and
its endpoints serve nothing). Checks that only a real installation can answer are marked
``real_aws`` and are not collected against local mode.

One session provisions the three pipelines at once (so on AWS their waits overlap), each test
looks at one of them, the last test deletes them, and the run's teardown deletes whatever is
left and prints the cost drivers it touched, whether or not the tests passed.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from tests.support.plane import FAKE_ENV

from . import artifacts, bodies
from .run import Run
from .target import Refusal, Target, local_target, real_target, stack_name

REAL = bool(stack_name())
REPORT: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_aws: needs a real installation; not collected against local mode")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if REAL:
        return
    dropped = [item for item in items if item.get_closest_marker("real_aws")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker("real_aws")]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("acceptance run")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replaces the tree's rule for this tier: against a real installation the standard credential
    chain must reach AWS; against local mode nothing may, as everywhere else."""
    if REAL:
        return
    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="session")
def target() -> Iterator[Target]:
    if REAL:
        try:
            real = real_target(stack_name())
        except Refusal as exc:
            pytest.exit(f"the real-account acceptance run cannot start: {exc}", returncode=2)
        yield real
        return
    from mlops_local.process import LocalProcess

    with pytest.MonkeyPatch.context() as env:  # signing local requests must not touch a real profile
        for key, value in FAKE_ENV.items():
            env.setenv(key, value)
        env.delenv("AWS_PROFILE", raising=False)
        process = LocalProcess()
        try:
            yield local_target(process.api, process.endpoint, process.banner["assets_bucket"])
        finally:
            assert process.stop(signal.SIGINT) == 0


@pytest.fixture(scope="session")
def run(target: Target) -> Iterator[Run]:
    """This session's run; its teardown deletes everything the run made and reports the costs."""
    current = Run(target)
    try:
        yield current
    finally:
        try:
            current.teardown()
        finally:
            REPORT.extend(current.report)


@pytest.fixture(scope="session")
def provisioned(run: Run) -> Run:
    """The run with its three pipelines provisioned (not yet waited for)."""
    endpoint = bodies.endpoint(run, run.upload("model/model.tar.gz", artifacts.model_tar_gz()))
    run.provision("endpoint", endpoint)
    run.provision("training", bodies.training(run, run.upload("training/train.csv", artifacts.training_csv())))
    baseline = run.upload("monitor/baseline.csv", artifacts.baseline_csv())
    run.provision("monitor", bodies.monitor(run, baseline, endpoint))
    return run
