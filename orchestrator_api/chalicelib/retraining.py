"""Drift-driven retraining: a monitor whose check finds violations starts its training pipeline again.

A monitor request may name ``retraining.pipeline`` (a training, tuning or Autopilot pipeline).
The orchestrator hears of a check's violations two ways, handled by ``app.on_monitor_signal``:
- the serverless engine's check publishes its violations to the notifications topic with the
  message attributes ``mlops-signal: monitor-violations``, ``endpoint``, ``monitor-type`` and
  ``report``; the control plane subscribes the handler to the topic with a filter policy on
  ``mlops-signal``, so it receives those messages only;
- SageMaker Model Monitor's execution is a processing job that ends ``CompletedWithViolations``:
  an EventBridge rule on "SageMaker Processing Job State Change" hands it over, and the
  monitoring schedule it ran for names the monitor.

The restart goes through the provisioning path with the training request as it was deployed and
a new ``run_id`` derived from the signal (``drift-<hash of the report or execution>``): a
duplicate of the same signal plans the same bundle and changes nothing. A restart is refused
(recorded, and told to the topic) within ``cooldown_minutes`` of the previous one or past
``max_per_day`` in 24 hours. Both pipelines' records (``retraining.json`` beside their bundles)
link the report to the run it started; ``GET /pipelines/{id}`` shows them as ``retraining``.

Two signals handled at the same instant are two processes. Each claims its restart in the training
pipeline's record with a conditional write (S3 If-Match on the record it read): of two claims on
one record, one is written and the other reads the record again and meets the cooldown. A claim
is ``starting`` until the run is provisioned, and holds the token of the invocation that made
it, which alone finishes or withdraws it. A delivery of the same signal while it is young
starts nothing; one after a crash left it stale (15 minutes) takes it over and provisions
(idempotent by run_id). A failed provision withdraws its claim.
"""

from __future__ import annotations

import datetime
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from . import aws, bundles, inventory, notices, package_history, packaging, provisioning, status
from .errors import OrchestratorError, UpstreamError
from .naming import bundle_prefix, digest
from .pipelines.catalog import REGISTRY
from .settings import Settings
from .stacks import TAG_TYPE, tags_of
from .stacks import parameters as stack_parameters

log = logging.getLogger(__name__)

SIGNAL_ATTRIBUTE = "mlops-signal"
VIOLATIONS = "monitor-violations"
PROCESSING_DETAIL_TYPE = "SageMaker Processing Job State Change"
# The control plane's rule on Model Monitor executions (sam/template.yaml, MonitorSignalsFunction).
PROCESSING_PATTERN: dict[str, Any] = {
    "source": ["aws.sagemaker"],
    "detail-type": [PROCESSING_DETAIL_TYPE],
    "detail": {"ProcessingJobStatus": ["Completed"], "ExitMessage": [{"prefix": "CompletedWithViolations"}]},
}
# The monitor types (those the catalog gives a monitor kind).
MONITOR_TYPES = frozenset(entry.name for entry in REGISTRY if entry.monitor_kind is not None)
TRAINING_TYPES = ("model_training_builtin", "model_tuner_builtin", "model_autopilot_training")
RECORD = package_history.RETRAINING
MAX_RECORDED = 50
# Conditional writes of one record before giving up (each loss means another writer got in).
WRITE_ATTEMPTS = 5
# Entries that count as a restart: claimed, and provisioned.
STARTS = ("starting", "started")
# A claim older than this was left by a process that ended (a Lambda runs at most 15 minutes):
# a delivery of the same signal takes it over; a younger one is another delivery at work.
STALE_CLAIM = datetime.timedelta(minutes=15)
STAGE = "drift retraining"
DAY = datetime.timedelta(days=1)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _key(stack: str) -> str:
    return f"{bundle_prefix(stack)}{RECORD}"


def _read(bucket: str, stack: str) -> tuple[dict[str, Any], str | None]:
    """The record and its ETag (None: no record yet)."""
    try:
        got = aws.client("s3").get_object(Bucket=bucket, Key=_key(stack))
    except Exception as exc:
        if aws.error_code(exc) in ("NoSuchKey", "404", "AccessDenied"):
            return {}, None
        raise UpstreamError(f"could not read the retraining record of {stack}: {exc}") from exc
    try:
        record = json.loads(got["Body"].read())
    except ValueError:
        record = None
    return (record if isinstance(record, dict) else {}), got.get("ETag")


def read_record(bucket: str, stack: str) -> dict[str, Any]:
    return _read(bucket, stack)[0]


def _update(bucket: str, stack: str, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None]) -> None:
    """Apply ``change`` to the record's entries and write them back only if no one else wrote in
    between; read again and retry otherwise. ``change`` answers None to write nothing."""
    for _ in range(WRITE_ATTEMPTS):
        record, etag = _read(bucket, stack)
        entries = change(list(record.get("entries", [])))
        if entries is None:
            return
        record["entries"] = entries[-MAX_RECORDED:]
        body = json.dumps(record, indent=2).encode()
        try:
            if aws.put_if_unchanged(bucket, _key(stack), body, etag, ContentType="application/json"):
                return
        except Exception as exc:
            raise UpstreamError(f"could not write the retraining record of {stack}: {exc}") from exc
    raise UpstreamError(f"the retraining record of {stack} kept changing under other writers; try the signal again")


def _note(bucket: str, stack: str, entry: dict[str, Any]) -> None:
    _update(bucket, stack, lambda entries: [*entries, entry])


# --- signals ---------------------------------------------------------------------------------


def _schedule_of(detail: dict[str, Any]) -> str:
    """The monitoring schedule a processing job ran for, when the event's detail does not say."""
    name = detail.get("ProcessingJobName")
    if not name:
        return ""
    try:
        described = aws.client("sagemaker").describe_processing_job(ProcessingJobName=name)
    except Exception as exc:
        raise UpstreamError(f"could not describe processing job {name}: {exc}") from exc
    return str(described.get("MonitoringScheduleArn") or "")


def signals(event: dict[str, Any]) -> list[dict[str, str]]:
    """The violations an event reports: each with its id (the report or execution), and how the
    monitor is found (``endpoint`` + ``monitor_type``, or ``schedule``)."""
    found = []
    for record in event.get("Records") or []:
        sns = record.get("Sns") or {}
        attributes = {k: (v or {}).get("Value", "") for k, v in (sns.get("MessageAttributes") or {}).items()}
        if attributes.get(SIGNAL_ATTRIBUTE) != VIOLATIONS:
            continue
        found.append(
            {
                "id": attributes.get("report") or sns.get("MessageId", ""),
                "report": attributes.get("report", ""),
                "endpoint": attributes.get("endpoint", ""),
                "monitor_type": attributes.get("monitor-type", ""),
                "at": sns.get("Timestamp", ""),
            }
        )
    if event.get("detail-type") == PROCESSING_DETAIL_TYPE:
        detail = event.get("detail") or {}
        if str(detail.get("ExitMessage", "")).startswith("CompletedWithViolations"):
            schedule = str(detail.get("MonitoringScheduleArn") or _schedule_of(detail)).rsplit("/", 1)[-1]
            output = ((detail.get("ProcessingOutputConfig") or {}).get("Outputs") or [{}])[0]
            report = ((output.get("S3Output") or {}).get("S3Uri")) or ""
            found.append(
                {
                    "id": str(detail.get("ProcessingJobArn") or detail.get("ProcessingJobName") or ""),
                    "report": report,
                    "schedule": schedule,
                    "at": str(event.get("time", "")),
                }
            )
    return [s for s in found if s["id"]]


def _monitor_matches(signal: dict[str, str], request: dict[str, Any], bundle: bytes) -> bool:
    if signal.get("schedule"):
        params = packaging.read_params(bundle)
        return any(p.get("ScheduleName", "").lower() == signal["schedule"].lower() for p in params.values())
    endpoints = request.get("endpoint_name")
    names = set(endpoints.values()) if isinstance(endpoints, dict) else {endpoints}
    kind = {"DataQuality": "byom_data_quality_monitor", "ModelQuality": "byom_model_quality_monitor"}
    return signal.get("endpoint") in names and kind.get(signal.get("monitor_type", "")) == request.get("pipeline_type")


def monitors(signal: dict[str, str], settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    """(blueprint stack, request) of each monitor with ``retraining`` that the signal is about."""
    found = []
    for stack in inventory.pipeline_stacks(settings):
        if tags_of(stack).get(TAG_TYPE) not in MONITOR_TYPES:
            continue
        key = stack_parameters(stack).get("TemplateZipFileName")
        bundle = bundles.Named(settings.assets_bucket, key).read().body if key else None
        request = packaging.read_request(bundle) if bundle else None
        if not request or not request.get("retraining") or bundle is None:
            continue
        if _monitor_matches(signal, request, bundle):
            found.append((stack_parameters(stack).get("StackName", ""), request))
    return found


# --- the restart -----------------------------------------------------------------------------


def _refusal(entries: list[dict[str, Any]], retraining: dict[str, Any], now: datetime.datetime) -> str | None:
    started = [datetime.datetime.fromisoformat(e["at"]) for e in entries if e.get("outcome") in STARTS]
    cooldown = datetime.timedelta(minutes=int(retraining.get("cooldown_minutes", 360)))
    if started and now - max(started) < cooldown:
        until = (max(started) + cooldown).isoformat(timespec="seconds")
        return (
            f"cooling down: the previous restart was at {max(started).isoformat(timespec='seconds')}; next from {until}"
        )
    cap = int(retraining.get("max_per_day", 2))
    if len([t for t in started if now - t < DAY]) >= cap:
        return f"daily cap reached: {cap} restart(s) in the last 24 hours"
    return None


def _run_again(stack: dict[str, Any], run_id: str, settings: Settings) -> dict[str, Any]:
    """Provision the training pipeline's own request with ``run_id``: a new bundle, a new run."""
    named = bundles.Named(settings.assets_bucket, stack_parameters(stack).get("TemplateZipFileName"))
    body = named.read().body
    request = packaging.read_request(body) if body else None
    if not request:
        raise UpstreamError(f"the training pipeline {stack['StackName']} holds no request to run again")
    result = provisioning.apply(provisioning.plan({**request, "run_id": run_id}, settings), settings)
    # Unchanged: this run_id's bundle is deployed already (the same signal, delivered again).
    outcome = "unchanged" if result["action"] == "unchanged" else "started"
    return {"outcome": outcome, "pipeline_id": result["pipeline_id"], "stack_action": result["action"]}


def _claim(
    bucket: str, training: str, entry: dict[str, Any], retraining: dict[str, Any], now: datetime.datetime
) -> dict[str, Any]:
    """Decide in the training pipeline's record, written only if it is still as read: this
    signal's run already started, or another delivery's young claim is at work (``unchanged``);
    a stale claim of it is taken over, or a new one made (``starting``); or it is refused
    (``skipped``, noted)."""
    decided: dict[str, Any] = {}

    def change(entries: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        decided.clear()
        mine = [e for e in entries if e.get("run_id") == entry["run_id"]]
        if any(e.get("outcome") == "started" for e in mine):
            decided["outcome"] = "unchanged"  # this signal already started its run
            return None
        claims = [e for e in mine if e.get("outcome") == "starting"]
        if claims and now - datetime.datetime.fromisoformat(claims[-1]["at"]) < STALE_CLAIM:
            decided["outcome"] = "unchanged"  # another delivery of this signal is starting its run
            return None
        if claims:  # an earlier try's claim that never finished (its process ended): take it over
            decided["outcome"] = "starting"
            return [e for e in entries if e not in claims] + [{**entry, **decided}]
        refused = _refusal(entries, retraining, now)
        decided.update({"outcome": "skipped", "reason": refused} if refused else {"outcome": "starting"})
        return [*entries, {**entry, **decided}]

    _update(bucket, training, change)
    return decided


def _provision(stack: dict[str, Any], run_id: str, settings: Settings) -> dict[str, Any]:
    try:
        return _run_again(stack, run_id, settings)
    except OrchestratorError as exc:
        return {"outcome": "failed", "reason": exc.message}


def _finish(bucket: str, training: str, entry: dict[str, Any], result: dict[str, Any]) -> None:
    """Replace the claim with what provisioning did; a failed one withdraws it (no run started)."""
    entry.update(result)
    final = {**entry, "outcome": "started"} if result["outcome"] != "failed" else None

    def change(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Only this invocation's own claim: another delivery may have taken over a stale one.
        kept = [e for e in entries if not (e.get("claim") == entry["claim"] and e.get("outcome") == "starting")]
        return [*kept, final] if final else kept

    _update(bucket, training, change)


def restart(monitor: str, request: dict[str, Any], signal: dict[str, str], settings: Settings) -> dict[str, Any]:
    """Start the monitor's training pipeline again for ``signal``; the outcome as recorded."""
    retraining = request["retraining"]
    bucket, now = settings.assets_bucket, _now()
    run_id = f"drift-{digest(signal['id'], 12)}"
    entry: dict[str, Any] = {
        "at": now.isoformat(timespec="seconds"),
        "signal": signal["id"],
        "report": signal.get("report", ""),
        "monitor": monitor,
        "run_id": run_id,
        "claim": uuid.uuid4().hex,  # this invocation's: its claim is the one it finishes or withdraws
    }
    training = ""
    try:
        stack = status.resolve(retraining["pipeline"], settings)
        kind = tags_of(stack).get(TAG_TYPE)
        if kind not in TRAINING_TYPES:
            raise UpstreamError(
                f"retraining.pipeline {retraining['pipeline']} is a {kind} pipeline, not a training one"
            )
        training = stack_parameters(stack).get("StackName", "")
        entry["training_pipeline"] = stack["StackName"]
        entry.update(_claim(bucket, training, entry, retraining, now))
        if entry["outcome"] == "starting":
            result = _provision(stack, run_id, settings)
            try:
                _finish(bucket, training, entry, result)
            except OrchestratorError as exc:
                # The run is provisioned (or not) whatever the record says; its claim stays and a
                # later delivery of the signal finds the run and records it.
                entry.update(result, record_note=f"the training pipeline's record was not updated: {exc.message}")
    except OrchestratorError as exc:
        entry.update(outcome="failed", reason=exc.message)
    _note(bucket, monitor, entry)
    text = {
        "started": f"violations in {signal.get('report') or signal['id']}: restarted {entry.get('training_pipeline')} "
        f"as run_id {run_id}",
        "skipped": f"violations found; {entry.get('training_pipeline')} not restarted ({entry.get('reason')})",
        "failed": f"violations found; could not restart the training pipeline: {entry.get('reason')}",
    }.get(entry["outcome"])
    if text:
        notices.publish(settings.notifications_topic_arn, monitor, STAGE, text, link=signal.get("report", ""))
    return entry


def handle(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    outcomes = []
    for signal in signals(event):
        for monitor, request in monitors(signal, settings):
            outcomes.append(restart(monitor, request, signal, settings))
    log.info("monitor signal: %s", outcomes)
    return {"restarts": outcomes}
