"""App processes for the race suite: each runs the Chalice app with boto3 clients of its own.

A :class:`Pool` starts its processes once (``spawn``: nothing of the test process is shared
but the environment it passes) and sends them one :class:`Job` per round. The processes meet
at a barrier, so their requests start together; a job may instead wait until another process
has made a given number of AWS calls (its mark), which places it inside the other request
rather than leaving the overlap to chance. Every process signals its mark when it reaches it
or when its request has returned, so no one waits for a request that has ended.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from dataclasses import dataclass
from typing import Any

from tests.reliability.invariant import Answer

START_SECONDS = 120  # a process imports the app and boto3 once; slow on a loaded machine
ROUND_SECONDS = 60


@dataclass(frozen=True)
class Job:
    kind: str  # "provision" or "delete"
    body: dict[str, Any]
    wait_for: int | None = None  # start once that process has reached its mark
    mark_at: int = 0  # this process's mark: after this many AWS calls (0: when its request returns)


class _Marks:
    """The after-call hook that sets this process's mark after ``at`` calls."""

    def __init__(self, event: Any) -> None:
        self.event = event
        self.at = 0
        self.calls = 0

    def __call__(self, **_: Any) -> None:
        self.calls += 1
        if self.at and self.calls >= self.at:
            self.event.set()


def _serve(index: int, env: dict[str, str], jobs: Any, results: Any, barrier: Any, marks: list[Any]) -> None:
    os.environ.update(env)
    from chalice.test import Client

    from app import app
    from chalicelib import aws
    from tests.reliability import traffic

    mark = _Marks(marks[index])
    original = aws.client
    hooked: set[int] = set()

    def client(service: str) -> Any:
        made = original(service)
        if id(made) not in hooked:
            made.meta.events.register("after-call", mark, unique_id="race-mark")
            hooked.add(id(made))
        return made

    aws.client = client
    with Client(app) as api:
        results.put((index, "ready"))
        while True:
            job = jobs.get()
            if job is None:
                return
            mark.calls, mark.at = 0, job.mark_at
            try:
                barrier.wait(ROUND_SECONDS)
                if job.wait_for is not None and not marks[job.wait_for].wait(ROUND_SECONDS):
                    raise TimeoutError(f"process {job.wait_for} never reached its mark")
                if job.kind == "delete":
                    answer: Answer | str = traffic.delete(api, traffic.pipeline_of(job.body))
                else:
                    answer = traffic.provision(api, job.body)
            except Exception as exc:
                answer = f"process {index} failed: {exc!r}"
            finally:
                marks[index].set()
            results.put((index, answer))


class Pool:
    """``size`` app processes against the emulator ``env`` points at."""

    def __init__(self, size: int, env: dict[str, str]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.size = size
        self.barrier = ctx.Barrier(size)
        self.marks = [ctx.Event() for _ in range(size)]
        self.results: Any = ctx.Queue()
        self.queues: list[Any] = [ctx.Queue() for _ in range(size)]
        self.processes = [
            ctx.Process(
                target=_serve,
                args=(i, env, self.queues[i], self.results, self.barrier, self.marks),
                daemon=True,
            )
            for i in range(size)
        ]
        for process in self.processes:
            process.start()
        self._collect(START_SECONDS)

    def _collect(self, seconds: float) -> list[Any]:
        found: dict[int, Any] = {}
        try:
            while len(found) < self.size:
                index, value = self.results.get(timeout=seconds)
                found[index] = value
        except queue.Empty:
            missing = sorted(set(range(self.size)) - set(found))
            raise AssertionError(f"app processes {missing} did not answer within {seconds} s") from None
        return [found[i] for i in range(self.size)]

    def round(self, jobs: list[Job]) -> list[Answer]:
        """Run one job in each process at once; their answers in process order."""
        assert len(jobs) == self.size
        for mark in self.marks:
            mark.clear()
        for q, job in zip(self.queues, jobs, strict=True):
            q.put(job)
        answers = self._collect(ROUND_SECONDS * 2)
        failures = [a for a in answers if isinstance(a, str)]
        assert not failures, failures
        return answers

    def close(self) -> None:
        for q in self.queues:
            q.put(None)
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.terminate()
                process.join(10)
