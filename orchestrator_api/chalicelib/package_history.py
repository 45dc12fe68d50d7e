"""Which model package a pipeline deploys, and why: a small record beside its bundles.

A pipeline that follows a model package group (``model_package_group_name``) changes package
when the group's approvals change (:mod:`.model_events`). Each change, refusal and failure is
recorded in ``mlops_provisioned_pipelines/<stack>/model-package.json`` in the assets bucket:
the package deployed with the event that moved it there (its id and time, the approval status,
who approved it), the latest changes, and the latest events handled. The record lives in the
pipeline's bundle folder, so deleting the pipeline removes it with the bundles.

The record is written after the stack update it describes, so a record never names a package
the stack does not deploy; a failed write is repaired by the event's retry (the stack is then
unchanged, and the record still lags behind it).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from . import aws
from .errors import UpstreamError
from .naming import bundle_prefix

RECORD = "model-package.json"
MAX_CHANGES = 50  # changes kept in the record (the newest)
MAX_EVENTS = 20  # events handled kept in the record (the newest)


def key(stack: str) -> str:
    return f"{bundle_prefix(stack)}{RECORD}"


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def read(bucket: str, stack: str) -> dict[str, Any] | None:
    """The pipeline's record, None when it has none (it never changed package by an event)."""
    try:
        body = aws.client("s3").get_object(Bucket=bucket, Key=key(stack))["Body"].read()
    except Exception as exc:
        if aws.error_code(exc) in ("NoSuchKey", "404", "AccessDenied"):
            return None
        raise UpstreamError(f"could not read the model package record of {stack}: {exc}") from exc
    try:
        record = json.loads(body)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def write(bucket: str, stack: str, record: dict[str, Any]) -> None:
    try:
        aws.client("s3").put_object(
            Bucket=bucket,
            Key=key(stack),
            Body=json.dumps(record, indent=2, default=str).encode(),
            ContentType="application/json",
        )
    except Exception as exc:
        raise UpstreamError(f"could not write the model package record of {stack}: {exc}") from exc


def note(
    bucket: str, stack: str, event: dict[str, Any], change: dict[str, Any] | None = None, deployed: bool = False
) -> dict[str, Any]:
    """Add one handled event (and the change or failure it caused) to the record; the record.

    ``deployed``: ``change`` names the package the stack now deploys.
    """
    record = read(bucket, stack) or {}
    events = [e for e in record.get("events", []) if e.get("event_id") != event.get("event_id")]
    record["events"] = ([*events, event])[-MAX_EVENTS:]
    if change is not None:
        record["changes"] = ([*record.get("changes", []), change])[-MAX_CHANGES:]
        if deployed:
            record["deployed"] = change
    write(bucket, stack, record)
    return record


def deployed_package(bucket: str, stack: str, request: dict[str, Any] | None) -> dict[str, Any] | None:
    """What ``GET /pipelines/{id}`` shows as ``model_package``: the package the pipeline
    deploys and why, None for a pipeline that deploys no package."""
    package = (request or {}).get("model_package_name")
    if not package:
        return None
    group = (request or {}).get("model_package_group_name")
    record = read(bucket, stack) or {}
    deployed = record.get("deployed") or {}
    if deployed.get("model_package_arn") == package:
        shown = dict(deployed)
    else:
        reason = (
            "the group's latest Approved package when the pipeline was provisioned"
            if group
            else "named by the provision request"
        )
        shown = {"model_package_arn": package, "reason": reason}
    shown["model_package_group_name"] = group
    shown["follows_group"] = bool(group)
    if record.get("changes"):
        shown["changes"] = record["changes"][-5:]
    if record.get("events"):
        shown["last_event"] = record["events"][-1]
    return shown


RETRAINING = "retraining.json"  # written by chalicelib.retraining


def retraining(bucket: str, stack: str) -> list[dict[str, Any]] | None:
    """What ``GET /pipelines/{id}`` shows as ``retraining``: the latest restarts a monitor's
    violations started, skipped or failed (for a monitor and for its training pipeline)."""
    try:
        body = aws.client("s3").get_object(Bucket=bucket, Key=f"{bundle_prefix(stack)}{RETRAINING}")["Body"].read()
        entries = json.loads(body).get("entries")
    except Exception as exc:
        if aws.error_code(exc) in ("NoSuchKey", "404", "AccessDenied") or isinstance(exc, ValueError | AttributeError):
            return None
        raise UpstreamError(f"could not read the retraining record of {stack}: {exc}") from exc
    return list(entries[-10:]) if isinstance(entries, list) else None
