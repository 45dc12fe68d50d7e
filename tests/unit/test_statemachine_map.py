"""Local mode's Map state: items in order, $$.Map.Item in ItemSelector, and a failed item fails the
Map (ToleratedFailurePercentage 0, as the serverless monitor's fan-out sets it) naming the item's cause."""

from __future__ import annotations

import pytest

from mlops_local.statemachine import ExecutionFailed, run

PROCESSOR = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "StartAt": "Check",
    "States": {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.value", "StringEquals": "bad", "Next": "Broken"}],
                  "Default": "Keep"},
        "Keep": {"Type": "Pass", "Parameters": {"seen.$": "$.value", "at.$": "$.index"}, "End": True},
        "Broken": {"Type": "Fail", "Error": "Slice.Failed", "Cause": "slice 1 could not be read"},
    },
}  # fmt: skip


def machine(tolerated: int = 0) -> dict:
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
                "ItemProcessor": PROCESSOR,
                "ToleratedFailurePercentage": tolerated,
                "ResultPath": "$.results",
                "End": True,
            }
        },
    }


def test_each_item_runs_through_the_processor_in_order() -> None:
    out = run(None, machine(), {"items": ["a", "b", "c"]})
    assert out["results"] == [{"seen": "a", "at": 0}, {"seen": "b", "at": 1}, {"seen": "c", "at": 2}]


def test_a_failed_item_fails_the_map_with_its_cause() -> None:
    with pytest.raises(ExecutionFailed) as failed:
        run(None, machine(), {"items": ["a", "bad", "c"]})
    assert failed.value.error == "States.ExceedToleratedFailureThreshold"
    assert "1 of 3 items failed" in failed.value.cause and "slice 1 could not be read" in failed.value.cause


def test_failures_within_the_tolerated_share_pass() -> None:
    out = run(None, machine(tolerated=50), {"items": ["a", "bad", "c"]})
    assert out["results"] == [{"seen": "a", "at": 0}, None, {"seen": "c", "at": 2}]
