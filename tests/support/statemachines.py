"""Render a job blueprint for a request and run its state machine against stubbed clients.

``render`` gives the parameters the orchestrator would pass the blueprint, ``definition`` the
state machine those parameters produce, and ``Session`` hands the interpreter botocore clients
wrapped in Stubbers, so a test states each AWS answer the machine gets.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.stub import ANY, Stubber

from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from mlops_cfn import Resolver
from tests.support.events import load_event
from tests.support.settings import SETTINGS
from tests.support.templates import template

TRAINING = "model_training_builtin"


def render(body: dict[str, Any], kind: str = TRAINING) -> dict[str, str]:
    """The blueprint parameters the orchestrator renders for ``body`` (single account)."""
    return REGISTRY.get(kind).render(parse(REGISTRY.get(kind).model, body, SETTINGS), SETTINGS, None)


def changed(key: Any, value: Any, kind: str = TRAINING) -> dict[str, Any]:
    """The valid body of ``kind`` with one field (or a tuple of fields together) changed."""
    body = load_event(f"valid/{kind}")
    if isinstance(key, tuple):
        body.update(dict(zip(key, value, strict=True)))
    elif isinstance(value, tuple):
        body.update(dict(zip(value[0::2], value[1::2], strict=True)))
    else:
        body[key] = value
    return body


def definition(params: dict[str, str], blueprint: str = "model_training_pipeline.yaml") -> dict[str, Any]:
    """The state machine ``blueprint`` defines under these parameters."""
    text, _ = template(blueprint)["Resources"]["RunStateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"]
    names = {
        **params,
        "AWS::Partition": "aws",
        "AWS::StackName": "mlops-pipeline-churn-training",
        "TrainingRoleArn": "arn:aws:iam::111122223333:role/train",
    }
    return json.loads(Resolver(names=names).resolve({"Fn::Sub": text}))


class Session:
    """A boto3-like session that hands out the given (stubbed) clients."""

    def __init__(self, clients: dict[str, Any]) -> None:
        self.clients = clients

    def client(self, name: str, region_name: str = "us-east-1") -> Any:
        return self.clients[name]


def no_job_yet(stub: Stubber, describe: str, name_field: str, job: str) -> None:
    """The state machine first looks for a job of that name: there is none yet."""
    stub.add_client_error(describe, "ValidationException", "Could not find job", 400, expected_params={name_field: job})


def notice(topic: Stubber, subject: str) -> None:
    """The state machine tells the topic, under this subject."""
    topic.add_response("publish", {"MessageId": "1"}, {"TopicArn": ANY, "Subject": subject, "Message": ANY})
