"""Invoke a Lambda function of the emulator in-process, from its own deployed code (local mode).

moto runs Lambda code only inside Docker. Local mode instead reads the function's
configuration (handler, environment), finds the zip its stack deployed (moto keeps the S3
key of the code; the object is in one of the emulator's buckets), unpacks it and calls the
handler in this process with the function's environment variables. Calls take turns: the
environment is process-wide.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

_LOCK = threading.Lock()


class InvokeFailed(Exception):
    """The handler raised: ``error`` is the exception's type, as Lambda reports it."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


def _code(session: Any, region: str, key: str) -> bytes:
    s3 = session.client("s3", region_name=region)
    for bucket in s3.list_buckets()["Buckets"]:
        try:
            return bytes(s3.get_object(Bucket=bucket["Name"], Key=key)["Body"].read())
        except Exception:
            continue
    raise InvokeFailed("Lambda.ResourceNotFoundException", f"the function's code {key} is in no emulator bucket")


def invoke(session: Any, region: str, function: str, payload: Any) -> Any:
    """The handler's return value for ``payload``; :class:`InvokeFailed` when it raises."""
    described = session.client("lambda", region_name=region).get_function(FunctionName=function)
    config = described["Configuration"]
    key = urlparse(described["Code"]["Location"]).path.lstrip("/")
    module_name, _, attribute = config["Handler"].rpartition(".")
    with tempfile.TemporaryDirectory() as tmp, _LOCK:
        zipfile.ZipFile(io.BytesIO(_code(session, region, key))).extractall(tmp)
        variables = config.get("Environment", {}).get("Variables", {})
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        sys.path.insert(0, tmp)
        try:
            path = Path(tmp, *module_name.split(".")).with_suffix(".py")
            spec = importlib.util.spec_from_file_location(f"_local_lambda_{config['FunctionName']}", path)
            if spec is None or spec.loader is None:
                raise InvokeFailed("Runtime.ImportModuleError", f"no module {module_name} in the function's code")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            try:
                result = getattr(module, attribute)(payload, None)
            except Exception as exc:
                raise InvokeFailed(type(exc).__name__, str(exc)) from exc
            return json.loads(json.dumps(result, default=str))
        finally:
            sys.path.remove(tmp)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
