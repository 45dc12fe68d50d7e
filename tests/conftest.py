"""Shared fixtures.

Test tiers:
- ``unit``: pure logic, no network, no emulator.
- ``integration``: the Chalice app in-process (``chalice.test.Client``) against a moto
  *server* on a local port, with the control plane bootstrapped as ``sam deploy`` would.
- ``blueprints``: templates (cfn-lint, contract with the renderers, moto deploys) and the
  code of the Lambdas blueprints create.
- ``e2e``, ``acceptance``, ``hostile``, ``reliability``: the tiers of their folders' names.

Each test carries its tier's marker (by folder; the checks at the top of tests/ are ``unit``),
so ``-m "unit or integration"`` selects the fast tiers. Shared helpers live in tests/support;
this file holds the fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.plane import FAKE_ENV, Plane

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "integration", "blueprints", "e2e", "acceptance", "hostile", "reliability")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier, the folder under tests/ it lives in."""
    for item in items:
        parts = Path(str(item.path)).resolve().relative_to(TESTS).parts
        tier = parts[0] if len(parts) > 1 else "unit"
        assert tier in TIERS, f"{item.nodeid}: tests/{tier} is not a tier ({', '.join(TIERS)})"
        item.add_marker(tier)


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test runs with fake credentials and fresh clients; none can reach AWS."""
    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    from chalicelib import aws
    from chalicelib import blueprint_store as blueprints

    aws.reset()
    blueprints.forget()
    yield
    aws.reset()
    blueprints.forget()


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    from mlops_local.fidelity import join_list_parameters

    join_list_parameters()  # as local mode does: DescribeStacks answers list parameters as AWS does
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def plane(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Plane:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    from mlops_local.bootstrap import ControlPlane

    for key, value in ControlPlane().env().items():
        monkeypatch.setenv(key, value)
    return Plane(moto_url)


@pytest.fixture
def api(plane: Plane) -> Any:
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        yield client


@pytest.fixture
def stubbed_sagemaker() -> Iterator[Any]:
    """The orchestrator's SageMaker client behind botocore's Stubber: answers in AWS's own shape,
    for calls whose answers moto does not reproduce (DescribeEndpoint's deployment state)."""
    import boto3
    from botocore.stub import Stubber

    from chalicelib import aws

    client = boto3.client("sagemaker", region_name="us-east-1")
    aws.inject("sagemaker", client)
    with Stubber(client) as stub:
        yield stub
    aws.reset()
