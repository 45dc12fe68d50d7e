"""The hostile HTTP table over real sockets, against ``mlops local`` (``-m long``: its start takes seconds)."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from mlops_local.process import LocalProcess
from tests.hostile.cases import HTTP_CASES, Case

pytestmark = pytest.mark.long


@pytest.fixture(scope="module")
def local() -> Iterator[LocalProcess]:
    process = LocalProcess()
    yield process
    assert process.stop(signal.SIGINT) == 0


@cache
def client(local: LocalProcess, service: str) -> Any:
    return local.client(service)


def written(local: LocalProcess) -> list[str]:
    listed = client(local, "s3").list_object_versions(Bucket=local.banner["assets_bucket"])
    stacks = client(local, "cloudformation").list_stacks()["StackSummaries"]
    return sorted(v["VersionId"] for v in listed.get("Versions", [])) + sorted(s["StackId"] for s in stacks)


@pytest.mark.parametrize("case", HTTP_CASES, ids=lambda case: case.name)
def test_hostile_body_over_http(local: LocalProcess, case: Case) -> None:
    before = written(local)
    request = urllib.request.Request(
        local.api + case.path, data=case.body, method="POST", headers={"Content-Type": case.content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer = response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        status, answer = error.code, json.loads(error.read())
    assert status == case.status, answer
    if case.field is not None:
        problems = {p["field"]: p["problem"] for p in answer["problems"]}
        assert case.words in problems.get(case.field, ""), problems
    assert written(local) == before
