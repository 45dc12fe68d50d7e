"""The `mlops` CLI over HTTP against the app and the emulator, where the API answers 202.

A stack delete outlasts a request, so `mlops delete` and `mlops provision` get 202 while
CloudFormation works. The emulator deletes at once, so the orchestrator's DeleteStack is made
to leave the stack DELETE_IN_PROGRESS, and the CLI's pause between two requests is where
CloudFormation finishes (no real sleeping)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.support.events import load_event
from tests.support.plane import Plane, post

REALTIME = "valid/byom_realtime_builtin"
PIPELINE_STACK = "mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin-codepipeline"
DEPLOYED = "mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin"


@pytest.fixture
def api_url(plane: Plane) -> Iterator[str]:
    """The app over HTTP (Chalice's request handler; its local server would subclass the app for good)."""
    import functools
    from http.server import ThreadingHTTPServer

    from chalice.config import Config
    from chalice.local import ChaliceRequestHandler

    from app import app

    config = Config.create(chalice_app=app, app_name=app.app_name, project_dir="orchestrator_api")
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(ChaliceRequestHandler, app_object=app, config=config)
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Clock:
    """Stands in for the CLI's time: each pause advances it and lets CloudFormation finish once."""

    def __init__(self, finish: Any) -> None:
        import time

        self.now, self.pauses, self._finish, self._strftime = 0.0, 0, finish, time.strftime

    def monotonic(self) -> float:
        return self.now

    def strftime(self, fmt: str) -> str:
        return str(self._strftime(fmt))

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 1.0)
        self.pauses += 1
        if self.pauses == 1:
            self._finish()


def slow_delete(plane: Plane, stack: str) -> Any:
    """The orchestrator's DeleteStack of ``stack`` leaves it DELETE_IN_PROGRESS; others go through."""
    from chalicelib import aws
    from chalicelib.naming import name_of_stack_id

    cfn = aws.client("cloudformation")
    real = cfn.delete_stack

    def delete_stack(**kwargs: Any) -> Any:
        if name_of_stack_id(kwargs["StackName"]) != stack:
            return real(**kwargs)
        plane.set_stack_status(stack, "DELETE_IN_PROGRESS")
        return {}

    cfn.delete_stack = delete_stack
    return cfn


def mlops(api_url: str, *args: str) -> Any:
    from mlops_cli.main import cli

    return CliRunner().invoke(cli, ["--api-url", api_url, *args], catch_exceptions=False)


def test_delete_exits_4_while_stacks_remain_and_wait_repeats_it_until_done(
    api_url: str, plane: Plane, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalice.test import Client

    from app import app
    from mlops_cli import commands

    with Client(app) as api:
        post(api, "/provisionpipeline", load_event(REALTIME))
    plane.client("cloudformation").create_stack(StackName=DEPLOYED, TemplateBody=json.dumps(
        {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}))  # fmt: skip  # what the pipeline deployed
    cfn = slow_delete(plane, DEPLOYED)
    try:
        first = mlops(api_url, "delete", PIPELINE_STACK, "--json")
        assert first.exit_code == 4, first.output
        assert f"still being removed: {DEPLOYED} (deleting)" in first.output
        assert json.loads(first.stdout)["done"] is False  # one JSON document on stdout

        clock = Clock(lambda: plane.client("cloudformation").delete_stack(StackName=DEPLOYED))
        monkeypatch.setattr(commands, "time", clock)
        waited = mlops(api_url, "delete", PIPELINE_STACK, "--wait", "--interval", "0", "--json")
    finally:
        del cfn.delete_stack
    assert waited.exit_code == 0, waited.output
    assert clock.pauses == 1
    assert json.loads(waited.stdout)["done"] is True
    assert plane.stacks() == []


def test_provision_of_a_failed_creation_exits_4_and_wait_resubmits_until_created(
    api_url: str, plane: Plane, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from mlops_cli import commands

    body = tmp_path / "body.json"
    body.write_text(json.dumps(load_event(REALTIME)))
    assert mlops(api_url, "provision", str(body)).exit_code == 0
    plane.set_stack_status(PIPELINE_STACK, "ROLLBACK_COMPLETE")
    cfn = slow_delete(plane, PIPELINE_STACK)
    try:
        accepted = mlops(api_url, "provision", str(body))
        assert accepted.exit_code == 4, accepted.output
        assert f"{PIPELINE_STACK} is DELETE_IN_PROGRESS" in accepted.output

        clock = Clock(lambda: plane.client("cloudformation").delete_stack(StackName=PIPELINE_STACK))
        monkeypatch.setattr(commands, "time", clock)
        waited = mlops(api_url, "provision", str(body), "--wait", "--interval", "0", "--timeout", "3")
    finally:
        del cfn.delete_stack
    # Resubmitted (a 409 while the stack was still deleting) until created; then it follows the run,
    # which the emulator never starts, until --timeout.
    assert "  action: created" in waited.output, waited.output
    assert "still running after 3 s" in waited.output
    assert [s["StackStatus"] for s in plane.stacks()] == ["CREATE_COMPLETE"]


def test_list_has_headers_and_says_when_there_are_no_pipelines(api_url: str, plane: Plane) -> None:
    from chalice.test import Client

    from app import app

    empty = mlops(api_url, "list")
    assert empty.exit_code == 0 and empty.stdout == "no pipelines yet: mlops provision BODY.json creates one\n"
    assert json.loads(mlops(api_url, "list", "--json").stdout) == {"pipelines": []}
    with Client(app) as api:
        post(api, "/provisionpipeline", load_event(REALTIME))
    listed = mlops(api_url, "list")
    header, _, row = listed.stdout.splitlines()[:3]
    assert header.split() == ["name", "type", "stack", "status", "last", "run", "updated"]
    # The emulator has no CodePipeline: the stack is created, its pipeline has not run.
    assert row.split()[:5] == [DEPLOYED, "byom_realtime_builtin", "CREATE_COMPLETE", "not", "started"]


def test_status_shows_the_endpoint_and_what_the_emulator_leaves_out(api_url: str, plane: Plane) -> None:
    from chalice.test import Client

    from app import app
    from mlops_local.executor import Store, execute

    with Client(app) as api:
        _, body = post(api, "/provisionpipeline", load_event("valid/realtime/shadow"))
    assert execute(plane.session, body["stack_name"], Store()).status == "Succeeded"
    shown = mlops(api_url, "status", body["stack_name"])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    name = json.loads(mlops(api_url, "status", body["stack_name"], "--json").stdout)["endpoint"]["name"]
    at = lines.index(next(line for line in lines if line.startswith(f"endpoint: {name} InService (config ")))
    assert lines[at + 1] == "  variant AllTraffic weight 1, 2/2 instances"
    assert lines[at + 2] == "  updates shift traffic: blue/green all at once (SageMaker's default), no alarm rollback"
    assert lines[at + 3].startswith("  shadow requested: shadow variant Candidate: model ")
    assert lines[at + 3].endswith(" on 1 x ml.m5.large, sent a copy of 25% of the requests (its answers are not "
                                  "returned to callers)")  # fmt: skip
    # The emulator's CloudFormation drops ShadowProductionVariants: said, not hidden.
    assert lines[at + 4 :] == [
        "  shadow deployed: none",
        "  note: the endpoint has no shadow variant Candidate: DescribeEndpoint lists none, so no request is "
        "copied to it",
    ]


def test_a_dry_run_shows_what_it_replaces_and_what_it_does_to_the_live_endpoint(
    api_url: str, plane: Plane, tmp_path: Path
) -> None:
    from chalice.test import Client

    from app import app

    event = load_event("valid/realtime/autoscaling")
    with Client(app) as api:
        post(api, "/provisionpipeline", event)
    body = tmp_path / "body.json"
    body.write_text(json.dumps({**event, "inference_instance": "ml.c5.xlarge"}))
    shown = mlops(api_url, "provision", str(body), "--dry-run")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert "  action: update" in lines
    assert "  replaces: the endpoint configuration (the endpoint is updated in place)" in lines
    assert any(
        line.startswith("  all EndpointConfigName: ")
        and line.endswith("(replaces the endpoint configuration (the endpoint is updated in place), because of "
                          "inference_instance)")
        for line in lines
    ), lines  # fmt: skip
    updates = [line for line in lines if line.startswith("  endpoint update: ")]
    assert updates[0].startswith("  endpoint update: replaces the endpoint config; rolling batches of 25% of ")
    assert updates[1].startswith(
        "  endpoint update: changes the instance type of a scaled variant (ml.m5.large -> ml.c5.xlarge): the "
        "variant is deregistered from autoscaling before the endpoint update"
    )


def test_status_shows_autoscaling_asked_for_and_that_no_target_is_registered(api_url: str, plane: Plane) -> None:
    from chalice.test import Client

    from app import app
    from mlops_local.executor import Store, execute

    with Client(app) as api:
        _, body = post(api, "/provisionpipeline", load_event("valid/realtime/autoscaling"))
    assert execute(plane.session, body["stack_name"], Store()).status == "Succeeded"
    lines = mlops(api_url, "status", body["stack_name"]).stdout.splitlines()
    at = lines.index("  autoscaling (instances): 2-8 requested, none registered")
    # The emulator registers no scalable target: the next line says the variant does not scale.
    assert lines[at + 1].startswith("  note: no scalable target is registered for endpoint/")
    assert lines[at + 1].endswith("/variant/AllTraffic: the variant does not scale")
    assert "  updates shift traffic: rolling batches of 25% of the instances, baking 300 s each; rolls back on 2 " \
        "alarms (model 5xx, p99 model latency > 1000 ms)" in lines  # fmt: skip
