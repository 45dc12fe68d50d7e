"""Where the acceptance suite runs: a real installation, or ``mlops local`` on this machine.

``MLOPS_STACK`` set (and not empty) names the control-plane stack of a real installation,
reached with the standard AWS credential chain; unset, the suite starts local mode. The code
path is the same for both: the project's SigV4 client for the API, boto3 for what a user
would look at in the console. What differs lives here: how AWS is reached and how long each
step may take.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from mlops_cli.client import STACK_ENV, Api

T = TypeVar("T")


def stack_name() -> str:
    """The control-plane stack of a real installation, or "" for local mode."""
    return os.environ.get(STACK_ENV, "").strip()


@dataclass(frozen=True)
class Patience:
    """How long each step may take on a target, and how often to look again (seconds)."""

    endpoint: float
    training: float
    monitor: float
    delete: float
    poll: float


# Local mode's emulator completes jobs at once and creates endpoints InService.
LOCAL = Patience(endpoint=60, training=60, monitor=60, delete=60, poll=0.2)
# AWS: an endpoint takes 5-10 minutes to create and as long to delete; a tiny training job
# 3-6 minutes, mostly instance start-up; the serverless monitor a few minutes of pipeline.
REAL = Patience(endpoint=40 * 60, training=40 * 60, monitor=30 * 60, delete=30 * 60, poll=15)


class Refusal(Exception):
    """The real-account run cannot start; the message says what to set."""


@dataclass
class Target:
    """An installation to test: its API, AWS session and assets bucket."""

    name: str  # "aws" or "local"
    api: Api
    session: Any  # boto3.session.Session
    endpoint_url: str | None
    assets_bucket: str
    patience: Patience

    @property
    def real(self) -> bool:
        return self.name == "aws"

    def client(self, service: str) -> Any:
        from botocore.config import Config

        # AWS: retry throttling like the console does; local: fail fast on what moto lacks.
        retries = {"max_attempts": 8, "mode": "standard"} if self.real else {"max_attempts": 1}
        return self.session.client(service, endpoint_url=self.endpoint_url, config=Config(retries=retries))

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return self.api.call(method, path, body)


def real_target(stack: str) -> Target:
    """The installation of control-plane stack ``stack``, checked before anything is created."""
    import boto3

    if os.environ.get("PYTEST_XDIST_WORKER"):
        raise Refusal("run the real-account suite in one process (without -n): each worker would provision its own")
    session = boto3.session.Session()
    if session.get_credentials() is None:
        raise Refusal(
            "no AWS credentials found (environment, profile, SSO or instance role): "
            "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for the installation's account"
        )
    if not session.region_name:
        raise Refusal("no AWS region: set AWS_DEFAULT_REGION (or the profile's region) to the installation's region")
    try:
        session.client("sts").get_caller_identity()
    except Exception as exc:
        raise Refusal(f"the AWS credentials do not work: {exc}") from exc
    try:
        described = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except Exception as exc:
        raise Refusal(f"cannot read the control-plane stack {stack!r} in {session.region_name}: {exc}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = [key for key in ("ApiUrl", "AssetsBucket") if key not in outputs]
    if missing:
        raise Refusal(f"stack {stack!r} has no {' or '.join(missing)} output: is it the orchestrator's control plane?")
    return Target("aws", Api(outputs["ApiUrl"]), session, None, outputs["AssetsBucket"], REAL)


def local_target(api_url: str, endpoint_url: str, assets_bucket: str) -> Target:
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    )  # the emulator takes any key
    return Target("local", Api(api_url), session, endpoint_url, assets_bucket, LOCAL)


def until(what: str, timeout: float, poll: float, probe: Callable[[], tuple[bool, T]]) -> T:
    """Look with ``probe`` until it says done; at the deadline fail, saying what was last seen."""
    deadline = time.monotonic() + timeout
    while True:
        done, seen = probe()
        if done:
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s; last seen: {seen}")
        time.sleep(poll)


def main() -> int:
    """``make e2e-aws``'s check before pytest: refuse clearly, or say which installation is tested."""
    import sys

    stack = stack_name()
    if not stack:
        print("make e2e-aws: set MLOPS_STACK to the control-plane stack's name (sam deploy's stack)", file=sys.stderr)
        return 2
    try:
        target = real_target(stack)
    except Refusal as exc:
        print(f"make e2e-aws: {exc}", file=sys.stderr)
        return 2
    account = target.session.client("sts").get_caller_identity()["Account"]
    print(f"acceptance run against {stack} in account {account}, {target.session.region_name}: {target.api.url}")
    print("it creates an endpoint, a training job and a serverless monitor, and deletes them (expect 20-40 minutes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
