"""The serverless monitor's Lambda: a baseline once, then one check per scheduled window.

``{"action": "baseline"}`` (the pipeline's Run stage) reads the baseline CSV and writes
``statistics.json`` and ``constraints.json`` to the baseline location (model quality: the
model's metrics on the baseline and thresholds at those values).

``{"action": "check"}`` (EventBridge Scheduler; ``"window_end"`` may name the hour, else the
hour that just ended) streams the endpoint's captured data of that hour from
``<capture>/<endpoint>/<variant>/yyyy/mm/dd/hh/``, writes a report to
``<monitoring output>/<endpoint>/yyyy/mm/dd/hh/report.json`` and the same as a page beside it
(``report.html``), publishes per-feature metrics to CloudWatch and tells the topic when
anything is violated. An hour without data is a "no_data" report, not a violation.

Data quality of an hour larger than one function reads in its time budget (more bytes than
the remaining time at ``READ_BYTES_PER_SECOND``, halved) fans out instead: the check writes a
manifest of slices of the hour's objects and starts the scale-out state machine, whose
Distributed Map runs ``{"action": "slice"}`` on each slice (mergeable counts to
``.../slices/part-NNNNN.json``) and then ``{"action": "reduce"}``, which merges them, checks and
reports exactly as one pass would. Model quality (a join by inference id) stays in one function.

Settings come from the ``MONITOR_SETTINGS`` environment variable (JSON, rendered by the
orchestrator); the topic from ``NOTIFICATIONS_TOPIC_ARN``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from mlops_monitor import baseline, capture, model_quality, page, partial, quality, signals, sources

NAMESPACE = "MLOps/ServerlessMonitor"
STATISTICS, CONSTRAINTS = "statistics.json", "constraints.json"


def _settings() -> dict[str, Any]:
    return dict(json.loads(os.environ["MONITOR_SETTINGS"]))


def _put_json(s3: Any, uri: str, name: str, document: Any) -> str:
    bucket, prefix = sources.split(uri)
    key = f"{prefix.rstrip('/')}/{name}" if prefix else name
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(document, indent=2, sort_keys=True).encode())
    return f"s3://{bucket}/{key}"


def _put_page(s3: Any, uri: str, report: dict[str, Any]) -> str:
    """The report as a self-contained HTML page beside ``report.json``."""
    bucket, prefix = sources.split(uri)
    key = f"{prefix.rstrip('/')}/report.html"
    title = f"{report['monitor_type']} of {report['endpoint']}"
    body = page.render(report, title=title).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/html; charset=utf-8")
    return f"s3://{bucket}/{key}"


def _get_json(s3: Any, uri: str, name: str) -> Any:
    bucket, prefix = sources.split(uri)
    key = f"{prefix.rstrip('/')}/{name}" if prefix else name
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def run_baseline(settings: dict[str, Any], s3: Any) -> dict[str, Any]:
    where = settings["baseline_location"]
    if next(sources.keys(s3, settings["baseline_data"]), None) is None:
        raise FileNotFoundError(f"no baseline data at {settings['baseline_data']}: upload the baseline CSV there")
    if settings["monitor_type"] == "ModelQuality":
        found = model_quality.baseline_metrics(
            sources.lines(s3, settings["baseline_data"]),
            settings["problem_type"],
            label=settings["baseline_ground_truth_attribute"],
            prediction=settings["baseline_inference_attribute"],
            probability=settings.get("baseline_probability_attribute", ""),
            threshold=float(settings.get("probability_threshold") or 0.5),
        )
        if found["status"] != "ok":
            raise ValueError(f"the baseline CSV {settings['baseline_data']} has no usable row")
        _put_json(s3, where, STATISTICS, found)
        _put_json(s3, where, CONSTRAINTS, {"metrics": model_quality.constraints(found)})
        return {"baseline": where, "metrics": found["metrics"]}
    built = baseline.build(sources.lines(s3, settings["baseline_data"]))
    _put_json(s3, where, STATISTICS, built.statistics())
    _put_json(s3, where, CONSTRAINTS, built.constraints())
    return {"baseline": where, "features": len(built.features), "rows": built.item_count}


def _hour(event: dict[str, Any]) -> datetime:
    """The start of the window: ``window_end`` minus an hour, or the hour that just ended."""
    given = event.get("window_end")
    end = datetime.fromisoformat(given.replace("Z", "+00:00")) if given else datetime.now(UTC)
    end = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return end - timedelta(hours=1)


def _window_lines(s3: Any, location: str, hour: datetime, endpoint: str | None) -> Iterator[str]:
    """Lines captured in ``hour``: each variant's ``yyyy/mm/dd/hh/`` folder under the endpoint
    (ground truth has no variant level). Only that hour's folders are listed, however long the
    endpoint has been capturing."""
    stamp = hour.strftime("%Y/%m/%d/%H/")
    root = location.rstrip("/") + "/"
    hours = [f"{v}{stamp}" for v in sources.folders(s3, f"{root}{endpoint}/")] if endpoint else [f"{root}{stamp}"]
    for folder in hours:
        yield from sources.lines(s3, folder)


def _metrics(report: dict[str, Any], endpoint: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = [
        {"MetricName": "violations", "Value": len(report["violations"]), "Unit": "Count",
         "Dimensions": [{"Name": "Endpoint", "Value": endpoint}]},
        {"MetricName": "records", "Value": report.get("records", 0), "Unit": "Count",
         "Dimensions": [{"Name": "Endpoint", "Value": endpoint}]},
    ]  # fmt: skip
    for name, summary in sorted(report.get("features", {}).items()):
        dimensions = [{"Name": "Endpoint", "Value": endpoint}, {"Name": "Feature", "Value": name}]
        data.append({"MetricName": "completeness", "Value": summary["completeness"], "Dimensions": dimensions})
        if "drift" in summary:
            drift = summary["drift"]
            data.append({"MetricName": "drift_p_value", "Value": drift["p_value"], "Dimensions": dimensions})
            data.append({"MetricName": "drift_statistic", "Value": drift["statistic"], "Dimensions": dimensions})
    for name, value in sorted(report.get("model_quality", {}).get("metrics", {}).items()):
        dimensions = [{"Name": "Endpoint", "Value": endpoint}, {"Name": "Metric", "Value": name}]
        data.append({"MetricName": "model_quality", "Value": value, "Dimensions": dimensions})
    return data


# What one function reads per second of its time budget (the bench measures more on one core;
# S3 reads and a smaller Lambda share of a core make less), and the share of the budget it plans for.
READ_BYTES_PER_SECOND = 20 * 2**20
BUDGET_SHARE = 0.5


def _budget(context: Any) -> int:
    """Bytes of capture one function reads within its time budget: above it, the hour fans out."""
    override = os.environ.get("SCALE_OUT_BYTES")
    if override:
        return int(override)
    seconds = context.get_remaining_time_in_millis() / 1000 if context is not None else 900
    return int(seconds * READ_BYTES_PER_SECOND * BUDGET_SHARE)


def _window_objects(s3: Any, location: str, hour: datetime, endpoint: str) -> list[tuple[str, str, int]]:
    """``(bucket, key, size)`` of the hour's capture objects in every variant's folder."""
    stamp = hour.strftime("%Y/%m/%d/%H/")
    root = location.rstrip("/") + "/"
    return [o for v in sources.folders(s3, f"{root}{endpoint}/") for o in sources.objects(s3, f"{v}{stamp}")]


def _output(settings: dict[str, Any], hour: datetime) -> str:
    return f"{settings['monitoring_output_location'].rstrip('/')}/{settings['endpoint_name']}/{hour:%Y/%m/%d/%H}"


def run_check(
    settings: dict[str, Any], event: dict[str, Any], clients: dict[str, Any], context: Any = None
) -> dict[str, Any]:
    s3, endpoint = clients["s3"], settings["endpoint_name"]
    hour = _hour(event)
    if settings["monitor_type"] == "ModelQuality":
        lines = _window_lines(s3, settings["data_capture_location"], hour, endpoint)
        counts = capture.Counts()
        predictions = model_quality.Predictions(capture.records(lines, counts))
        for _ in predictions:  # only the outputs matter for model quality
            pass
        truth_counts = capture.Counts()
        truths = capture.ground_truth(_window_lines(s3, settings["ground_truth_location"], hour, None), truth_counts)
        result = model_quality.evaluate(
            predictions.outputs, truths, settings["problem_type"], truth_counts,
            float(settings.get("probability_threshold") or 0.5),
        )  # fmt: skip
        limits = _get_json(s3, settings["baseline_location"], CONSTRAINTS)["metrics"]
        found = model_quality.violations(result, limits) if result["status"] == "ok" else []
        report: dict[str, Any] = {
            "records": len(predictions.outputs), "lines": counts.lines, "malformed": counts.malformed,
            "malformed_reasons": dict(counts.reasons), "model_quality": result, "violations": found,
        }  # fmt: skip
        report["status"] = "no_data" if result["status"] == "no_data" else ("violations" if found else "ok")
        return _publish(settings, report, hour, clients)
    found_objects = _window_objects(s3, settings["data_capture_location"], hour, endpoint)
    budget, machine = _budget(context), os.environ.get("SCALE_OUT_STATE_MACHINE_ARN", "")
    if machine and sum(size for _, _, size in found_objects) > budget:
        return _fan_out(settings, hour, found_objects, budget, machine, clients)
    stats = baseline.from_statistics(_get_json(s3, settings["baseline_location"], STATISTICS))
    report = quality.check(stats, partial.Partial(stats).add_lines(sources.object_lines(s3, found_objects)))
    return _publish(settings, report, hour, clients)


def _fan_out(
    settings: dict[str, Any], hour: datetime, found: list[tuple[str, str, int]], budget: int, machine: str,
    clients: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """More capture than one function reads in time: one slice of objects per worker, listed in a
    manifest that the scale-out state machine's Distributed Map reads (ItemReader), then merged."""
    planned = sources.slices(found, budget)
    items = [{"index": i, "objects": [[b, k] for b, k, _ in part]} for i, part in enumerate(planned)]
    manifest = _put_json(clients["s3"], f"{_output(settings, hour)}/slices", "manifest.json", items)
    bucket, key = sources.split(manifest)
    execution = clients["stepfunctions"].start_execution(
        stateMachineArn=machine,
        # One name per endpoint and hour: a retried check finds the execution it started.
        name=f"{settings['endpoint_name'][:60]}-{hour:%Y%m%d%H}",
        input=json.dumps({"window_start": hour.isoformat(), "bucket": bucket, "manifest": key}),
    )
    total = sum(size for _, _, size in found)
    return {"status": "fanned_out", "slices": len(items), "bytes": total, "manifest": manifest,
            "execution": execution["executionArn"]}  # fmt: skip


def run_slice(settings: dict[str, Any], event: dict[str, Any], s3: Any) -> dict[str, Any]:
    """One worker of a fanned-out hour: its objects' counts, written beside the manifest."""
    hour = datetime.fromisoformat(event["window_start"])
    stats = baseline.from_statistics(_get_json(s3, settings["baseline_location"], STATISTICS))
    counted = partial.Partial(stats).add_lines(sources.object_lines(s3, event["objects"]))
    _put_json(s3, f"{_output(settings, hour)}/slices", f"part-{int(event['index']):05d}.json", counted.to_json())
    return {"index": event["index"], "records": counted.records}


def run_reduce(settings: dict[str, Any], event: dict[str, Any], clients: dict[str, Any]) -> dict[str, Any]:
    """The fanned-out hour's report: every slice's counts merged, then the same checks as one pass."""
    s3 = clients["s3"]
    hour = datetime.fromisoformat(event["window_start"])
    items = json.loads(s3.get_object(Bucket=event["bucket"], Key=event["manifest"])["Body"].read())
    stats = baseline.from_statistics(_get_json(s3, settings["baseline_location"], STATISTICS))
    merged = partial.Partial(stats)
    for item in items:
        document = _get_json(s3, f"{_output(settings, hour)}/slices", f"part-{int(item['index']):05d}.json")
        merged.merge(partial.Partial.from_json(stats, document))
    report = quality.check(stats, merged)
    report["slices"] = len(items)
    return _publish(settings, report, hour, clients)


def _publish(
    settings: dict[str, Any], report: dict[str, Any], hour: datetime, clients: dict[str, Any]
) -> dict[str, Any]:
    """Report and page to S3, metrics to CloudWatch, violations to the topic."""
    s3, endpoint = clients["s3"], settings["endpoint_name"]
    report.update({"endpoint": endpoint, "monitor_type": settings["monitor_type"], "window_start": hour.isoformat()})
    out = _output(settings, hour)
    report["report"] = _put_json(s3, out, "report.json", report)
    report["html_report"] = _put_page(s3, out, report)
    data = _metrics(report, endpoint)
    for start in range(0, len(data), 1000):
        clients["cloudwatch"].put_metric_data(Namespace=NAMESPACE, MetricData=data[start : start + 1000])
    topic = os.environ.get("NOTIFICATIONS_TOPIC_ARN", "")
    if report["violations"] and topic:
        shown = "\n".join(f"- {v['feature_name']}: {v['description']}" for v in report["violations"][:20])
        clients["sns"].publish(
            TopicArn=topic,
            Subject=f"Monitor violations on {endpoint}"[:100],
            Message=f"{len(report['violations'])} violation(s) in the hour from {hour.isoformat()}:\n{shown}\n"
            f"Report: {report['report']}\nPage: {report['html_report']}",
            MessageAttributes=signals.attributes(report),  # the orchestrator's retraining (signals.py)
        )
    return {k: report[k] for k in ("status", "records", "malformed", "report", "html_report")} | {
        "violations": len(report["violations"])
    }


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    settings = _settings()
    clients = {name: boto3.client(name) for name in ("s3", "cloudwatch", "sns", "stepfunctions")}
    action = event.get("action")
    if action == "baseline":
        return run_baseline(settings, clients["s3"])
    if action == "slice":
        return run_slice(settings, event, clients["s3"])
    if action == "reduce":
        return run_reduce(settings, event, clients)
    return run_check(settings, event, clients, context)
