"""The orchestrator API from the command line: SigV4-signed requests with the standard
credential chain (environment, profile, SSO, instance role), as API Gateway's AWS_IAM expects.

The API URL comes from ``--api-url``, else ``MLOPS_API_URL``, else the ``ApiUrl`` output of the
control-plane stack named by ``--stack`` / ``MLOPS_STACK``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

API_URL_ENV = "MLOPS_API_URL"
STACK_ENV = "MLOPS_STACK"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class ClientError(Exception):
    """Nothing could be sent or nothing came back (exit code 3), or the setup is wrong (2)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def api_url_from_stack(stack: str) -> str:
    import boto3

    try:
        described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except Exception as exc:
        raise ClientError(f"could not read stack {stack}: {exc}", 2) from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    if "ApiUrl" not in outputs:
        raise ClientError(f"stack {stack} has no ApiUrl output: is it the orchestrator's control plane?", 2)
    return outputs["ApiUrl"]


@dataclass
class Api:
    url: str

    def _signed_headers(self, method: str, url: str, data: bytes | None) -> dict[str, str]:
        import boto3
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        headers = {"Content-Type": "application/json"}
        session = boto3.session.Session()
        credentials = session.get_credentials()
        host = urlparse(url).hostname or ""
        if credentials is None:
            if host in LOCAL_HOSTS:
                return headers  # mlops local does not check signatures
            raise ClientError("no AWS credentials found (environment, profile or role) to sign the request", 2)
        parts = host.split(".")
        region = parts[2] if len(parts) > 3 and parts[1] == "execute-api" else (session.region_name or "us-east-1")
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        return dict(request.headers.items())

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """(HTTP status, decoded JSON answer)."""
        url = self.url.rstrip("/") + path
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(url, data=data, method=method, headers=self._signed_headers(method, url, data))
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                return error.code, json.loads(error.read() or b"{}")
            except ValueError:
                return error.code, {"message": f"HTTP {error.code} {error.reason}"}
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ClientError(f"could not reach {url}: {exc}", 3) from exc
