"""Local mode only: the model registry's events, delivered as SageMaker and EventBridge deliver them.

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
ATTEMPTS = 3  # the first try and the two retries the control plane's template gives
POLL_SECONDS = 0.5


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
        self.queue_url = self._route(self.local.session)
        threads = []
        for target, name in ((self._watch_loop, "model-registry"), (self._deliver_loop, "model-events")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    def _route(self, session: Any) -> str:
        from chalicelib.model_events import EVENT_PATTERN

        sqs = session.client("sqs")
        dead = sqs.create_queue(QueueName=DEAD_LETTERS)["QueueUrl"]
        dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(ATTEMPTS)})
        url = sqs.create_queue(QueueName=QUEUE, Attributes={"VisibilityTimeout": "5", "RedrivePolicy": redrive})
        arn = sqs.get_queue_attributes(QueueUrl=url["QueueUrl"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = session.client("events")
        events.put_rule(Name=RULE, EventPattern=json.dumps(EVENT_PATTERN), State="ENABLED")
        events.put_targets(Rule=RULE, Targets=[{"Id": "orchestrator", "Arn": arn}])
        return str(url["QueueUrl"])

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

    def _deliver_loop(self) -> None:
        from chalicelib.application import on_model_package_event

        sqs = self.local.identities.admin().client("sqs")  # this thread's own
        while not self.local.stopping.is_set():
            try:
                messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                    "Messages", []
                )
            except Exception as exc:
                if not self.local.stopping.is_set():
                    log.warning("could not read model package events: %s", exc)
                continue
            for message in messages:
                try:
                    event = json.loads(message["Body"])
                    with self.local.turns.turn(self._pipelines(event)):
                        on_model_package_event(event, None)
                except Exception as exc:  # the message comes back after its visibility timeout
                    log.exception("model package event failed: %s", exc)
                    continue
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
