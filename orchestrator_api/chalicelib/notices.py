"""Messages to the notifications topic that read well in e-mail, chat and HTTPS subscribers.

One publish carries one readable line per subscriber kind (SNS ``MessageStructure=json``):
- e-mail and SMS get the line and, below it, the link;
- every other protocol (HTTPS, Lambda, SQS, and Amazon Q Developer in chat applications,
  formerly AWS Chatbot, which subscribes over HTTPS) gets a custom notification in the chat
  service's documented form: ``version`` "1.0", ``source`` "custom", ``content`` with a
  ``title`` (the line), a ``description`` (details and the link) and the pipeline as keyword.
The line always names the pipeline and the stage, e.g.
``[mlops] mlops-churn-byomrealtime | model registry: deployed churn v3 (was v2)``.
"""

from __future__ import annotations

import json
import logging

from . import aws

log = logging.getLogger(__name__)
MAX_SUBJECT = 100  # SNS's limit for an e-mail subject


def line(pipeline: str, stage: str, text: str) -> str:
    return f"[mlops] {pipeline} | {stage}: {text}"


def message(pipeline: str, stage: str, text: str, link: str = "", details: str = "") -> dict[str, str]:
    """The per-protocol message (the ``Message`` of a ``MessageStructure=json`` publish)."""
    title = line(pipeline, stage, text)
    description = "\n".join(part for part in (details, link) if part)
    chat = {
        "version": "1.0",
        "source": "custom",
        "content": {
            "textType": "client-markdown",
            "title": title,
            "description": description or title,
            "keywords": [pipeline, stage],
        },
        "metadata": {"summary": title, "eventType": stage, "relatedResources": [link] if link else []},
    }
    plain = "\n".join(part for part in (title, details, link) if part)
    return {"default": json.dumps(chat), "email": plain, "email-json": json.dumps(chat), "sms": title}


def publish(topic_arn: str, pipeline: str, stage: str, text: str, link: str = "", details: str = "") -> bool:
    """Publish to the topic; False (logged) when there is no topic or the publish failed: a
    notice must never undo the work it reports."""
    if not topic_arn:
        return False
    try:
        aws.client("sns").publish(
            TopicArn=topic_arn,
            Subject=line(pipeline, stage, text)[:MAX_SUBJECT],
            Message=json.dumps(message(pipeline, stage, text, link, details)),
            MessageStructure="json",
        )
    except Exception as exc:
        log.warning("could not publish to %s: %s", topic_arn, exc)
        return False
    return True
