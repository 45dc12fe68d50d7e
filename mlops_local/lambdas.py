"""Invoke a Lambda function of the emulator in-process, from its own deployed code (local mode).

moto runs Lambda code only inside Docker. Local mode instead reads the function's
configuration (handler, environment), finds the zip its stack deployed (moto keeps the S3
key of the code; the object is in one of the emulator's buckets), unpacks it and calls the
handler in this process with the function's environment variables. Calls take turns: the
environment is process-wide. A function with the SageMaker SDK layer runs in a child process
of the layer's interpreter (``make layer-venv``), in the account of the calling session.

In local mode (given :class:`~.iam.Identities`) the caller must be allowed
``lambda:InvokeFunction``, the emulator's admin reads the function and its code, and the
handler runs in a child process with its own role's credentials, as Lambda runs it.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .files import LAYER_PYTHON_ENV, layer_python
from .lambda_runner import HandlerError, call

_LOCK = threading.Lock()
RUNNER = Path(__file__).with_name("lambda_runner.py")


class InvokeFailed(Exception):
    """The handler raised: ``error`` is the exception's type, as Lambda reports it."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


def _code(session: Any, region: str, key: str, home: Any = None) -> bytes:
    """The zip at ``key`` in the caller's buckets, else in the home account's.

    A stage account's function is deployed from the orchestrator's blueprint bucket, which
    the control plane lets the stage accounts read.
    """
    import boto3

    for reader in (session, home or boto3.session.Session(region_name=region)):
        s3 = reader.client("s3", region_name=region)
        for bucket in s3.list_buckets()["Buckets"]:
            try:
                return bytes(s3.get_object(Bucket=bucket["Name"], Key=key)["Body"].read())
            except Exception:
                continue
    raise InvokeFailed("Lambda.ResourceNotFoundException", f"the function's code {key} is in no emulator bucket")


def _child_environment(session: Any, region: str, variables: dict[str, str]) -> dict[str, str]:
    """The function's variables plus the caller's account and the emulator's endpoint."""
    credentials = session.get_credentials().get_frozen_credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=credentials.access_key,
        AWS_SECRET_ACCESS_KEY=credentials.secret_key,
        AWS_REGION=region,
        AWS_DEFAULT_REGION=region,
        AWS_ENDPOINT_URL=session.client("lambda", region_name=region).meta.endpoint_url,
        AWS_MAX_ATTEMPTS="2",
    )
    if credentials.token:
        env["AWS_SESSION_TOKEN"] = credentials.token
    return {**env, **variables}


def _in_layer_python(
    session: Any, region: str, code_dir: str, config: dict[str, Any], payload: Any, python: Path | None = None
) -> Any:
    python = python or layer_python()
    if not python.exists():
        raise InvokeFailed(
            "Runtime.ImportModuleError",
            f"{config['FunctionName']} uses the SageMaker SDK layer, which local mode runs with {python}: "
            "in a checkout create it with `make layer-venv`; otherwise install the layer's packages "
            f"(layers/sagemaker/requirements.txt) beside mlops, or set {LAYER_PYTHON_ENV} to a Python that has them",
        )
    result_file = Path(code_dir) / ".result.json"
    variables = config.get("Environment", {}).get("Variables", {})
    done = subprocess.run(
        [str(python), str(RUNNER), code_dir, config["Handler"], str(result_file)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        env=_child_environment(session, region, variables),
        timeout=config.get("Timeout", 900),
        check=False,
    )
    if done.returncode != 0 or not result_file.exists():
        raise InvokeFailed("Runtime.ExitError", f"{config['FunctionName']} exited: {done.stderr.strip()[-2000:]}")
    outcome = json.loads(result_file.read_text())
    if "errorType" in outcome:
        raise InvokeFailed(outcome["errorType"], outcome["errorMessage"])
    return outcome["result"]


def invoke(session: Any, region: str, function: str, payload: Any, identities: Any = None) -> Any:
    """The handler's return value for ``payload``; :class:`InvokeFailed` when it raises.

    A function with layers (the SageMaker SDK layer) runs in a child process of
    :func:`layer_python`; with ``identities``, any other in a child process of this Python, as
    its role; otherwise in this process, one call at a time.
    """
    caller = session
    if identities is not None:
        from .iam import AccessDenied

        account = identities.account_of(caller)
        session = identities.admin(account)
        name = function.split(":")[6] if function.startswith("arn:") else function
        described = identities.function(account, name)
    else:
        described = session.client("lambda", region_name=region).get_function(FunctionName=function)
    config = described["Configuration"]
    if identities is not None:
        try:
            identities.check(caller, "lambda:InvokeFunction", config["FunctionArn"])
        except AccessDenied as denied:
            raise InvokeFailed("Lambda.AccessDeniedException", str(denied)) from denied
    key = urlparse(described["Code"]["Location"]).path.lstrip("/")
    with tempfile.TemporaryDirectory() as tmp:
        home = identities.admin() if identities is not None else None
        zipfile.ZipFile(io.BytesIO(_code(session, region, key, home))).extractall(tmp)
        if identities is not None:
            runner = identities.role(config["Role"], config["FunctionName"][:64])
            python = None if config.get("Layers") else Path(sys.executable)
            return _in_layer_python(runner, region, tmp, config, payload, python)
        if config.get("Layers"):
            return _in_layer_python(session, region, tmp, config, payload)
        with _LOCK:
            variables = config.get("Environment", {}).get("Variables", {})
            saved = {name: os.environ.get(name) for name in variables}
            os.environ.update(variables)
            try:
                return call(tmp, config["Handler"], payload, f"_local_lambda_{config['FunctionName']}")
            except HandlerError as failed:
                raise InvokeFailed(failed.error, str(failed)) from failed
            finally:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
