"""mlops-config.json at a bucket's root provisions, as in the original solution, also in an
existing bucket the installation watches (ExistingConfigBucket) that is not versioned."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.events import load_event
from tests.support.plane import Plane

TEAM_BUCKET = "team-configs"


def provision_from_root(api: Any, plane: Plane, bucket: str, **changes: Any) -> dict[str, Any]:
    s3 = plane.client("s3")
    body = {**load_event("valid/byom_realtime_builtin"), **changes}
    s3.put_object(Bucket=bucket, Key="mlops-config.json", Body=json.dumps(body))
    api.lambda_.invoke("on_config_upload", api.events.generate_s3_event(bucket=bucket, key="mlops-config.json"))
    return dict(json.loads(s3.get_object(Bucket=bucket, Key="mlops-config.result.json")["Body"].read()))


def test_a_config_at_the_root_of_the_config_bucket_provisions(api: Any, plane: Plane) -> None:
    recorded = provision_from_root(api, plane, plane.config.config_bucket)
    assert recorded["outcome"] == "provisioned", recorded
    assert recorded["config"] == f"s3://{plane.config.config_bucket}/mlops-config.json"
    assert len(plane.stacks()) == 1


def test_a_config_at_the_root_of_an_existing_unversioned_bucket_provisions(
    api: Any, plane: Plane, monkeypatch: pytest.MonkeyPatch
) -> None:
    plane.client("s3").create_bucket(Bucket=TEAM_BUCKET)
    monkeypatch.setenv("CONFIG_BUCKET", TEAM_BUCKET)  # as the template sets it for ExistingConfigBucket
    recorded = provision_from_root(api, plane, TEAM_BUCKET)
    assert recorded["outcome"] == "provisioned", recorded
    assert recorded["config_version_id"] == "null"  # S3's version id of an object in an unversioned bucket
    assert recorded["pipeline_id"].startswith("arn:aws:cloudformation:")
    assert len(plane.stacks()) == 1
    # every upload to an unversioned bucket has the version id "null": a changed config still updates
    changed = provision_from_root(api, plane, TEAM_BUCKET, inference_instance="ml.c5.xlarge")
    assert (changed["outcome"], changed["action"]) == ("provisioned", "updated"), changed
