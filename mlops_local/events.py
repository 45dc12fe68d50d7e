"""Local mode only: the model registry's events and monitors' violations, delivered as AWS delivers them.

In AWS, SageMaker puts a "SageMaker Model Package State Change" event on the default event bus
whenever a package is created or its approval changes, and the control plane's rule invokes
``app.on_model_package_event``. The emulator sends no such events and cannot invoke Lambda, so
local mode:
- watches the emulator's model registry and puts the event SageMaker would on the emulator's
  default bus (its detail is the package's description, as SageMaker's is), once per change;
- has the rule the control plane's template declares (the same pattern) deliver to a queue;
- hands each queued event to the same handler the Lambda runs, with the pipelines it may touch
  taking their turns (see :mod:`.turns`), retrying a failed event twice and then keeping it in
  a dead-letter queue, as the function's EventInvokeConfig does.

An event put on the bus by anyone (``aws events put-events``, a replay) reaches the handler the
same way.

Monitors' violations reach ``app.on_monitor_signal`` as in AWS too: the notifications topic's
messages that carry ``mlops-signal`` (the control plane's filter policy) go to a queue subscribed
to the topic, and Model Monitor executions' events through the control plane's rule; each is
handed over in the shape Lambda receives (an SNS record, or the EventBridge event).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from typing import Any

log = logging.getLogger("mlops.local")
QUEUE = "mlops-model-package-events"
DEAD_LETTERS = "mlops-model-package-events-failed"
RULE = "mlops-model-package-events"
SIGNALS_QUEUE = "mlops-monitor-signals"
SIGNALS_DEAD_LETTERS = "mlops-monitor-signals-failed"
SIGNALS_RULE = "mlops-monitor-executions"
ATTEMPTS = 3  # the first try and the two retries the control plane's template gives
POLL_SECONDS = 0.5
# Longer than a handling takes (it may wait for a pipeline's turn), so a message in hand is not
# delivered again meanwhile; a failed one comes back after it.
VISIBILITY = "30"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class ModelEvents:
    """The registry watcher and the event delivery of one local-mode process."""

    def __init__(self, local: Any) -> None:
        self.local = local
        self.seen: dict[str, str] = {}  # package ARN -> approval status last announced

    def start(self) -> list[threading.Thread]:
        from chalicelib.application import on_model_package_event, on_monitor_signal
        from chalicelib.model_events import EVENT_PATTERN
        from chalicelib.retraining import PROCESSING_PATTERN, SIGNAL_ATTRIBUTE, VIOLATIONS

        session = self.local.session
        self.queue_url, arn = _queue(session, QUEUE, DEAD_LETTERS)
        _rule(session, RULE, EVENT_PATTERN, arn)
        signals_url, signals_arn = _queue(session, SIGNALS_QUEUE, SIGNALS_DEAD_LETTERS)
        _rule(session, SIGNALS_RULE, PROCESSING_PATTERN, signals_arn)
        session.client("sns").subscribe(
            TopicArn=self.local.plane.topic_arn,
            Protocol="sqs",
            Endpoint=signals_arn,
            Attributes={"FilterPolicy": json.dumps({SIGNAL_ATTRIBUTE: [VIOLATIONS]})},
        )
        loops: list[tuple[Any, tuple[Any, ...], str]] = [
            (self._watch_loop, (), "model-registry"),
            (self._deliver_loop, (self.queue_url, on_model_package_event, self._pipelines), "model-events"),
            (self._deliver_loop, (signals_url, on_monitor_signal, _training_pipelines), "monitor-signals"),
        ]
        threads = []
        for target, args, name in loops:
            thread = threading.Thread(target=target, args=args, name=name, daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    # -- SageMaker's side ---------------------------------------------------------------

    def announce_changes(self, sagemaker: Any, events: Any) -> int:
        """Put an event for each package created or whose approval changed since the last look."""
        sent = 0
        for page in sagemaker.get_paginator("list_model_package_groups").paginate():
            for group in page.get("ModelPackageGroupSummaryList", []):
                name = group["ModelPackageGroupName"]
                for listed in sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=name):
                    for summary in listed.get("ModelPackageSummaryList", []):
                        arn, status = summary["ModelPackageArn"], summary.get("ModelApprovalStatus", "")
                        if self.seen.get(arn) == status:
                            continue
                        package = _plain(sagemaker.describe_model_package(ModelPackageName=arn))
                        events.put_events(
                            Entries=[
                                {
                                    "Source": "aws.sagemaker",
                                    "DetailType": "SageMaker Model Package State Change",
                                    "Resources": [arn],
                                    "Detail": json.dumps(package),
                                }
                            ]
                        )
                        self.seen[arn] = status
                        sent += 1
        return sent

    def _watch_loop(self) -> None:
        session = self.local.identities.admin()  # this thread's own
        sagemaker, events = session.client("sagemaker"), session.client("events")
        while not self.local.stopping.wait(POLL_SECONDS):
            try:
                self.announce_changes(sagemaker, events)
            except Exception as exc:
                if not self.local.stopping.is_set():
                    log.warning("could not read the model registry: %s", exc)

    # -- the rule's target ----------------------------------------------------------------

    def _pipelines(self, event: dict[str, Any]) -> list[str]:
        """The pipeline stacks the event may update: they take their turns while it is handled."""
        from chalicelib import model_events, registry
        from chalicelib.settings import get_settings

        detail = event.get("detail") or {}
        group = detail.get("ModelPackageGroupName") or registry.group_of(str(detail.get("ModelPackageArn", "")))
        if not group:
            return []
        return [f.pipeline_stack for f in model_events.followers(str(group), get_settings())]

    def _deliver_loop(self, queue_url: str, handler: Any, pipelines: Any) -> None:
        """Hand each queued event to ``handler`` (as Lambda would), the pipelines it may update
        (``pipelines(event)``) taking their turns."""
        sqs = self.local.identities.admin().client("sqs")  # this thread's own
        while not self.local.stopping.is_set():
            try:
                messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                    "Messages", []
                )
            except Exception as exc:
                if not self.local.stopping.is_set():
                    log.warning("could not read model package events: %s", exc)
                continue
            for message in messages:
                try:
                    event = as_lambda_event(json.loads(message["Body"]))
                    with self.local.turns.turn(pipelines(event)):
                        handler(event, None)
                except Exception as exc:  # the message comes back after its visibility timeout
                    log.exception("model package event failed: %s", exc)
                    continue
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _queue(session: Any, name: str, dead_letters: str) -> tuple[str, str]:
    """A queue (URL, ARN) whose messages go to ``dead_letters`` after three failed attempts."""
    sqs = session.client("sqs")
    dead = sqs.create_queue(QueueName=dead_letters)["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(ATTEMPTS)})
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": VISIBILITY, "RedrivePolicy": redrive})[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)


def _rule(session: Any, name: str, pattern: dict[str, Any], queue_arn: str) -> None:
    events = session.client("events")
    events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule=name, Targets=[{"Id": "orchestrator", "Arn": queue_arn}])


def as_lambda_event(body: dict[str, Any]) -> dict[str, Any]:
    """The event Lambda hands a function: an SNS notification (queued in its envelope) becomes an
    SNS record; an EventBridge event stays as it is."""
    if body.get("Type") == "Notification":
        return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": body}]}
    return body


def _training_pipelines(event: dict[str, Any]) -> list[str]:
    """The training pipelines a monitor signal may restart: they take their turns meanwhile."""
    from chalicelib import retraining
    from chalicelib.naming import name_of_stack_id, pipeline_stack_name
    from chalicelib.settings import get_settings

    named = []
    for signal in retraining.signals(event):
        for _, request in retraining.monitors(signal, get_settings()):
            name = name_of_stack_id(str(request["retraining"]["pipeline"]))
            named.append(name if name.endswith("-codepipeline") else pipeline_stack_name(name))
    return named
