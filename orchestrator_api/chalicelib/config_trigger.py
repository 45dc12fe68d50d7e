"""Provision from ``mlops-config.json`` objects uploaded to the config bucket.

S3 delivers events at least once and in any order, so an event is only a hint that the
config changed: the handler always provisions the config's *latest* version. A duplicate
or stale event therefore re-applies the newest config, which is a no-op. After applying a
version the handler checks it is still the latest and, if a newer one arrived meanwhile,
applies that too; the result object is written conditionally on what was read. So two
handlers racing on different versions end with the newer one applied and recorded.

The result object ``<name>.result.json`` sits next to the config: outcome, errors, the
config's version id and the pipeline id. Failures are also published to the SNS topic.

A config whose pipeline stack failed its creation (ROLLBACK_COMPLETE) must wait for that
stack's deletion before the pipeline can be created again. The HTTP route answers 202 and
leaves the resubmission to its caller; here nobody would resubmit, so the handler itself waits
for the delete, bounded by :data:`REPLACEMENT_WAIT_SECONDS` (well under the function's 300 s
timeout), and applies the config again. A delete still running after that raises
:class:`RetryLater`: the invocation fails, Lambda retries the (asynchronous) S3 event, and the
retry applies the latest config to whatever the stack has become. After Lambda's retries the
event lands in the dead-letter queue, so it is never dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any
from urllib.parse import unquote_plus

from . import aws, requests
from .accepted import Accepted
from .body import parse_object
from .errors import OrchestratorError, ValidationFailed
from .routes.responses import status_of
from .settings import CONFIG_FILE_NAME, RESULT_SUFFIX, Settings

log = logging.getLogger(__name__)
SHA_METADATA = "result-sha256"
VERSION_METADATA = "config-version-id"
ATTEMPTS = 4
# Longest the handler waits for a failed pipeline stack's deletion, and between two reads of it.
REPLACEMENT_WAIT_SECONDS = 120
POLL_SECONDS = 5


class RetryLater(RuntimeError):
    """The config cannot be applied yet and nothing is wrong with it: fail so Lambda retries."""


def result_key(config_key: str) -> str:
    return config_key[: -len(".json")] + RESULT_SUFFIX


def records(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of each config object an S3 event names; test events name none."""
    found = []
    for record in event.get("Records") or []:
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name")
        key = unquote_plus((s3.get("object") or {}).get("key", ""))
        if bucket and key.endswith(CONFIG_FILE_NAME) and record.get("eventName", "").startswith("ObjectCreated"):
            found.append((bucket, key))
    return found


def handle(event: dict[str, Any], settings: Settings) -> list[dict[str, Any]]:
    results = []
    for bucket, key in dict.fromkeys(records(event)):
        result = process(bucket, key, settings)
        if result is not None:
            results.append(result)
    return results


def _deleted(stack_id: str, seconds: float) -> bool:
    """True once the stack ``stack_id`` is deleted; False if it still exists after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            stacks = aws.client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"]
        except Exception as exc:
            if "does not exist" in str(exc):
                return True
            raise
        if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
            return True
        if stacks[0]["StackStatus"] != "DELETE_IN_PROGRESS" or time.monotonic() + POLL_SECONDS > deadline:
            return False
        time.sleep(POLL_SECONDS)


def _apply(raw: bytes, settings: Settings, caller: str) -> dict[str, Any]:
    """Provision the config; a failed pipeline stack is waited out (see the module's docstring)."""
    response = requests.handle(parse_object(raw), settings, caller=caller)
    if isinstance(response, Accepted) and response.get("action") == "replacing":
        if not _deleted(response["pipeline_id"], REPLACEMENT_WAIT_SECONDS):
            raise RetryLater(f"{response['message']}; the event is retried")
        replaced = response["message"]
        response = requests.handle(parse_object(raw), settings, caller=caller)
        if isinstance(response, Accepted):
            raise RetryLater(f"{response['message']}; the event is retried")
        response["replaced"] = replaced
    return response


def _outcome(raw: bytes, settings: Settings, caller: str) -> dict[str, Any]:
    try:
        response = _apply(raw, settings, caller)
    except OrchestratorError as exc:
        outcome: dict[str, Any] = {"outcome": "failed", "status": status_of(exc), "message": exc.message}
        if isinstance(exc, ValidationFailed):
            outcome["errors"] = [p.as_dict() for p in exc.problems]
        return outcome
    if response.get("dry_run"):
        return {"outcome": "dry run", **response}
    if "changed" not in response:  # a model-card operation
        return {"outcome": response.get("action", "done"), **response}
    return {"outcome": "provisioned" if response["changed"] else "unchanged", **response}


def _read_latest(bucket: str, key: str) -> tuple[bytes, str] | None:
    try:
        obj = aws.client("s3").get_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if aws.error_code(exc) in aws.MISSING:
            return None  # deleted since the event: nothing to apply
        raise
    return obj["Body"].read(), obj.get("VersionId") or "null"


def _head(bucket: str, key: str) -> dict[str, str] | None:
    head = aws.head_object(bucket, key)
    if head is None:
        return None
    meta = head.get("Metadata", {})
    return {"etag": head["ETag"], "sha": meta.get(SHA_METADATA, ""), "version": meta.get(VERSION_METADATA, "")}


def _latest_version(bucket: str, key: str) -> str | None:
    head = aws.head_object(bucket, key)
    return (head.get("VersionId") or "null") if head else None


def process(bucket: str, key: str, settings: Settings) -> dict[str, Any] | None:
    """Apply the latest version of one config object and record the result next to it."""
    out_key = result_key(key)
    for _ in range(ATTEMPTS):
        latest = _read_latest(bucket, key)
        if latest is None:
            return None
        raw, version_id = latest
        before = _head(bucket, out_key)
        result = {
            "config": f"s3://{bucket}/{key}",
            "config_version_id": version_id,
            **_outcome(raw, settings, caller=f"s3://{bucket}/{key}"),
        }
        if _latest_version(bucket, key) != version_id:
            continue  # a newer config arrived while this one was applied: apply that one too
        body = (json.dumps(result, indent=2, sort_keys=True, default=str) + "\n").encode()
        sha = hashlib.sha256(body).hexdigest()
        if before is not None and (
            before["sha"] == sha or (before["version"] == version_id and result["outcome"] == "unchanged")
        ):
            return result  # a duplicate event: this version's result is already recorded
        written = aws.put_if_unchanged(
            bucket,
            out_key,
            body,
            before["etag"] if before else None,
            ContentType="application/json",
            Metadata={SHA_METADATA: sha, VERSION_METADATA: version_id},
        )
        if not written:
            continue  # another handler wrote a result meanwhile: re-read the latest config
        if result["outcome"] == "failed":
            _notify(settings, result)
        return result
    log.warning("gave up on %s after %d conflicting writes", key, ATTEMPTS)
    return None


def _notify(settings: Settings, result: dict[str, Any]) -> None:
    if not settings.notifications_topic_arn:
        return
    lines = [f"Provisioning from {result['config']} (version {result['config_version_id']}) failed:", ""]
    lines.append(result.get("message", ""))
    for item in result.get("errors", []):
        lines.append(f"  - {item['field']}: {item['problem']}")
    try:
        aws.client("sns").publish(
            TopicArn=settings.notifications_topic_arn,
            Subject="MLOps pipeline config failed"[:100],
            Message="\n".join(lines),
        )
    except Exception:
        log.exception("could not publish the failure of %s", result["config"])
