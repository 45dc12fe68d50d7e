"""Hostile HTTP bodies through the app in-process: a 4xx naming the problem, never a 5xx, nothing written."""

from __future__ import annotations

import json

import pytest

from tests.hostile.cases import HTTP_CASES, Case
from tests.hostile.conftest import Edge


def test_the_table_is_as_large_as_the_probe_was() -> None:
    assert len(HTTP_CASES) >= 47
    assert len({case.name for case in HTTP_CASES}) == len(HTTP_CASES)


@pytest.mark.parametrize("case", HTTP_CASES, ids=lambda case: case.name)
def test_hostile_body(edge: Edge, case: Case) -> None:
    before = edge.written()
    response = edge.api.http.post(case.path, body=case.body, headers={"Content-Type": case.content_type})
    answer = json.loads(response.body)
    assert response.status_code == case.status, answer
    if case.field is None:
        assert answer.get("dry_run") is True, answer
    else:
        problems = {p["field"]: p["problem"] for p in answer["problems"]}
        assert case.field in problems, problems
        assert case.words in problems[case.field], problems[case.field]
    assert edge.written() == before
