"""An empty emulated AWS account, for tests that deploy the control plane themselves."""

from __future__ import annotations

from typing import Any

import boto3

REGION = "us-east-1"


class Account:
    """An empty emulated account (no local control plane bootstrapped)."""

    def __init__(self, url: str) -> None:
        self.session = boto3.session.Session(region_name=REGION)
        self.url = url

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.url)
