"""Batch transform requests take the model's VPC and network isolation, with the real-time bounds."""

from __future__ import annotations

from typing import Any

from tests.support.events import load_event
from tests.support.settings import MULTI, problems

SIXTEEN = [f"subnet-{i:08x}" for i in range(16)]
FIVE = [f"sg-{i:08x}" for i in range(5)]


def body(pipeline_type: str = "byom_batch_builtin", **changes: Any) -> dict[str, Any]:
    return {**load_event(f"valid/{pipeline_type}"), **changes}


def test_ids_and_flags_are_checked_by_name() -> None:
    found = problems(body(vpc_config={"subnets": ["vpc-123"], "security_group_ids": ["sg-0a1b2c3d"]}))
    assert "subnet ID" in found["vpc_config.subnets.0"]
    assert "vpc_config.security_group_ids" in problems(body(vpc_config={"subnets": SIXTEEN[:1]}))
    assert "enable_network_isolation" in problems(body(enable_network_isolation="yes"))
    assert problems(body(enable_network_isolation=True)) == {}


def test_per_stage_vpcs_need_a_multi_account_installation() -> None:
    prod = {"subnets": ["subnet-0prod0001"], "security_group_ids": ["sg-0prod0001"]}
    one = {"subnets": SIXTEEN[:1], "security_group_ids": FIVE[:1]}
    staged = {"dev": one, "staging": one, "prod": prod}
    assert problems(body(vpc_config=staged), MULTI) == {}
    assert "multi-account" in problems(body(vpc_config=staged))["vpc_config"]
    assert "vpc_config.staging" in problems(body(vpc_config={"dev": one, "prod": prod}), MULTI)


def test_the_example_body_is_valid() -> None:
    assert problems(load_event("valid/batch/vpc")) == {}
