"""Drift-driven retraining: a monitor's violations start its training pipeline again with a new
run_id, once per signal, once per cooldown, at most max_per_day a day."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from tests.support.events import load_event
from tests.support.plane import Plane, post

MONITOR = "valid/model_loop/byom_data_quality_monitor_retraining"
TRAINING = "valid/model_loop/model_training_registers"
TRAINING_STACK = "mlops-pipeline-churn-retrain-modeltraining"
EXECUTION = "model-monitoring-202612011000-abc"
ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"


def violations(report: str, endpoint: str = "churn-endpoint") -> dict[str, Any]:
    """What the orchestrator's topic subscription hands its handler for a check's violations."""
    attributes = {
        "mlops-signal": "monitor-violations",
        "endpoint": endpoint,
        "monitor-type": "DataQuality",
        "report": report,
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {
                    "MessageId": report,
                    "Timestamp": "2026-12-01T10:05:00Z",
                    "Subject": f"Monitor violations on {endpoint}",
                    "Message": "3 violation(s)",
                    "MessageAttributes": {k: {"Type": "String", "Value": v} for k, v in attributes.items()},
                },
            }
        ]
    }


def signal(event: dict[str, Any]) -> list[dict[str, Any]]:
    from app import on_monitor_signal

    return list(on_monitor_signal(event, None)["restarts"])


def run_id_of(plane: Plane) -> str | None:
    from chalicelib.packaging import read_request

    stack = plane.client("cloudformation").describe_stacks(StackName=f"{TRAINING_STACK}-codepipeline")["Stacks"][0]
    key = next(p["ParameterValue"] for p in stack["Parameters"] if p["ParameterKey"] == "TemplateZipFileName")
    request = read_request(plane.client("s3").get_object(Bucket=plane.config.assets_bucket, Key=key)["Body"].read())
    assert request is not None
    return request.get("run_id")


@pytest.fixture
def pipelines(api: Any, plane: Plane) -> None:
    for body in (load_event(TRAINING), load_event(MONITOR)):
        status, answer = post(api, "/provisionpipeline", body)
        assert status == 200, answer


def later(monkeypatch: pytest.MonkeyPatch, hours: float) -> None:
    from chalicelib import retraining

    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=hours)
    monkeypatch.setattr(retraining, "_now", lambda: moment)


def test_violations_restart_the_training_pipeline_and_both_records_link_the_report(
    api: Any, plane: Plane, pipelines: None
) -> None:
    assert run_id_of(plane) is None
    [restart] = signal(violations("s3://my-data-bucket/churn/monitor-output/churn-endpoint/2026/12/01/10/report.json"))
    assert restart["outcome"] == "started" and restart["stack_action"] == "updated"
    assert run_id_of(plane) == restart["run_id"] and restart["run_id"].startswith("drift-")
    for stack in (TRAINING_STACK, "mlops-pipeline-churn-registry-byomdataqualitymonitor"):
        response = api.http.get(f"/pipelines/{stack}")
        [entry] = json.loads(response.body)["retraining"]
        assert entry["report"].endswith("/10/report.json") and entry["run_id"] == restart["run_id"]


def test_the_same_signal_twice_starts_one_run(api: Any, plane: Plane, pipelines: None) -> None:
    event = violations("s3://my-data-bucket/reports/10/report.json")
    assert signal(event)[0]["outcome"] == "started"
    first = run_id_of(plane)
    assert signal(event)[0]["outcome"] == "unchanged"
    assert run_id_of(plane) == first


def test_one_restart_per_cooldown_and_at_most_max_per_day(
    api: Any, plane: Plane, pipelines: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert signal(violations("s3://r/10/report.json"))[0]["outcome"] == "started"
    [cooling] = signal(violations("s3://r/11/report.json"))
    assert cooling["outcome"] == "skipped" and "cooling down" in cooling["reason"]
    later(monkeypatch, 7)
    assert signal(violations("s3://r/17/report.json"))[0]["outcome"] == "started"
    later(monkeypatch, 14)
    [capped] = signal(violations("s3://r/00/report.json"))
    assert capped["outcome"] == "skipped" and "daily cap" in capped["reason"]
    later(monkeypatch, 26)
    assert signal(violations("s3://r/12/report.json"))[0]["outcome"] == "started"


def test_other_endpoints_and_monitors_without_retraining_start_nothing(api: Any, plane: Plane, pipelines: None) -> None:
    assert signal(violations("s3://r/report.json", endpoint="another-endpoint")) == []
    assert signal({"Records": [{"Sns": {"MessageId": "1", "MessageAttributes": {}}}]}) == []
    assert run_id_of(plane) is None


def test_a_retraining_pipeline_that_is_no_training_pipeline_fails_and_says_so(api: Any, plane: Plane) -> None:
    realtime = load_event("valid/byom_realtime_builtin")
    assert post(api, "/provisionpipeline", realtime)[0] == 200
    monitor = load_event(MONITOR)
    monitor["retraining"] = {"pipeline": "mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin"}
    assert post(api, "/provisionpipeline", monitor)[0] == 200
    [failed] = signal(violations("s3://r/report.json"))
    assert failed["outcome"] == "failed" and "not a training one" in failed["reason"]


@pytest.mark.parametrize(
    ("retraining", "field"),
    [
        ({"pipeline": "x", "cooldown_minutes": 1}, "retraining.cooldown_minutes"),
        ({"pipeline": "x", "max_per_day": 0}, "retraining.max_per_day"),
        ({"cooldown_minutes": 60}, "retraining.pipeline"),
        ({"pipeline": "not a name"}, "retraining.pipeline"),
    ],
)
def test_bad_retraining_settings_are_400s_naming_the_field(
    api: Any, plane: Plane, retraining: dict[str, Any], field: str
) -> None:
    status, answer = post(api, "/provisionpipeline", {**load_event(MONITOR), "retraining": retraining})
    assert status == 400, answer
    assert [p["field"] for p in answer["problems"]] == [field]


def execution_ended(schedule: str, job: str = EXECUTION, named: bool = True) -> dict[str, Any]:
    """EventBridge's "SageMaker Processing Job State Change" for a Model Monitor execution with violations."""
    detail: dict[str, Any] = {
        "ProcessingJobName": job,
        "ProcessingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/{job}",
        "ProcessingJobStatus": "Completed",
        "ExitMessage": "CompletedWithViolations: Job completed successfully with 3 violations.",
        "ProcessingOutputConfig": {"Outputs": [{"S3Output": {"S3Uri": "s3://my-data-bucket/churn/monitor-output/x"}}]},
    }
    if named:
        detail["MonitoringScheduleArn"] = f"arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/{schedule}"
    return {"detail-type": "SageMaker Processing Job State Change", "source": "aws.sagemaker", "detail": detail}


def schedule_of(plane: Plane, monitor_stack: str) -> str:
    from chalicelib.packaging import read_params

    stack = plane.client("cloudformation").describe_stacks(StackName=f"{monitor_stack}-codepipeline")["Stacks"][0]
    key = next(p["ParameterValue"] for p in stack["Parameters"] if p["ParameterKey"] == "TemplateZipFileName")
    params = read_params(plane.client("s3").get_object(Bucket=plane.config.assets_bucket, Key=key)["Body"].read())
    return str(params[None]["ScheduleName"])


def test_a_model_monitor_execution_with_violations_restarts_training(api: Any, plane: Plane) -> None:
    monitor = {**load_event(MONITOR), "monitor_engine": "sagemaker"}
    for body in (load_event(TRAINING), monitor):
        assert post(api, "/provisionpipeline", body)[0] == 200
    schedule = schedule_of(plane, "mlops-pipeline-churn-registry-byomdataqualitymonitor")
    [restart] = signal(execution_ended(schedule))
    assert restart["outcome"] == "started" and run_id_of(plane) == restart["run_id"]
    assert restart["report"] == "s3://my-data-bucket/churn/monitor-output/x"
    assert signal(execution_ended("another-schedule", job="model-monitoring-other")) == []
    completed = execution_ended(schedule)
    completed["detail"]["ExitMessage"] = "Completed: Job completed successfully with no violations."
    assert signal(completed) == []


def test_an_execution_event_without_its_schedule_is_looked_up(api: Any, plane: Plane) -> None:
    from botocore.stub import Stubber

    from chalicelib import aws

    monitor = {**load_event(MONITOR), "monitor_engine": "sagemaker"}
    for body in (load_event(TRAINING), monitor):
        assert post(api, "/provisionpipeline", body)[0] == 200
    schedule = schedule_of(plane, "mlops-pipeline-churn-registry-byomdataqualitymonitor")
    sagemaker = aws.client("sagemaker")
    with Stubber(sagemaker) as stub:
        stub.add_response(
            "describe_processing_job",
            {
                "ProcessingJobName": EXECUTION,
                "ProcessingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/{EXECUTION}",
                "ProcessingResources": {
                    "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}
                },
                "AppSpecification": {
                    "ImageUri": "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
                },
                "ProcessingJobStatus": "Completed",
                "CreationTime": "2026-12-01T10:00:00Z",
                "MonitoringScheduleArn": f"arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/{schedule}",
            },
            {"ProcessingJobName": EXECUTION},
        )
        from chalicelib import retraining

        assert [s["schedule"] for s in retraining.signals(execution_ended(schedule, named=False))] == [schedule]


def _record_key(stack: str) -> str:
    from chalicelib.retraining import _key

    return _key(stack)


def record_of(plane: Plane, stack: str) -> list[dict[str, Any]]:
    """The entries of a pipeline's retraining record, as stored."""
    body = plane.client("s3").get_object(Bucket=plane.config.assets_bucket, Key=_record_key(stack))["Body"].read()
    return list(json.loads(body)["entries"])


def test_two_signals_at_once_start_one_run_and_the_other_meets_the_cooldown(
    api: Any, plane: Plane, pipelines: None
) -> None:
    """A second signal's whole restart lands between the first's read of the training record and
    its write (as two Lambda processes can): the first's conditional write loses, it reads again,
    and the cooldown refuses it."""
    from chalicelib import aws

    s3, fired, inner = aws.client("s3"), [], []

    def between_read_and_write(params: dict[str, Any], **_: Any) -> None:
        if fired or _record_key(TRAINING_STACK) not in params.get("url_path", ""):
            return
        fired.append(True)
        inner.extend(signal(violations("s3://r/second/report.json")))

    s3.meta.events.register("before-call.s3.PutObject", between_read_and_write)
    try:
        [outer] = signal(violations("s3://r/first/report.json"))
    finally:
        s3.meta.events.unregister("before-call.s3.PutObject", between_read_and_write)
    assert [inner[0]["outcome"], outer["outcome"]] == ["started", "skipped"]
    assert "cooling down" in outer["reason"]
    assert [e["outcome"] for e in record_of(plane, TRAINING_STACK)] == ["started", "skipped"]
    assert run_id_of(plane) == inner[0]["run_id"]


def test_a_claim_left_by_a_crash_is_resumed_by_the_retried_signal(
    api: Any, plane: Plane, pipelines: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import retraining

    class Crash(BaseException):
        """The Lambda process ends between the claim and the provision."""

    real = retraining._run_again
    monkeypatch.setattr(retraining, "_run_again", lambda *a: (_ for _ in ()).throw(Crash()))
    event = violations("s3://r/10/report.json")
    with pytest.raises(Crash):
        signal(event)
    assert [e["outcome"] for e in record_of(plane, TRAINING_STACK)] == ["starting"]
    assert run_id_of(plane) is None
    monkeypatch.setattr(retraining, "_run_again", real)
    # Another signal meets the claim's cooldown; the same one, delivered again at once, may be a
    # second delivery while the first is at work: it starts nothing and takes nothing over.
    assert signal(violations("s3://r/11/report.json"))[0]["outcome"] == "skipped"
    assert signal(event)[0]["outcome"] == "unchanged" and run_id_of(plane) is None
    # Once the claim is stale (no Lambda runs 15 minutes), the same signal takes it over.
    later(monkeypatch, 0.3)
    [resumed] = signal(event)
    assert resumed["outcome"] == "started" and run_id_of(plane) == resumed["run_id"]
    assert [e["outcome"] for e in record_of(plane, TRAINING_STACK)] == ["skipped", "started"]


def test_a_second_delivery_does_not_withdraw_the_first_ones_claim(
    api: Any, plane: Plane, pipelines: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two deliveries of one signal overlap: the second starts nothing; when the first's provision
    fails, it withdraws its own claim only, and a later success is recorded once."""
    from chalicelib import retraining
    from chalicelib.errors import UpstreamError

    event, real, inner = violations("s3://r/10/report.json"), retraining._run_again, []

    def second_delivery_then_fail(*args: Any) -> dict[str, Any]:
        inner.extend(signal(event))  # the same signal, delivered again while this one provisions
        raise UpstreamError("CreateStack was throttled")

    monkeypatch.setattr(retraining, "_run_again", second_delivery_then_fail)
    [first] = signal(event)
    assert [inner[0]["outcome"], first["outcome"]] == ["unchanged", "failed"]
    assert record_of(plane, TRAINING_STACK) == []  # the failed claim is gone, nothing else was
    monkeypatch.setattr(retraining, "_run_again", real)
    assert signal(event)[0]["outcome"] == "started"


def test_a_failed_provision_withdraws_its_claim(
    api: Any, plane: Plane, pipelines: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import retraining
    from chalicelib.errors import UpstreamError

    real = retraining._run_again

    def refused(*args: Any) -> dict[str, Any]:
        raise UpstreamError("CreateStack was throttled")

    monkeypatch.setattr(retraining, "_run_again", refused)
    [failed] = signal(violations("s3://r/10/report.json"))
    assert failed["outcome"] == "failed" and "throttled" in failed["reason"]
    assert record_of(plane, TRAINING_STACK) == []
    monkeypatch.setattr(retraining, "_run_again", real)
    assert signal(violations("s3://r/11/report.json"))[0]["outcome"] == "started"  # no cooldown from a failure
