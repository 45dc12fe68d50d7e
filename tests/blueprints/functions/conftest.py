"""Fixtures of the blueprint function tests."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from blueprints.functions.inference import main


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The inference function's SageMaker runtime client, stubbed; every stubbed answer must be used."""
    monkeypatch.setenv("ENDPOINT_NAME", "churn-endpoint")
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    monkeypatch.setattr(main, "_runtime", client)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()
