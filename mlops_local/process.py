"""Start ``mlops local`` as a child process and talk to it: used by the demo and e2e tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any


def _die_with_parent() -> None:
    """In the child: receive SIGTERM if the parent dies, so no local mode is left orphaned."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not Linux: the parent's own cleanup still stops the child


class LocalProcess:
    def __init__(self, port: int = 0, *options: str, env: dict[str, str] | None = None) -> None:
        """``env``: variables for local mode besides this process's (``MLOPS_LOCAL_ENFORCE_IAM``)."""
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlops_cli.main", "local", "--port", str(port), *options],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            preexec_fn=_die_with_parent,
        )
        self.banner: dict[str, str] = {}
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("API: "):
                self.banner["api"] = line.split(" ", 1)[1].strip()
            elif line.startswith("AWS_ENDPOINT_URL="):
                self.banner["endpoint"] = line.split("=", 1)[1].strip()
            elif line.startswith("config bucket: "):
                self.banner["config_bucket"] = line.split(": ", 1)[1].strip()
            elif line.startswith("assets bucket: "):
                self.banner["assets_bucket"] = line.split(": ", 1)[1].strip()
                break
        if "assets_bucket" not in self.banner:
            self.stop()
            raise RuntimeError("mlops local exited before printing its banner")

    @property
    def api(self) -> str:
        return self.banner["api"]

    @property
    def endpoint(self) -> str:
        return self.banner["endpoint"]

    def aws_env(self) -> dict[str, str]:
        """Environment for AWS clients (boto3, the AWS CLI) that should reach the emulator."""
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def session(self) -> Any:
        import boto3

        return boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")

    def client(self, service: str) -> Any:
        return self.session().client(service, endpoint_url=self.endpoint)

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(self.api + path, data=data, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def wait_for(self, pipeline_id: str, after: str | None = None, timeout: float = 60) -> dict[str, Any]:
        """The status document once a run (newer than execution ``after``) has finished, or at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            status, doc = self.post("/pipelinestatus", {"pipeline_id": pipeline_id})
            stages = (doc.get("pipeline") or {}).get("stages") if status == 200 else None
            run = stages[0].get("execution_id") if stages else None
            # Only the stages this run has reached count: the later ones still show the run before.
            mine = [s for s in stages or [] if s.get("execution_id") == run]
            finished = (
                run is not None
                and run != after
                and (
                    any(s["status"] == "Failed" for s in mine)
                    or (len(mine) == len(stages or []) and all(s["status"] == "Succeeded" for s in mine))
                )
            )
            if finished or time.monotonic() > deadline:
                return dict(doc)
            time.sleep(0.2)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.api + path, data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def wait_for_approval(self, pipeline: str, stage: str, timeout: float = 60) -> dict[str, Any]:
        """The pipeline's description once the approval of ``stage`` waits (or at the deadline)."""
        deadline = time.monotonic() + timeout
        while True:
            status, doc = self.request("GET", f"/pipelines/{pipeline}")
            waiting = [a["stage"] for a in doc.get("awaiting_approval", [])] if status == 200 else []
            if stage in waiting or time.monotonic() > deadline:
                return dict(doc)
            time.sleep(0.2)

    def wait_for_object(self, bucket: str, key: str, timeout: float = 30) -> bytes:
        s3 = self.client("s3")
        s3.get_waiter("object_exists").wait(
            Bucket=bucket, Key=key, WaiterConfig={"Delay": 1, "MaxAttempts": int(timeout)}
        )
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.stdout:
                self.process.stdout.close()
