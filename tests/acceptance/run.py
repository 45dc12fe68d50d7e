"""One acceptance run: what it uploads and provisions, waiting for it, deleting it, and its costs.

Everything a run makes carries its token (``acc-<6 hex>``): pipelines are named after it and
objects live under ``acceptance/<token>/`` in the assets bucket, so teardown can find what a
failed step left even when no answer named it.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from mlops_cli.client import ClientError

from .target import Target, until

FINISHED_BAD = ("Failed", "Stopped", "Cancelled")


@dataclass
class Pipeline:
    """A pipeline this run provisioned (or found under its token)."""

    kind: str  # "endpoint", "training", "monitor" or "found"
    stack_name: str  # the pipeline stack: the API's pipeline id in paths
    deployed_stack: str  # the blueprint stack it deploys: what costs money
    body: dict[str, Any] = field(default_factory=dict)
    provisioned_at: float = field(default_factory=time.time)
    doc: dict[str, Any] | None = None  # the latest status document
    gone_at: float | None = None
    last_answer: Any = None


def stage_states(doc: dict[str, Any]) -> dict[str, str | None]:
    return {s["name"]: s["status"] for s in ((doc.get("pipeline") or {}).get("stages") or [])}


def finished(doc: dict[str, Any]) -> bool:
    """Every stage succeeded, one failed, or the pipeline stack itself failed."""
    states = list(stage_states(doc).values())
    stack_failed = str((doc.get("pipeline_stack") or {}).get("status", "")).endswith(("FAILED", "ROLLBACK_COMPLETE"))
    succeeded = bool(states) and all(s == "Succeeded" for s in states)
    return stack_failed or succeeded or any(s in FINISHED_BAD for s in states)


class Run:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.token = f"acc-{secrets.token_hex(3)}"
        self.prefix = f"acceptance/{self.token}/"
        self.pipelines: dict[str, Pipeline] = {}
        self.report: list[str] = []
        self.notes: list[str] = []
        self.started = time.time()

    # -- making -------------------------------------------------------------------------

    def upload(self, name: str, body: bytes) -> str:
        """Put ``body`` into the assets bucket under this run's prefix; the object's key."""
        key = self.prefix + name
        self.target.client("s3").put_object(Bucket=self.target.assets_bucket, Key=key, Body=body)
        return key

    def location(self, name: str) -> str:
        """A ``bucket/prefix`` location under this run's prefix, for outputs and captured data."""
        return f"{self.target.assets_bucket}/{self.prefix}{name}"

    def provision(self, kind: str, body: dict[str, Any]) -> Pipeline:
        status, answer = self.target.call("POST", "/provisionpipeline", body)
        assert status in (200, 202) and "stack_name" in answer, f"provisioning the {kind}: {status} {answer}"
        pipeline = Pipeline(kind, answer["stack_name"], answer["blueprint_stack_name"], body)
        self.pipelines[kind] = pipeline
        return pipeline

    # -- watching -----------------------------------------------------------------------

    def poll(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A call made while polling: a dropped connection is one more look, not the end of the wait."""
        try:
            return self.target.call(method, path, body)
        except ClientError as exc:
            return 0, {"message": str(exc)}

    def status(self, pipeline: Pipeline) -> dict[str, Any] | None:
        """The pipeline's status document, or None while the API cannot answer (throttled, 5xx, network)."""
        status, doc = self.poll("POST", "/pipelinestatus", {"pipeline_id": pipeline.stack_name})
        if status in (0, 429) or status >= 500:
            return None
        assert status == 200, f"status of {pipeline.stack_name}: {status} {doc}"
        pipeline.doc = dict(doc)
        return pipeline.doc

    def wait(self, kind: str, timeout: float) -> dict[str, Any]:
        """The pipeline's status document once its run has finished (succeeded or failed)."""
        pipeline = self.pipelines[kind]

        def probe() -> tuple[bool, Any]:
            doc = self.status(pipeline)
            if doc is None:
                return False, "the status route did not answer"
            return finished(doc), doc if finished(doc) else (stage_states(doc), doc.get("latest_failure"))

        what = f"the {kind} pipeline {pipeline.stack_name} to finish"
        return dict(until(what, timeout, self.target.patience.poll, probe))

    # -- deleting -----------------------------------------------------------------------

    def stack_state(self, name: str) -> str | None:
        """The status of stack ``name``, or None when no such stack exists (any more)."""
        try:
            stacks = self.target.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
        except Exception as exc:
            if "does not exist" in str(exc):
                return None
            raise
        return None if stacks[0]["StackStatus"] == "DELETE_COMPLETE" else str(stacks[0]["StackStatus"])

    def stack_gone(self, name: str) -> bool:
        """True once ``name`` is deleted; fails when it is left for good (the API forgot it, or it failed)."""
        state = self.stack_state(name)
        if state is None:
            return True
        if state != "DELETE_IN_PROGRESS":
            raise AssertionError(
                f"stack {name} is {state} though its pipeline is deleted; "
                f"remove it with: aws cloudformation delete-stack --stack-name {name}"
            )
        return False

    def delete(self, pipelines: list[Pipeline]) -> None:
        """Delete each pipeline and wait until it and the stack it deployed are gone.

        A DELETE answered 409 (a monitor still watches the endpoint) or 202 (still removing)
        is sent again on the next look; a pipeline is gone when the API answers 404 for it and
        its deployed stack no longer exists.
        """
        pending = [p for p in pipelines if p.gone_at is None]
        stuck: list[str] = []  # left for good: no use waiting, but the others still go

        def probe() -> tuple[bool, Any]:
            for pipeline in list(pending):
                path = f"/pipelines/{pipeline.stack_name}"
                status, _ = self.poll("GET", path)
                if status != 404:
                    pipeline.last_answer = self.poll("DELETE", path)
                    continue
                try:
                    gone = self.stack_gone(pipeline.deployed_stack)
                except AssertionError as exc:
                    stuck.append(str(exc))
                    pending.remove(pipeline)
                    continue
                if gone:
                    pipeline.gone_at = time.time()
                    pending.remove(pipeline)
                else:
                    pipeline.last_answer = f"the pipeline is gone; its stack {pipeline.deployed_stack} is deleting"
            return not pending, {p.stack_name: p.last_answer for p in pending}

        until("deleting " + ", ".join(p.stack_name for p in pending), self.target.patience.delete,
              self.target.patience.poll, probe)  # fmt: skip
        assert not stuck, "; ".join(stuck)

    def strays(self) -> list[Pipeline]:
        """Pipelines under this run's token that the API lists but no answer named."""
        known = {p.stack_name for p in self.pipelines.values()}
        found, token = [], ""
        while True:
            query = "max_results=100" + (f"&next_token={quote(token)}" if token else "")
            status, page = self.target.call("GET", f"/pipelines?{query}")
            assert status == 200, f"listing pipelines: {status} {page}"
            for item in page["pipelines"]:
                stack = f"{item['name']}-codepipeline"
                if self.token in item["name"] and stack not in known:
                    found.append(Pipeline("found", stack, item["name"]))
            token = page.get("next_token", "")
            if not token:
                return found

    def objects(self) -> list[dict[str, Any]]:
        """Every version and delete marker under this run's prefix."""
        s3 = self.target.client("s3")
        found: list[dict[str, Any]] = []
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=self.target.assets_bucket, Prefix=self.prefix)
        for page in pages:
            found += page.get("Versions", []) + page.get("DeleteMarkers", [])
        return found

    def remove_objects(self) -> None:
        s3 = self.target.client("s3")
        found = self.objects()
        for start in range(0, len(found), 1000):
            batch = [{"Key": o["Key"], "VersionId": o["VersionId"]} for o in found[start : start + 1000]]
            s3.delete_objects(Bucket=self.target.assets_bucket, Delete={"Objects": batch, "Quiet": True})

    def teardown(self) -> None:
        """Delete every pipeline of this run (monitors first), then its objects; write the cost report.

        Runs whatever the tests did. A pipeline still running is given its time to finish first:
        deleting one half-way can leave what it was about to deploy (and its job) behind. What
        teardown cannot remove is named in the report and fails the run.
        """
        for kind, pipeline in self.pipelines.items():
            if pipeline.doc is None or not finished(pipeline.doc):
                with contextlib.suppress(AssertionError):  # past its time: delete it anyway
                    self.wait(kind, getattr(self.target.patience, kind))
        order = ("monitor", "training", "endpoint")
        pipelines = sorted(self.pipelines.values(), key=lambda p: order.index(p.kind) if p.kind in order else -1)
        left: list[str] = []
        try:
            strays = self.strays()
        except (AssertionError, ClientError) as exc:
            strays = []
            self.notes.append(f"could not look for pipelines no answer named: {exc}")
        try:
            self.delete(strays + pipelines)
        except AssertionError as exc:
            left.append(str(exc))
        try:
            self.notes += self.stop_training()
        except Exception as exc:
            left.append(f"the training job, which could not be checked or stopped: {exc}")
        objects: list[dict[str, Any]] = []
        remaining = 0
        where = f"s3://{self.target.assets_bucket}/{self.prefix}"
        try:
            objects = self.objects()
            self.remove_objects()
            remaining = len(self.objects())
        except Exception as exc:
            left.append(f"objects under {where}, which could not be removed: {exc}")
        if remaining:
            left.append(f"{remaining} object versions under {where}")
        self.report = (
            self.costs(objects, remaining)
            + [f"  note: {note}" for note in self.notes]
            + [f"  LEFT BEHIND: {what}" for what in left]
        )
        assert not left, "teardown left resources behind: " + "; ".join(left)

    def training_job(self) -> str | None:
        training = self.pipelines.get("training")
        outputs = ((training.doc or {}).get("deployed_stack") or {}).get("outputs", {}) if training else {}
        return outputs.get("JobName")

    def stop_training(self) -> list[str]:
        """Stop the run's training job if it still runs: deleting its pipeline does not stop it."""
        name = self.training_job()
        if not name:
            return []
        sagemaker = self.target.client("sagemaker")
        if sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] != "InProgress":
            return []
        sagemaker.stop_training_job(TrainingJobName=name)
        return [f"training job {name} was still running after its pipeline was deleted; stopped it"]

    # -- costs --------------------------------------------------------------------------

    def costs(self, objects: list[dict[str, Any]], remaining: int) -> list[str]:
        """What this run was billed for, in the units AWS bills (no prices: they vary by region)."""
        target = self.target
        where = f"AWS {target.session.region_name}" if target.real else "local emulator: nothing is billed"
        minutes = (time.time() - self.started) / 60
        lines = [f"cost drivers of acceptance run {self.token} ({where}; {minutes:.1f} minutes):"]
        endpoint = self.pipelines.get("endpoint")
        if endpoint is not None:
            end = endpoint.gone_at or time.time()
            hours = (end - endpoint.provisioned_at) / 3600
            state = "provisioned to deleted" if endpoint.gone_at else "provisioned to now: NOT DELETED"
            lines.append(
                f"  endpoint {endpoint.body.get('endpoint_name')}: 1 x {endpoint.body.get('inference_instance')}, "
                f"at most {hours:.2f} instance-hours ({state})"
            )
        training, job_name = self.pipelines.get("training"), self.training_job()
        if training is not None and job_name:
            try:
                job = target.client("sagemaker").describe_training_job(TrainingJobName=job_name)
                resources = job["ResourceConfig"]
                lines.append(
                    f"  training job {job['TrainingJobName']}: {resources['InstanceCount']} x "
                    f"{resources['InstanceType']}, {job.get('BillableTimeInSeconds', 0)} billable seconds "
                    f"({job['TrainingJobStatus']})"
                )
            except Exception as exc:
                lines.append(f"  training job {job_name}: not readable ({exc})")
        elif training is not None:
            lines.append(f"  training: no job started ({training.body.get('instance_type')} requested)")
        if "monitor" in self.pipelines:
            lines.append("  serverless monitor: Lambda runs (the baseline, and any hourly check before deletion)")
        size = sum(o.get("Size", 0) for o in objects)
        lines.append(
            f"  S3: {len(objects)} object versions, {size / 1024:.1f} KiB under "
            f"s3://{target.assets_bucket}/{self.prefix} ({remaining} left after cleanup)"
        )
        lines.append(f"  CodePipeline (V2, billed per action-execution minute): {len(self.pipelines)} pipelines")
        return lines
