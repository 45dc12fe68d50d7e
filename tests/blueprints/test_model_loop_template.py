"""The control plane's part of the ML loop: the rule that hands model registry approvals to the
orchestrator, the permission Lambda checks on each delivery, and cross-account delivery."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_dev.translate import load, translate


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return dict(translate(load(), "code-bucket")["Resources"])


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def test_the_rule_matches_the_events_the_handler_reads_and_targets_its_function(translated: dict[str, Any]) -> None:
    from chalicelib.model_events import EVENT_PATTERN

    [(_name, rule)] = [
        (n, r)
        for n, r in _of_type(translated, "AWS::Events::Rule").items()
        if "Model Package State Change" in str(r["Properties"].get("EventPattern"))
    ]
    assert rule["Properties"]["EventPattern"] == EVENT_PATTERN
    [target] = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ModelPackageEventsFunction", "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    function = translated["ModelPackageEventsFunction"]["Properties"]
    assert function["Handler"] == "app.on_model_package_event"


def test_lambda_admits_events_from_that_rule_only(translated: dict[str, Any]) -> None:
    # Lambda refuses a delivery its resource policy does not admit (moto invokes nothing).
    permissions = [
        p["Properties"]
        for p in _of_type(translated, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Ref": "ModelPackageEventsFunction"}
    ]
    assert permissions == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": "ModelPackageEventsFunction"},
            "Principal": "events.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": ["ModelPackageEventsFunctionModelPackageStateChange", "Arn"]},
        }
    ]


def test_a_central_registry_account_may_put_events_on_the_default_bus_only_when_named(
    translated: dict[str, Any],
) -> None:
    policy = translated["RegistryEventsBusPolicy"]
    assert policy["Condition"] == "HasRegistryAccount"
    statement = policy["Properties"]["Statement"]
    assert statement["Action"] == "events:PutEvents"
    assert statement["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${ModelRegistryAccountId}:root"}}
    assert policy["Properties"]["EventBusName"] == "default"


def test_monitor_violations_reach_their_handler_from_the_topic_and_model_monitor(translated: dict[str, Any]) -> None:
    from chalicelib.retraining import PROCESSING_PATTERN, SIGNAL_ATTRIBUTE, VIOLATIONS

    assert translated["MonitorSignalsFunction"]["Properties"]["Handler"] == "app.on_monitor_signal"
    [subscription] = [
        s["Properties"]
        for s in _of_type(translated, "AWS::SNS::Subscription").values()
        if s["Properties"]["Endpoint"] == {"Fn::GetAtt": ["MonitorSignalsFunction", "Arn"]}
    ]
    assert subscription["TopicArn"] == {"Ref": "NotificationsTopic"} and subscription["Protocol"] == "lambda"
    assert subscription["FilterPolicy"] == {SIGNAL_ATTRIBUTE: [VIOLATIONS]}
    [rule] = [
        r["Properties"]
        for r in _of_type(translated, "AWS::Events::Rule").values()
        if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["MonitorSignalsFunction", "Arn"]}
    ]
    assert rule["EventPattern"] == PROCESSING_PATTERN
    principals = sorted(
        p["Properties"]["Principal"]
        for p in _of_type(translated, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Ref": "MonitorSignalsFunction"}
    )
    assert principals == ["events.amazonaws.com", "sns.amazonaws.com"]
