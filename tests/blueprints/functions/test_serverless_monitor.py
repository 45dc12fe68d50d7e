"""The serverless monitor's Lambda against moto: baseline files, hourly reports, CloudWatch
metrics and SNS notifications for data quality and model quality."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from blueprints.functions.serverless_monitor import handler
from mlops_monitor import baseline
from tests.unit.monitor import synthetic

DATA = "my-data-bucket"
ASSETS = "assets-bucket"
ENDPOINT = "churn-endpoint"
HOUR = "2026/11/21/10"  # the window the checks below look at
WINDOW_END = "2026-11-21T11:05:00Z"


def settings(kind: str = "DataQuality", **extra: str) -> dict[str, str]:
    return {
        "monitor_type": kind,
        "endpoint_name": ENDPOINT,
        "baseline_data": f"s3://{ASSETS}/monitoring/baseline.csv",
        "baseline_location": f"s3://{DATA}/baseline",
        "data_capture_location": f"s3://{DATA}/capture",
        "monitoring_output_location": f"s3://{DATA}/reports",
        "ground_truth_location": f"s3://{DATA}/truth" if kind == "ModelQuality" else "",
        "problem_type": "BinaryClassification" if kind == "ModelQuality" else "",
        "baseline_inference_attribute": "prediction",
        "baseline_probability_attribute": "probability",
        "baseline_ground_truth_attribute": "label",
        "probability_threshold": "0.5",
        **extra,
    }


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        clients = {name: boto3.client(name, region_name="us-east-1") for name in ("s3", "cloudwatch", "sns", "sqs")}
        for bucket in (DATA, ASSETS):
            clients["s3"].create_bucket(Bucket=bucket)
        topic = clients["sns"].create_topic(Name="mlops")["TopicArn"]
        queue = clients["sqs"].create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = clients["sqs"].get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
        clients["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["QueueArn"])
        monkeypatch.setenv("NOTIFICATIONS_TOPIC_ARN", topic)
        clients["queue"] = queue
        yield clients


def run(event: dict[str, Any], monitor: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("MONITOR_SETTINGS", json.dumps(monitor))
    return handler.handler(event)


def messages(aws: dict[str, Any]) -> list[str]:
    answer = aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"])["Message"] for m in answer.get("Messages", [])]


def put_lines(aws: dict[str, Any], key: str, lines: list[str]) -> None:
    aws["s3"].put_object(Bucket=DATA, Key=key, Body=("\n".join(lines) + "\n").encode())


def report(aws: dict[str, Any]) -> dict[str, Any]:
    return json.loads(aws["s3"].get_object(Bucket=DATA, Key=f"reports/{ENDPOINT}/{HOUR}/report.json")["Body"].read())


def test_the_baseline_writes_statistics_and_constraints_that_read_back(aws: Any, monkeypatch: Any) -> None:
    text = synthetic.baseline_csv(rows=2_000)
    aws["s3"].put_object(Bucket=ASSETS, Key="monitoring/baseline.csv", Body=text.encode())
    answer = run({"action": "baseline"}, settings(), monkeypatch)
    assert answer == {"baseline": f"s3://{DATA}/baseline", "features": 15, "rows": 2_000}
    stored = json.loads(aws["s3"].get_object(Bucket=DATA, Key="baseline/statistics.json")["Body"].read())
    constraints = json.loads(aws["s3"].get_object(Bucket=DATA, Key="baseline/constraints.json")["Body"].read())
    assert [f["name"] for f in constraints["features"]] == synthetic.HEADER
    assert baseline.from_statistics(stored) == baseline.from_text(text)


def test_a_shifted_hour_is_reported_measured_and_notified(aws: Any, monkeypatch: Any) -> None:
    aws["s3"].put_object(Bucket=ASSETS, Key="monitoring/baseline.csv", Body=synthetic.baseline_csv().encode())
    run({"action": "baseline"}, settings(), monkeypatch)
    shifted = synthetic.window(7, mean_shift={3: 0.5})
    put_lines(aws, f"capture/{ENDPOINT}/AllTraffic/{HOUR}/part-1.jsonl", shifted[:600])
    put_lines(aws, f"capture/{ENDPOINT}/Shadow/{HOUR}/part-2.jsonl", [*shifted[600:], "not json"])
    put_lines(aws, f"capture/{ENDPOINT}/AllTraffic/2026/11/21/09/old.jsonl", synthetic.window(8))  # not this hour
    answer = run({"action": "check", "window_end": WINDOW_END}, settings(), monkeypatch)
    assert answer["status"] == "violations" and answer["records"] == 1_000 and answer["malformed"] == 1
    found = report(aws)
    assert {v["feature_name"] for v in found["violations"]} == {"x3"}
    assert found["window_start"] == "2026-11-21T10:00:00+00:00"
    metrics = aws["cloudwatch"].list_metrics(Namespace=handler.NAMESPACE, MetricName="drift_p_value")["Metrics"]
    assert {d["Value"] for m in metrics for d in m["Dimensions"] if d["Name"] == "Feature"} >= {"x3", "c0"}
    [message] = messages(aws)
    assert "x3" in message and f"reports/{ENDPOINT}/{HOUR}/report.json" in message
    assert f"reports/{ENDPOINT}/{HOUR}/report.html" in message


def test_the_hour_s_report_is_also_a_page_beside_report_json(aws: Any, monkeypatch: Any) -> None:
    aws["s3"].put_object(Bucket=ASSETS, Key="monitoring/baseline.csv", Body=synthetic.baseline_csv().encode())
    run({"action": "baseline"}, settings(), monkeypatch)
    put_lines(aws, f"capture/{ENDPOINT}/AllTraffic/{HOUR}/part-1.jsonl", synthetic.window(9, mean_shift={5: 0.6}))
    answer = run({"action": "check", "window_end": WINDOW_END}, settings(), monkeypatch)
    assert answer["html_report"] == f"s3://{DATA}/reports/{ENDPOINT}/{HOUR}/report.html"
    stored = aws["s3"].get_object(Bucket=DATA, Key=f"reports/{ENDPOINT}/{HOUR}/report.html")
    assert stored["ContentType"].startswith("text/html")
    page = stored["Body"].read().decode()
    assert page.count('<svg class="chart"') == 15
    violations = page[page.index('id="violations"') : page.index("<h2>Features")]
    assert ">x5</a>" in violations and "baseline_drift_check" in violations
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_an_hour_without_data_is_no_data_not_a_violation(aws: Any, monkeypatch: Any) -> None:
    aws["s3"].put_object(Bucket=ASSETS, Key="monitoring/baseline.csv", Body=synthetic.baseline_csv(rows=500).encode())
    run({"action": "baseline"}, settings(), monkeypatch)
    answer = run({"action": "check", "window_end": WINDOW_END}, settings(), monkeypatch)
    assert (answer["status"], answer["violations"]) == ("no_data", 0)
    assert report(aws)["message"].startswith("no record was checked: no captured line in this window")
    assert messages(aws) == []


def model_quality_data(rng: random.Random, rows: int, flip: float) -> tuple[list[str], list[str], list[str]]:
    """Baseline CSV rows, capture lines and ground-truth lines; ``flip`` of the labels disagree."""
    baseline_rows, captures, truths = ["prediction,probability,label"], [], []
    for _ in range(rows):
        label = rng.randint(0, 1)
        score = min(max(rng.gauss(0.75 if label else 0.25, 0.15), 0.0), 1.0)
        baseline_rows.append(f"{int(score >= 0.5)},{score:.4f},{label}")
        truth = 1 - label if rng.random() < flip else label
        line = json.loads(synthetic.capture_line(["1", "2"], rng, output=f"{score:.4f}"))
        captures.append(json.dumps(line))
        truths.append(
            json.dumps(
                {
                    "groundTruthData": {"data": str(truth), "encoding": "CSV"},
                    "eventMetadata": {"eventId": line["eventMetadata"]["eventId"]},
                    "eventVersion": "0",
                }
            )
        )
    return baseline_rows, captures, truths


def test_model_quality_flags_metrics_worse_than_the_baseline(aws: Any, monkeypatch: Any) -> None:
    rng = random.Random(3)
    baseline_rows, _, _ = model_quality_data(rng, 2_000, 0.0)
    aws["s3"].put_object(Bucket=ASSETS, Key="monitoring/baseline.csv", Body="\n".join(baseline_rows).encode())
    answer = run({"action": "baseline"}, settings("ModelQuality"), monkeypatch)
    assert answer["metrics"]["accuracy"] > 0.9
    _, captures, truths = model_quality_data(rng, 500, 0.3)  # 30% of labels now disagree
    put_lines(aws, f"capture/{ENDPOINT}/AllTraffic/{HOUR}/c.jsonl", captures)
    put_lines(aws, f"truth/{HOUR}/t.jsonl", truths)
    answer = run({"action": "check", "window_end": WINDOW_END}, settings("ModelQuality"), monkeypatch)
    assert answer["status"] == "violations"
    found = report(aws)
    assert found["model_quality"]["joined"] == 500
    assert {"accuracy", "auc"} <= {v["feature_name"] for v in found["violations"]}
    assert "accuracy" in messages(aws)[0]


def test_a_baseline_without_the_named_columns_fails_with_their_names(aws: Any, monkeypatch: Any) -> None:
    aws["s3"].put_object(Bucket=ASSETS, Key="monitoring/baseline.csv", Body=b"score,truth\n0.3,0\n")
    with pytest.raises(ValueError, match="no column label, prediction, probability; its header is score, truth"):
        run({"action": "baseline"}, settings("ModelQuality"), monkeypatch)


def scale_out_definition() -> dict[str, Any]:
    """The blueprint's scale-out state machine, resolved for this test's function."""
    from mlops_cfn import Resolver
    from tests.support.templates import template

    text, names = template("serverless_monitor_pipeline.yaml")["Resources"]["ScaleOutStateMachine"]["Properties"][
        "DefinitionString"
    ]["Fn::Sub"]
    given = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
             "FunctionName": "monitor"}  # fmt: skip
    arn = Resolver(names=given).resolve(names["FunctionArn"])
    return dict(json.loads(Resolver(names={**given, "FunctionArn": arn}).resolve({"Fn::Sub": text})))


def test_an_hour_too_large_for_one_function_fans_out_and_merges_to_the_one_pass_report(
    aws: Any, monkeypatch: Any
) -> None:
    """Slices counted by separate invocations (Distributed Map, run by local mode's interpreter)
    and merged give the report one function gives for the whole hour."""
    import mlops_local.lambdas
    from mlops_local.statemachine import run as run_machine
    from tests.support.statemachines import Session

    aws["s3"].put_object(Bucket=ASSETS, Key="monitoring/baseline.csv", Body=synthetic.baseline_csv().encode())
    run({"action": "baseline"}, settings(), monkeypatch)
    lines = [*synthetic.window(12, rows=900, mean_shift={4: 0.3}), "not json"]
    for part in range(6):
        variant = "AllTraffic" if part % 2 else "Shadow"
        chunk = lines[part * 150 : (part + 1) * 150 if part < 5 else None]  # the last with the malformed line
        put_lines(aws, f"capture/{ENDPOINT}/{variant}/{HOUR}/part-{part}.jsonl", chunk)
    event = {"action": "check", "window_end": WINDOW_END}
    one_pass = run(event, settings(), monkeypatch)
    expected = report(aws)

    definition = scale_out_definition()
    states = boto3.client("stepfunctions", region_name="us-east-1")
    machine = states.create_state_machine(
        name="scale-out", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    monkeypatch.setenv("SCALE_OUT_STATE_MACHINE_ARN", machine)
    monkeypatch.setenv("SCALE_OUT_BYTES", "150000")  # about two objects per function
    answer = run(event, settings(), monkeypatch)
    assert answer["status"] == "fanned_out" and answer["slices"] == 3, answer
    execution = states.describe_execution(executionArn=answer["execution"])
    assert execution["name"] == f"{ENDPOINT}-2026112110"

    def invoke(session: Any, region: str, function: str, payload: Any, identities: Any = None) -> Any:
        assert function == "arn:aws:lambda:us-east-1:123456789012:function:monitor"
        return run(payload, settings(), monkeypatch)  # the function, as Lambda would run it

    monkeypatch.setattr(mlops_local.lambdas, "invoke", invoke)
    session = Session({"s3": aws["s3"]})
    output = run_machine(session, definition, json.loads(execution["input"]))
    assert output["report"]["status"] == one_pass["status"] == "violations"
    merged = report(aws)
    assert merged.pop("slices") == 3
    assert merged == expected  # exactly the one-pass report
    parts = aws["s3"].list_objects_v2(Bucket=DATA, Prefix=f"reports/{ENDPOINT}/{HOUR}/slices/")["Contents"]
    assert sorted(p["Key"].rsplit("/", 1)[1] for p in parts) == [
        "manifest.json", "part-00000.json", "part-00001.json", "part-00002.json"]  # fmt: skip


def test_a_small_hour_stays_with_one_function(aws: Any, monkeypatch: Any) -> None:
    aws["s3"].put_object(Bucket=ASSETS, Key="monitoring/baseline.csv", Body=synthetic.baseline_csv(rows=500).encode())
    run({"action": "baseline"}, settings(), monkeypatch)
    put_lines(aws, f"capture/{ENDPOINT}/AllTraffic/{HOUR}/part-1.jsonl", synthetic.window(13, rows=200))
    monkeypatch.setenv("SCALE_OUT_STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:none")
    answer = run({"action": "check", "window_end": WINDOW_END}, settings(), monkeypatch)
    assert (answer["status"], answer["records"]) == ("ok", 200)  # no execution was started (none exists)
