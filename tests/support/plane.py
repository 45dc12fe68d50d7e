"""The emulated AWS the integration tiers run against: fake credentials, and a control plane
bootstrapped into a moto server as ``sam deploy`` would create it (the ``plane`` fixture)."""

from __future__ import annotations

import json
from typing import Any

import boto3

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_MAX_ATTEMPTS": "1",
}


class Plane:
    """A bootstrapped control plane in the emulator, with clients to inspect it."""

    def __init__(self, url: str) -> None:
        from mlops_local.bootstrap import ControlPlane

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


def post(api: Any, path: str, body: Any, content_type: str = "application/json") -> tuple[int, Any]:
    """POST ``body`` (a dict is JSON-encoded) and return (status, decoded JSON body)."""
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    response = api.http.post(path, body=data, headers={"Content-Type": content_type})
    return response.status_code, json.loads(response.body) if response.body else None
