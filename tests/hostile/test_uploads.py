"""Hostile config uploads through the upload handler: a failed result naming the problem, nothing else written."""

from __future__ import annotations

import json

import pytest

from tests.hostile.cases import UPLOAD_CASES, Case
from tests.hostile.conftest import Edge

KEY = "hostile/mlops-config.json"
RESULT = "hostile/mlops-config.result.json"


def test_the_table_is_as_large_as_the_probe_was() -> None:
    assert len(UPLOAD_CASES) >= 9
    assert len({case.name for case in UPLOAD_CASES}) == len(UPLOAD_CASES)


@pytest.mark.parametrize("case", UPLOAD_CASES, ids=lambda case: case.name)
def test_hostile_upload(edge: Edge, case: Case) -> None:
    s3 = edge.plane.client("s3")
    bucket = edge.plane.config.config_bucket
    before = edge.written(ignore=(KEY, RESULT))
    version = s3.put_object(Bucket=bucket, Key=KEY, Body=case.body)["VersionId"]
    event = edge.api.events.generate_s3_event(bucket=bucket, key=KEY)
    [returned] = edge.api.lambda_.invoke("on_config_upload", event).payload
    recorded = json.loads(s3.get_object(Bucket=bucket, Key=RESULT)["Body"].read())
    assert recorded == returned
    assert recorded["config_version_id"] == version
    if case.field is None:
        assert recorded["outcome"] == "dry run", recorded
    else:
        assert (recorded["outcome"], recorded["status"]) == ("failed", case.status), recorded
        problems = {p["field"]: p["problem"] for p in recorded["errors"]}
        assert case.field in problems, problems
        assert case.words in problems[case.field], problems[case.field]
    assert edge.written(ignore=(KEY, RESULT)) == before
