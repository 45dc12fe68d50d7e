"""``mlops local``: the orchestrator API on this machine, against an embedded AWS emulator.

One process holds everything, so stopping it leaves nothing behind:
- a moto server on a free port, with the control plane bootstrapped in it;
- the orchestrator's Chalice app served over HTTP (``chalice.local``);
- a poller handing config-bucket notifications (routed S3 -> SQS, since the emulator cannot
  invoke Lambda without Docker) to the same handler the Lambda runs;
- an executor running each pipeline's stages whenever its bundle gets a new version, as
  the pipeline's EventBridge rule does in AWS, with state served on a local CodePipeline
  endpoint so the status route reads it as in AWS.

Each component calls the emulator with its role's credentials (:mod:`.iam`): the
orchestrator as ``OrchestratorFunctionRole`` (from sam/template.yaml), pipeline actions as the
pipeline's role or the action's ``RoleArn`` (the deploy role for CloudFormation actions), state
machines and functions as theirs; the emulator's own plumbing as its admin. A missing action
fails locally as AccessDenied. ``MLOPS_LOCAL_ENFORCE_IAM=0`` turns this off (every identity is
then the admin), to tell a failure IAM causes from one it does not.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
import threading
import time
import uuid
import warnings
from typing import Any

from . import fidelity, samples
from .bootstrap import ACCOUNT, ControlPlane
from .codepipeline_api import CodePipelineEndpoint
from .events import ModelEvents
from .executor import Restarts, Store, execute
from .iam import (
    ADMIN_KEY,
    ADMIN_SECRET,
    ORCHESTRATOR_ROLE,
    Identities,
    control_plane_roles,
    enforcement_wanted,
    orchestrator_role_name,
)
from .turns import PipelineTurns, TakingTurns, pipelines_of_upload

log = logging.getLogger("mlops.local")
QUEUE = "mlops-config-events"
DEAD_LETTERS = "mlops-config-events-failed"  # the control plane's name for its dead-letter queue
ATTEMPTS = 3  # Lambda's first try and the two retries the control plane's template gives
CONFIG_SUFFIX = "mlops-config.json"


def quiet_emulator() -> None:
    """The emulator logs every request and each resource type it skips."""
    for name in ("werkzeug", "moto"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse")


# Longest local mode waits for its threads when it stops.
STOP_SECONDS = 10
# The emulator's stage accounts of ``mlops local --multi-account``.
STAGE_ACCOUNTS = (("dev", "111111111111"), ("staging", "222222222222"), ("prod", "333333333333"))


class LocalMode:
    def __init__(self, port: int = 0, host: str = "127.0.0.1", multi_account: bool = False) -> None:
        self.host, self.port = host, port
        self.plane = ControlPlane(stage_accounts=STAGE_ACCOUNTS if multi_account else ())
        self.store = Store(auto_approve=False)
        self.store.starter = self.start_run
        self.running: dict[str, threading.Lock] = {}
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.restarts = Restarts()  # when CodePipeline would start each pipeline
        # Requests for one pipeline take turns (the emulator's checks are not atomic).
        self.turns = PipelineTurns()
        self.identities = Identities(self.plane.region, tuple(a for _, a in self.plane.stage_accounts))

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> LocalMode:
        import boto3
        from moto.server import ThreadedMotoServer

        quiet_emulator()
        fidelity.apply()  # template names honoured; errors name their resources
        self.moto = ThreadedMotoServer(ip_address=self.host, port=0, verbose=False)
        self.moto.start()
        moto_host, moto_port = self.moto.get_host_and_port()
        self.endpoint_url = f"http://{moto_host}:{moto_port}"
        self.codepipeline = CodePipelineEndpoint(self.store, self.host)
        self.codepipeline.start()
        os.environ.update(
            {
                **self.plane.env(),
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_ENDPOINT_URL_CODEPIPELINE": self.codepipeline.url,
                "AWS_ACCESS_KEY_ID": ADMIN_KEY,
                "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET,
                "AWS_MAX_ATTEMPTS": "2",
            }
        )
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
            os.environ.pop(name, None)
        self.session = boto3.session.Session(region_name=self.plane.region)
        self.identities.create_admins(self.session)
        self.plane.bootstrap(self.session)
        roles = control_plane_roles(self.plane)
        assert roles[ORCHESTRATOR_ROLE][0] == orchestrator_role_name(self.plane)
        self.identities.create_roles(self.session, roles)
        self.queue_url = self._route_config_events()
        samples.seed(self.session, self.plane.region, self.plane.assets_bucket)
        if enforcement_wanted():
            self.identities.enforce()
        self._run_orchestrator_as(f"arn:aws:iam::{ACCOUNT}:role/{orchestrator_role_name(self.plane)}")
        self._serve_api()
        self.threads += ModelEvents(self).start()  # the model registry's approvals (events.py)
        for target, name in ((self._config_loop, "config-events"), (self._pipeline_loop, "pipelines")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.store.stopping.set()
        self.api_server.shutdown()
        self.api_server.server.server_close()
        # One deadline for every thread (all daemons): a loop inside a slow emulator call is
        # left behind rather than holding up the stop once per thread.
        deadline = time.monotonic() + STOP_SECONDS
        for thread in (self.api_thread, *self.threads):
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self.codepipeline.stop()
        self.moto.stop()

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_server.server.server_address[1]}"

    def banner(self) -> str:
        return "\n".join(
            [
                f"API: {self.api_url}",
                f"AWS_ENDPOINT_URL={self.endpoint_url}",
                f"config bucket: {self.plane.config_bucket}",
                f"assets bucket: {self.plane.assets_bucket}",
                f"sample data: s3://{samples.DATA_BUCKET} and the assets bucket hold what the examples name"
                " (model artifacts, baselines, training data, a captured hour)",
                *(
                    [f"stage accounts: {', '.join(f'{s} {a}' for s, a in self.plane.stage_accounts)}"]
                    if self.plane.stage_accounts
                    else []
                ),
                f"admin credentials: AWS_ACCESS_KEY_ID={ADMIN_KEY} AWS_SECRET_ACCESS_KEY={ADMIN_SECRET}",
                "IAM: each component runs as its role (actions checked; resources only for S3)"
                if self.identities.enforcing
                else "IAM: not enforced (MLOPS_LOCAL_ENFORCE_IAM=0)",
                "Stop with Ctrl-C.",
            ]
        )

    # -- pieces -------------------------------------------------------------------------

    def _run_orchestrator_as(self, role_arn: str) -> None:
        """The orchestrator reads its credentials from the environment, as the Lambda runtime
        provides them; everything else in this process uses explicit sessions."""
        credentials = self.identities.role(role_arn, "orchestrator").get_credentials().get_frozen_credentials()
        os.environ["AWS_ACCESS_KEY_ID"] = credentials.access_key
        os.environ["AWS_SECRET_ACCESS_KEY"] = credentials.secret_key
        if credentials.token:
            os.environ["AWS_SESSION_TOKEN"] = credentials.token
        from chalicelib import aws

        aws.reset()

    def _route_config_events(self) -> str:
        sqs = self.session.client("sqs")
        # As in AWS (the config function's two retries, then its dead-letter queue): an event
        # whose handling fails three times goes to the dead-letter queue, not round forever.
        dead = sqs.create_queue(QueueName=DEAD_LETTERS)["QueueUrl"]
        dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(ATTEMPTS)})
        url = sqs.create_queue(QueueName=QUEUE, Attributes={"VisibilityTimeout": "5", "RedrivePolicy": redrive})[
            "QueueUrl"
        ]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.session.client("s3").put_bucket_notification_configuration(
            Bucket=self.plane.config_bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": CONFIG_SUFFIX}]}},
                    }
                ]
            },
        )
        return str(url)

    def _serve_api(self) -> None:
        from chalice.config import Config

        from chalicelib.application import app

        from .http_edge import create_server

        config = Config.create(chalice_app=app, app_name=app.app_name, project_dir=os.getcwd())
        # The app itself becomes Chalice's local subclass (request state per thread); the request
        # handlers (API Gateway's edge behaviour, see http_edge) call it through TakingTurns.
        self.api_server = create_server(
            app,
            TakingTurns(app, self.turns),  # the app's own attributes, taking turns
            config,
            self.host,
            self.port,
        )
        self.api_thread = threading.Thread(target=self.api_server.server.serve_forever, name="api", daemon=True)
        self.api_thread.start()

    def _read_object(self, bucket: str, key: str) -> bytes:
        import boto3

        s3 = boto3.session.Session(region_name=self.plane.region).client("s3")  # this thread's own
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    def _config_loop(self) -> None:

        from chalicelib.application import on_config_upload

        sqs = self.identities.admin().client("sqs")  # this thread's own
        while not self.stopping.is_set():
            try:
                messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                    "Messages", []
                )
            except Exception as exc:
                if not self.stopping.is_set():
                    log.warning("could not read config events: %s", exc)
                continue
            for message in messages:
                try:
                    event = json.loads(message["Body"])
                    with self.turns.turn(pipelines_of_upload(event, self._read_object)):
                        on_config_upload(event, None)
                except Exception as exc:  # the message comes back after its visibility timeout
                    log.exception("config event failed: %s", exc)
                    continue
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _pipeline_loop(self) -> None:

        session = self.identities.admin()  # this thread's own
        cfn = session.client("cloudformation")
        while not self.stopping.wait(0.25):
            try:
                self.run_due_pipelines(cfn)
            except Exception as exc:
                if not self.stopping.is_set():
                    log.exception("pipeline executor failed: %s", exc)

    def run_due_pipelines(self, cfn: Any) -> None:
        """Run each pipeline when CodePipeline would (:class:`~.executor.Restarts`): once its stack
        created it, and after each stack update that changed it."""
        prefix = f"{self.plane.stack_prefix}-"
        for summary in cfn.list_stacks(StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE"])["StackSummaries"]:
            name = summary["StackName"]
            if not (name.startswith(prefix) and name.endswith("-codepipeline")):
                continue
            stack = cfn.describe_stacks(StackName=summary["StackId"])["Stacks"][0]
            if not self.restarts.due(cfn, stack, self.plane.region):
                continue
            # Each run in a thread of its own, so one waiting for approval holds up no other;
            # runs of one pipeline take turns (CodePipeline's QUEUED mode).
            lock = self.running.setdefault(summary["StackId"], threading.Lock())
            thread = threading.Thread(target=self._run, args=(summary["StackId"], lock), daemon=True)
            thread.start()

    def start_run(self, pipeline: str) -> str:
        """StartPipelineExecution: a new run of ``pipeline`` (the stack it deploys names it)."""
        cfn = self.identities.admin().client("cloudformation")
        try:
            stack = cfn.describe_stacks(StackName=f"{pipeline}-codepipeline")["Stacks"][0]
        except Exception as exc:
            raise LookupError(pipeline) from exc
        if stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            raise LookupError(pipeline)
        execution_id = str(uuid.uuid4())
        lock = self.running.setdefault(stack["StackId"], threading.Lock())
        threading.Thread(target=self._run, args=(stack["StackId"], lock, execution_id), daemon=True).start()
        return execution_id

    def _run(self, stack_id: str, lock: threading.Lock, execution_id: str | None = None) -> None:

        with lock:
            if self.stopping.is_set():
                return
            try:
                # A session per run: boto3 sessions must not be shared between threads.
                execute(self.identities.admin(), stack_id, self.store, self.plane.region, self.identities, execution_id)
            except Exception as exc:
                if not self.stopping.is_set():
                    log.exception("pipeline %s failed to run: %s", stack_id, exc)


PORT_IN_USE = 2  # the exit code of a port another process holds (a usage error)


def port_taken(host: str, port: int) -> str | None:
    """Why ``port`` cannot be served on ``host`` (in use, not allowed), or None when it can."""
    import socket

    if port == 0:
        return None
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def serve(port: int, announce: Any = print, multi_account: bool = False, host: str = "127.0.0.1") -> int:
    """Run local mode until SIGINT or SIGTERM; exit 2 at once when the port is taken."""
    import signal

    taken = port_taken(host, port)
    if taken:
        print(f"mlops local: cannot serve on {host}:{port}: {taken} (choose another with --port)", file=sys.stderr)
        return PORT_IN_USE
    try:
        local = LocalMode(port=port, multi_account=multi_account, host=host).start()
    except OSError as exc:  # taken between the check and the bind
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        print(f"mlops local: cannot serve on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return PORT_IN_USE
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    announce(local.banner())
    sys.stdout.flush()
    stop.wait()
    local.stop()
    announce("stopped")
    return 0
