"""The serverless monitor's violations message carries the attributes the orchestrator's topic
subscription filters on: a report with violations reaches it, any other message does not."""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto import mock_aws

from chalicelib.retraining import SIGNAL_ATTRIBUTE, VIOLATIONS, signals
from mlops_monitor import signals as monitor_signals

REPORT = {
    "endpoint": "churn-endpoint",
    "monitor_type": "DataQuality",
    "report": "s3://my-data-bucket/reports/churn-endpoint/2026/11/21/10/report.json",
    "violations": [{"feature_name": "x3", "description": "drift"}],
}


def delivered(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    """What a subscription with the control plane's filter policy receives of one publish."""
    with mock_aws():
        sns, sqs = boto3.client("sns", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
        topic = sns.create_topic(Name="mlops-notifications")["TopicArn"]
        queue = sqs.create_queue(QueueName="orchestrator")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = json.dumps({SIGNAL_ATTRIBUTE: [VIOLATIONS]})
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"FilterPolicy": policy})
        sns.publish(
            TopicArn=topic, Subject="Monitor violations", Message="3 violation(s)", MessageAttributes=attributes
        )
        return [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue).get("Messages", [])]


def test_a_report_with_violations_reaches_the_orchestrator_naming_its_monitor_and_report() -> None:
    [envelope] = delivered(monitor_signals.attributes(REPORT))
    [signal] = signals({"Records": [{"Sns": envelope}]})  # as Lambda hands the handler the message
    assert signal["endpoint"] == "churn-endpoint" and signal["monitor_type"] == "DataQuality"
    assert signal["report"] == REPORT["report"] and signal["id"] == REPORT["report"]


def test_a_report_without_violations_carries_no_signal() -> None:
    assert monitor_signals.attributes({**REPORT, "violations": []}) == {}
    assert delivered({"other": {"DataType": "String", "StringValue": "x"}}) == []
