"""A monitor of a live serverless endpoint is refused: serverless endpoints capture no data.

DescribeEndpoint is answered in AWS's own shape (botocore's Stubber validates it): a serverless
variant carries ``CurrentServerlessConfig``, which moto's answer does not reproduce.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.errors import ValidationFailed
from chalicelib.intake import refuse_serverless_monitoring
from tests.support.events import load_event
from tests.support.realtime import described
from tests.support.settings import MULTI, SETTINGS


def described_with(variant: dict[str, Any]) -> dict[str, Any]:
    return described(ProductionVariants=[{"VariantName": "AllTraffic", **variant}])


SERVERLESS = {"CurrentServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 20}}
INSTANCES = {"CurrentInstanceCount": 1, "DesiredInstanceCount": 1, "CurrentWeight": 1.0}


def check(body: dict[str, Any], answer: dict[str, Any] | None, settings: Any = SETTINGS) -> None:
    client = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        if answer is None:
            stub.add_client_error("describe_endpoint", "ValidationException", "Could not find endpoint")
        else:
            stub.add_response("describe_endpoint", answer, {"EndpointName": "churn-endpoint"})
        refuse_serverless_monitoring(body, settings, client)
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    "kind",
    ["byom_data_quality_monitor", "byom_model_quality_monitor", "byom_model_bias_monitor",
     "byom_model_explainability_monitor"],
)  # fmt: skip
def test_a_monitor_of_a_serverless_endpoint_is_refused(kind: str) -> None:
    body = {**load_event(f"valid/{kind}"), "endpoint_name": "churn-endpoint"}
    with pytest.raises(ValidationFailed) as refused:
        check(body, described_with(SERVERLESS))
    [problem] = refused.value.problems
    assert problem.field == "endpoint_name" and "serverless endpoints capture no data" in problem.problem


def test_endpoints_on_instances_and_endpoints_not_there_yet_pass() -> None:
    body = {**load_event("valid/byom_data_quality_monitor"), "endpoint_name": "churn-endpoint"}
    check(body, described_with(INSTANCES))
    check(body, None)  # the endpoint pipeline may come later


def test_multi_account_installations_look_nothing_up() -> None:
    """The endpoints live in the stage accounts: a same-named endpoint in the orchestrator's
    account says nothing about them."""
    body = {**load_event("valid/byom_data_quality_monitor"), "endpoint_name": "churn-endpoint"}
    client = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response("describe_endpoint", described_with(SERVERLESS), {"EndpointName": "churn-endpoint"})
        refuse_serverless_monitoring(body, MULTI, client)  # no 400 for an endpoint of another account
        with pytest.raises(AssertionError):
            stub.assert_no_pending_responses()  # and DescribeEndpoint was not called
