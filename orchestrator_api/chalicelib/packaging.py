"""The pipeline source bundle: blueprint + parameter file(s) + the normalised request, zipped.

The zip is byte-for-byte stable for the same inputs (fixed order, timestamps and modes,
canonical JSON), so a resubmitted request produces the same bytes and no new S3 version.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from .models.fields import STAGES

REQUEST_FILE = "mlops-request.json"
PARAMS_FILE = "template_params.json"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def canonical_json(value: Any) -> bytes:
    return (json.dumps(value, sort_keys=True, indent=2) + "\n").encode()


@dataclass(frozen=True)
class Bundle:
    zip_bytes: bytes
    sha256: str
    # Parameters per stage; the key None holds the single-account parameters.
    params: dict[str | None, dict[str, str]]


def stage_params_file(stage: str, scheduled: bool = False) -> str:
    return f"{stage}_scheduled_{PARAMS_FILE}" if scheduled else f"{stage}_{PARAMS_FILE}"


def build(
    template_name: str,
    template: bytes,
    request: dict[str, Any],
    params: dict[str | None, dict[str, str]],
    tags: dict[str, str],
    scheduled: bool = False,
) -> Bundle:
    """``scheduled``: also write each stage's parameters with ``BaselineReady=true`` (monitors)."""
    files: dict[str, bytes] = {template_name: template, REQUEST_FILE: canonical_json(request)}
    if None in params:
        # CloudFormation deploy action's template configuration file.
        files[PARAMS_FILE] = canonical_json({"Parameters": params[None], "Tags": tags})
    for stage in STAGES:
        if stage in params:
            # StackSet actions take a list of ParameterKey/ParameterValue.
            files[stage_params_file(stage)] = _parameter_list(params[stage])
            if scheduled:
                files[stage_params_file(stage, True)] = _parameter_list({**params[stage], "BaselineReady": "true"})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name], compresslevel=9)
    data = buffer.getvalue()
    return Bundle(data, hashlib.sha256(data).hexdigest(), params)


def _parameter_list(params: dict[str, str]) -> bytes:
    return canonical_json([{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(params.items())])


def read_request(zip_bytes: bytes) -> dict[str, Any] | None:
    """The normalised request stored in an earlier bundle, if it has one."""
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            loaded = json.loads(archive.read(REQUEST_FILE))
    except (zipfile.BadZipFile, KeyError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def read_params(zip_bytes: bytes) -> dict[str | None, dict[str, str]]:
    """The parameters an earlier bundle rendered: per stage, or under None for one account."""
    out: dict[str | None, dict[str, str]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            names = set(archive.namelist())
            if PARAMS_FILE in names:
                out[None] = dict(json.loads(archive.read(PARAMS_FILE)).get("Parameters", {}))
            for stage in STAGES:
                if stage_params_file(stage) in names:
                    listed = json.loads(archive.read(stage_params_file(stage)))
                    out[stage] = {p["ParameterKey"]: p["ParameterValue"] for p in listed}
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError):
        return {}
    return out
