"""The status document shows what SageMaker does with a real-time pipeline's endpoint.

A deployment in progress and a rollback come from DescribeEndpoint, which the emulator never
reports (it has no UpdateEndpoint): those are answered by botocore's Stubber, which checks the
shapes against the service model. The wiring, and what the emulator leaves out, runs in moto.
"""

from __future__ import annotations

from typing import Any

from botocore.stub import Stubber

from chalicelib import endpoint_status
from mlops_local.executor import Store, execute
from tests.support.events import load_event
from tests.support.plane import Plane, post
from tests.support.realtime import CANARY, T1, canary_in_progress, described


def test_a_canary_in_progress_shows_its_phase_weights_and_alarms(stubbed_sagemaker: Stubber) -> None:
    stubbed_sagemaker.add_response("describe_endpoint", canary_in_progress(), {"EndpointName": "churn-endpoint"})
    found = endpoint_status.describe("churn-endpoint", CANARY)
    deployment = found["deployment"]
    assert deployment["requested"].startswith("blue/green canary 10% for 600 s, then the rest")
    assert deployment["in_progress"] == {
        "target_config": "churn-xgboost-new", "started": T1.isoformat(), "phase": "Baking",
        "phase_message": "canary", "new_fleet_weight": 0.1, "old_fleet_weight": 0.9,
    }  # fmt: skip
    assert deployment["alarms_watched"] == ["s-model-5xx", "s-model-latency-p99"]
    assert deployment["rolling_back"] is False and found["status"] == "Updating"


def test_a_rollback_shows_its_reason(stubbed_sagemaker: Stubber) -> None:
    reason = "Alarm s-model-5xx went into ALARM state during the deployment"
    stubbed_sagemaker.add_response(
        "describe_endpoint",
        described("churn-xgboost-old", 0.9, EndpointStatus="RollingBack", FailureReason=reason),
        {"EndpointName": "churn-endpoint"},
    )
    deployment = endpoint_status.describe("churn-endpoint", CANARY)["deployment"]
    assert deployment["rolling_back"] is True and deployment["rollback_reason"] == reason


def test_an_endpoint_that_cannot_be_read_is_said_so(stubbed_sagemaker: Stubber) -> None:
    stubbed_sagemaker.add_client_error("describe_endpoint", "ValidationException", "Could not find endpoint", 400)
    found = endpoint_status.describe("churn-endpoint", CANARY)
    assert found["status"] is None and "ValidationException" in found["note"]


def test_the_status_document_shows_the_endpoint_and_an_unregistered_scaling_target(api: Any, plane: Plane) -> None:
    _, body = post(api, "/provisionpipeline", load_event("valid/realtime/autoscaling"))
    assert execute(plane.session, body["stack_name"], Store()).status == "Succeeded"
    _, doc = post(api, "/pipelinestatus", {"pipeline_id": body["pipeline_id"]})
    endpoint = doc["endpoint"]
    assert endpoint["status"] == "InService"
    assert endpoint["deployment"]["requested"] == (
        "rolling batches of 25% of the instances, baking 300 s each; rolls back on 2 alarms (model 5xx, "
        "p99 model latency > 1000 ms)"
    )
    assert endpoint["deployment"]["in_progress"] is None
    # The emulator registers no scalable target (moto's CloudFormation has no model of one): said, not hidden.
    assert endpoint["autoscaling"]["requested"] == {"min": 2, "max": 8}
    assert endpoint["autoscaling"]["registered"] is None
    assert "no scalable target is registered" in endpoint["autoscaling"]["note"]


def test_a_registered_target_is_shown(api: Any, plane: Plane) -> None:
    _, body = post(api, "/provisionpipeline", load_event("valid/realtime/autoscaling"))
    assert execute(plane.session, body["stack_name"], Store()).status == "Succeeded"
    _, doc = post(api, "/pipelinestatus", {"pipeline_id": body["pipeline_id"]})
    plane.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=f"endpoint/{doc['endpoint']['name']}/variant/AllTraffic",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount", MinCapacity=2, MaxCapacity=8,
    )  # fmt: skip
    _, doc = post(api, "/pipelinestatus", {"pipeline_id": body["pipeline_id"]})
    assert doc["endpoint"]["autoscaling"]["registered"] == {"min": 2, "max": 8}
    assert "note" not in doc["endpoint"]["autoscaling"]


def test_pipelines_without_an_endpoint_have_no_endpoint_section(api: Any, plane: Plane) -> None:
    _, body = post(api, "/provisionpipeline", load_event("valid/byom_batch_builtin"))
    _, doc = post(api, "/pipelinestatus", {"pipeline_id": body["pipeline_id"]})
    assert "endpoint" not in doc


def test_a_rollback_alarm_that_does_not_exist_is_named(api: Any, plane: Plane) -> None:
    """SageMaker cannot roll back on an alarm that is not there: the request's own alarm, or (in
    the emulator, whose CloudFormation creates no alarms) the blueprint's default ones."""
    _, body = post(api, "/provisionpipeline", load_event("valid/realtime/blue_green_canary"))
    assert execute(plane.session, body["stack_name"], Store()).status == "Succeeded"
    _, doc = post(api, "/pipelinestatus", {"pipeline_id": body["pipeline_id"]})
    stack = doc["deployed_stack"]["name"]
    defaults = [f"{stack}-model-5xx", f"{stack}-model-latency-p99"]
    deployment = doc["endpoint"]["deployment"]
    assert deployment["alarms_missing"] == ["churn-business-kpi-drop", *defaults]
    assert "SageMaker cannot roll an update back on them" in deployment["alarms_note"]
    for name in ["churn-business-kpi-drop", *defaults]:
        plane.client("cloudwatch").put_metric_alarm(
            AlarmName=name, MetricName="Invocation5XXErrors", Namespace="AWS/SageMaker", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        )  # fmt: skip
    _, doc = post(api, "/pipelinestatus", {"pipeline_id": body["pipeline_id"]})
    assert "alarms_missing" not in doc["endpoint"]["deployment"]
