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

Which failures are recorded and which are retried is one rule (:func:`refused`): a result with
``"outcome": "failed"`` is written only when the config itself is refused, which no retry can
change: a 400 (it breaks a rule), a 404, and a 409 that needs the user or an operator (a
pipeline pinned to other blueprints, a model card with other content, a stack that needs an
operator). Anything else raises, so Lambda delivers the event again and then keeps it in the
dead-letter queue: an AWS failure that passes (throttling, 5xx, timeouts, dropped
connections, also wrapped in an ``UpstreamError``), a 409 that ends by itself (a stack
operation in progress, a concurrent request that got there first), an AWS refusal that is the
installation's fault (AccessDenied), and any bug.

A retry must not misreport what a version did. Each result records, in its metadata, the
version in effect and a fingerprint of its pipeline as deployed (the stack's id and
parameters, the bundle's ETag). When a retry finds its version's pipeline already in place (an
earlier attempt applied it and then failed, writing the result for instance), the pipeline
differs from the one the last result recorded (or, for a config with no such record, its
bundle was written after the version was uploaded), so the retry records ``provisioned``
(created or updated) for this version, not ``unchanged``. A failed result names the version
still in effect (``version_in_effect``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from . import aws, intake
from .accepted import Accepted
from .body import parse_object
from .errors import Conflict, OrchestratorError, RequestError, ValidationFailed, retryable
from .routes.responses import status_of
from .settings import CONFIG_FILE_NAME, RESULT_SUFFIX, Settings
from .stacks import TAG_CREATOR, tag_value

log = logging.getLogger(__name__)
SHA_METADATA = "result-sha256"
VERSION_METADATA = "config-version-id"
# The config version whose pipeline is deployed, and a fingerprint of that pipeline (see below).
IN_EFFECT_METADATA = "in-effect-version-id"
DEPLOYED_METADATA = "deployed-sha256"
PIPELINE_METADATA = "pipeline-id"
NOTHING = "none"  # no version of the config is in effect yet
ATTEMPTS = 4
# Longest the handler waits for a failed pipeline stack's deletion, and between two reads of it.
REPLACEMENT_WAIT_SECONDS = 120
POLL_SECONDS = 5


@dataclass(frozen=True)
class Deployed:
    """A pipeline as deployed: a fingerprint of its state, its stack, and when each part was made."""

    fingerprint: str
    stack_id: str
    created: datetime | None  # the stack's creation
    creator: str  # the stack's created-by tag: who created it
    written: datetime | None  # the bundle's last write


class RetryLater(RuntimeError):
    """The config cannot be applied yet and nothing is wrong with it: fail so Lambda retries."""


def refused(exc: BaseException) -> bool:
    """True when the config itself is refused and a retry cannot change that: record it as failed.

    A 400 or 404 (:class:`RequestError`), and a 409 that is not :func:`~.errors.retryable`.
    """
    return isinstance(exc, RequestError) or (isinstance(exc, Conflict) and not retryable(exc))


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
    response = intake.handle(parse_object(raw), settings, caller=caller)
    if isinstance(response, Accepted) and response.get("action") == "replacing":
        if not _deleted(response["pipeline_id"], REPLACEMENT_WAIT_SECONDS):
            raise RetryLater(f"{response['message']}; the event is retried")
        replaced = response["message"]
        response = intake.handle(parse_object(raw), settings, caller=caller)
        if isinstance(response, Accepted):
            raise RetryLater(f"{response['message']}; the event is retried")
        response["replaced"] = replaced
    return response


def _outcome(raw: bytes, settings: Settings, caller: str, version_id: str) -> dict[str, Any]:
    try:
        response = _apply(raw, settings, caller)
    except RetryLater:
        raise
    except Exception as exc:
        if not (isinstance(exc, OrchestratorError) and refused(exc)):
            kind = "failed for a reason that passes" if retryable(exc) else "failed, not through the config's fault"
            raise RetryLater(
                f"applying {caller} (version {version_id}) {kind}: {exc}; the event is retried, "
                "then kept in the dead-letter queue"
            ) from exc
        outcome: dict[str, Any] = {"outcome": "failed", "status": status_of(exc), "message": exc.message}
        if isinstance(exc, ValidationFailed):
            outcome["errors"] = [p.as_dict() for p in exc.problems]
        if exc.details.get("warnings"):
            outcome["warnings"] = exc.details["warnings"]  # keys the config's type ignores
        return outcome
    if response.get("dry_run"):
        return {"outcome": "dry run", **response}
    if "changed" not in response:  # a model-card operation
        return {"outcome": response.get("action", "done"), **response}
    return {"outcome": "provisioned" if response["changed"] else "unchanged", **response}


def _read_latest(bucket: str, key: str) -> tuple[bytes, str, datetime | None] | None:
    """The config's latest body, version id and upload time; None once it is deleted."""
    try:
        obj = aws.client("s3").get_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if aws.error_code(exc) in aws.MISSING:
            return None  # deleted since the event: nothing to apply
        raise
    return obj["Body"].read(), obj.get("VersionId") or "null", obj.get("LastModified")


def _head(bucket: str, key: str) -> dict[str, str] | None:
    head = aws.head_object(bucket, key)
    if head is None:
        return None
    meta = head.get("Metadata", {})
    return {
        "etag": head["ETag"],
        "sha": meta.get(SHA_METADATA, ""),
        "version": meta.get(VERSION_METADATA, ""),
        "in_effect": meta.get(IN_EFFECT_METADATA, ""),
        "deployed": meta.get(DEPLOYED_METADATA, ""),
        "pipeline": meta.get(PIPELINE_METADATA, ""),
    }


def _deployed(outcome: dict[str, Any]) -> Deployed | None:
    """The pipeline ``outcome`` names as it is deployed now; None for no pipeline.

    Its fingerprint covers the pipeline stack's id and parameters and the ETag of the bundle
    they name, so it changes with any create, replacement, update or new bundle.
    """
    if "changed" not in outcome or outcome.get("dry_run") or not outcome.get("pipeline_id"):
        return None
    stack = aws.client("cloudformation").describe_stacks(StackName=outcome["pipeline_id"])["Stacks"][0]
    params = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    bundle = None
    if params.get("AssetsBucket") and params.get("TemplateZipFileName"):
        bundle = aws.head_object(params["AssetsBucket"], params["TemplateZipFileName"])
    state = [stack["StackId"], sorted(params.items()), bundle["ETag"] if bundle else ""]
    return Deployed(
        fingerprint=hashlib.sha256(json.dumps(state).encode()).hexdigest(),
        stack_id=str(stack["StackId"]),
        created=stack.get("CreationTime"),
        written=bundle.get("LastModified") if bundle else None,
        creator={t["Key"]: t["Value"] for t in stack.get("Tags", [])}.get(TAG_CREATOR, ""),
    )


def _credit(
    outcome: dict[str, Any],
    before: dict[str, str] | None,
    version_id: str,
    uploaded: datetime | None,
    now: Deployed | None,
    caller: str,
) -> dict[str, Any]:
    """``outcome``, or ``provisioned`` when an earlier attempt at this version made the change.

    The apply says ``unchanged`` when the pipeline already matches this version. That match is
    this version's own doing, never recorded because the attempt that made it failed afterwards
    (writing the result, say), when the last result recorded another pipeline (another
    fingerprint); or, with no such record, when the bundle the pipeline runs was written after
    this version was uploaded (S3 dates both, to the second); created if this config's key
    created the stack (its created-by tag) since, else updated.
    """
    if outcome.get("outcome") != "unchanged" or now is None:
        return outcome
    if before is not None and before["version"] == version_id:
        return outcome  # this version's result is recorded already
    action = ""
    if before is not None and before["deployed"]:
        if before["deployed"] != now.fingerprint:
            action = "created" if before["pipeline"] != now.stack_id else "updated"
    elif uploaded is not None and now.written is not None and now.written >= uploaded:
        by_this = now.creator == tag_value(caller) and now.created is not None and now.created >= uploaded
        action = "created" if by_this else "updated"
    if not action:
        return outcome
    return {
        **outcome,
        "outcome": "provisioned",
        "action": action,
        "changed": True,
        "message": f"pipeline {outcome.get('stack_name')} was {action} from this version by an earlier attempt",
    }


def _metadata(before: dict[str, str] | None, result: dict[str, Any], now: Deployed | None) -> dict[str, str]:
    """What the result object records beside its body: the version in effect and its pipeline.

    A failed or dry-run result changes neither, so it carries the last ones forward.
    """
    kept = {
        IN_EFFECT_METADATA: before["in_effect"] if before else NOTHING,
        DEPLOYED_METADATA: before["deployed"] if before else "",
        PIPELINE_METADATA: before["pipeline"] if before else "",
    }
    if result["outcome"] in ("failed", "dry run"):
        return kept
    kept[IN_EFFECT_METADATA] = result["config_version_id"]
    if now is not None:
        kept[DEPLOYED_METADATA], kept[PIPELINE_METADATA] = now.fingerprint, now.stack_id
    return kept


def _latest_version(bucket: str, key: str) -> str | None:
    head = aws.head_object(bucket, key)
    return (head.get("VersionId") or "null") if head else None


def process(bucket: str, key: str, settings: Settings) -> dict[str, Any] | None:
    """Apply the latest version of one config object and record the result next to it.

    Raises (so Lambda retries the event) on anything but a config refused for its own fault.
    """
    out_key = result_key(key)
    caller = f"s3://{bucket}/{key}"
    for _ in range(ATTEMPTS):
        latest = _read_latest(bucket, key)
        if latest is None:
            return None
        raw, version_id, uploaded = latest
        before = _head(bucket, out_key)
        outcome = _outcome(raw, settings, caller, version_id)
        if _latest_version(bucket, key) != version_id:
            continue  # a newer config arrived while this one was applied: apply that one too
        now = _deployed(outcome)
        result = {
            "config": caller,
            "config_version_id": version_id,
            **_credit(outcome, before, version_id, uploaded, now, caller),
        }
        metadata = _metadata(before, result, now)
        if metadata[IN_EFFECT_METADATA] not in (NOTHING, version_id):
            result["version_in_effect"] = metadata[IN_EFFECT_METADATA]
        body = (json.dumps(result, indent=2, sort_keys=True, default=str) + "\n").encode()
        sha = hashlib.sha256(body).hexdigest()
        if before is not None and (
            before["sha"] == sha or (before["version"] == version_id and result["outcome"] == "unchanged")
        ):
            return result  # a duplicate event: this version's result is already recorded
        if result["outcome"] == "failed":
            _notify(settings, result)  # before the write: a retry after a failed write notifies again
        written = aws.put_if_unchanged(
            bucket,
            out_key,
            body,
            before["etag"] if before else None,
            ContentType="application/json",
            Metadata={SHA_METADATA: sha, VERSION_METADATA: version_id, **metadata},
        )
        if not written:
            continue  # another handler wrote a result meanwhile: re-read the latest config
        return result
    raise RetryLater(f"{ATTEMPTS} conflicting writes of {out_key}; the event is retried")


def _notify(settings: Settings, result: dict[str, Any]) -> None:
    """Publish a failed result; a publish that failed for a reason that passes is retried with the event."""
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
    except Exception as exc:
        if retryable(exc):
            raise
        log.exception("could not publish the failure of %s", result["config"])
