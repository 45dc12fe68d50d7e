"""Training, tuning and batch requests take the jobs' VPC and network isolation, with the real-time bounds."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.events import load_event
from tests.support.settings import problems

SIXTEEN = [f"subnet-{i:08x}" for i in range(16)]
FIVE = [f"sg-{i:08x}" for i in range(5)]
TYPES = ["model_training_builtin", "model_tuner_builtin"]


def body(pipeline_type: str, **changes: Any) -> dict[str, Any]:
    return {**load_event(f"valid/{pipeline_type}"), **changes}


# Every type whose jobs or model may run in a VPC: one rule, the same bounds (SageMaker's VpcConfig).
@pytest.mark.parametrize("pipeline_type", [*TYPES, "byom_batch_builtin", "byom_batch_custom"])
def test_the_bounds_are_sagemakers_on_both_sides(pipeline_type: str) -> None:
    assert problems(body(pipeline_type, vpc_config={"subnets": SIXTEEN, "security_group_ids": FIVE})) == {}
    assert problems(body(pipeline_type, vpc_config={"subnets": SIXTEEN[:1], "security_group_ids": FIVE[:1]})) == {}
    found = problems(body(pipeline_type, vpc_config={"subnets": [*SIXTEEN, "subnet-ffffffff"],
                                                     "security_group_ids": [*FIVE, "sg-ffffffff"]}))  # fmt: skip
    assert "1 to 16" in found["vpc_config.subnets"] and "1 to 5" in found["vpc_config.security_group_ids"]
    found = problems(body(pipeline_type, vpc_config={"subnets": [], "security_group_ids": []}))
    assert "1 to 16" in found["vpc_config.subnets"] and "1 to 5" in found["vpc_config.security_group_ids"]


@pytest.mark.parametrize("pipeline_type", TYPES)
def test_ids_and_flags_are_checked_by_name(pipeline_type: str) -> None:
    found = problems(body(pipeline_type, vpc_config={"subnets": ["vpc-123"], "security_group_ids": ["sg-0a1b2c3d"]}))
    assert "subnet ID" in found["vpc_config.subnets.0"]
    assert "vpc_config.security_group_ids" in problems(body(pipeline_type, vpc_config={"subnets": SIXTEEN[:1]}))
    assert "enable_network_isolation" in problems(body(pipeline_type, enable_network_isolation="yes"))
    assert problems(body(pipeline_type, enable_network_isolation=True)) == {}


def test_autopilot_takes_the_vpc_with_the_same_bounds() -> None:
    autopilot = "model_autopilot_training"
    assert problems(body(autopilot, vpc_config={"subnets": SIXTEEN, "security_group_ids": FIVE})) == {}
    assert problems(body(autopilot, vpc_config={"subnets": SIXTEEN[:1], "security_group_ids": FIVE[:1]})) == {}
    found = problems(body(autopilot, vpc_config={"subnets": [*SIXTEEN, "subnet-ffffffff"],
                                                 "security_group_ids": [*FIVE, "sg-ffffffff"]}))  # fmt: skip
    assert "1 to 16" in found["vpc_config.subnets"] and "1 to 5" in found["vpc_config.security_group_ids"]
    found = problems(body(autopilot, vpc_config={"subnets": ["vpc-123"], "security_group_ids": []}))
    assert "subnet ID" in found["vpc_config.subnets.0"] and "1 to 5" in found["vpc_config.security_group_ids"]
