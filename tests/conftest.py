"""Shared fixtures.

Test tiers:
- ``unit``: pure logic, no network, no emulator.
- ``integration``: the Chalice app in-process (``chalice.test.Client``) against a moto
  *server* on a local port, with the control plane bootstrapped as ``sam deploy`` would.
- ``blueprints``: templates (cfn-lint, contract with the renderers, moto deploys) and the
  code of the Lambdas blueprints create.
- ``e2e``, ``acceptance``, ``hostile``, ``reliability``: the tiers of their folders' names.

Each test carries its tier's marker (by folder; the checks at the top of tests/ are ``unit``),
so ``-m "unit or integration"`` selects the fast tiers. Shared helpers live in tests/support.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.events import EVENTS, load_event, valid_types

__all__ = ["EVENTS", "FAKE_ENV", "Plane", "load_event", "post", "valid_types"]

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_MAX_ATTEMPTS": "1",
}


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

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class Plane:
    """A bootstrapped control plane in the emulator, with clients to inspect it."""

    def __init__(self, url: str) -> None:
        from mlops_cli.bootstrap import ControlPlane

        self.url = url
        self.config = ControlPlane()
        self.session = boto3.session.Session(region_name="us-east-1")
        self.config.bootstrap(self.session)

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name="us-east-1")

    def settings(self) -> Any:
        from chalicelib.settings import get_settings

        return get_settings()

    def stacks(self) -> list[dict[str, Any]]:
        summaries = self.client("cloudformation").list_stacks()["StackSummaries"]
        return [s for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"]

    def versions(self, bucket: str, key: str) -> list[dict[str, Any]]:
        listed = self.client("s3").list_object_versions(Bucket=bucket, Prefix=key)
        return [v for v in listed.get("Versions", []) if v["Key"] == key]

    def set_stack_status(self, name: str, status: str) -> None:
        """Put a stack into a state moto never reaches by itself (it never rolls back)."""
        from moto.cloudformation.models import cloudformation_backends

        backend = cloudformation_backends["123456789012"]["us-east-1"]
        stack = next(s for s in backend.stacks.values() if s.name == name and s.status != "DELETE_COMPLETE")
        stack.status = status


@pytest.fixture
def plane(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Plane:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    from mlops_cli.bootstrap import ControlPlane

    for key, value in ControlPlane().env().items():
        monkeypatch.setenv(key, value)
    return Plane(moto_url)


@pytest.fixture
def api(plane: Plane) -> Any:
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        yield client


def post(api: Any, path: str, body: Any, content_type: str = "application/json") -> tuple[int, Any]:
    """POST ``body`` (a dict is JSON-encoded) and return (status, decoded JSON body)."""
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    response = api.http.post(path, body=data, headers={"Content-Type": content_type})
    return response.status_code, json.loads(response.body) if response.body else None
