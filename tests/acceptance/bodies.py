"""The request bodies of an acceptance run: the documented examples, pointed at what the run uploaded.

Each starts from its example in ``tests/events/valid/`` so the suite sends what the README
shows, with the cheapest settings that still do the work: one small instance, no spot
capacity to wait for, a training job capped at 15 minutes.
"""

from __future__ import annotations

from typing import Any

from tests.support.events import load_event

from .run import Run

INSTANCE = "ml.m5.large"  # the smallest type that SageMaker offers for both hosting and XGBoost training


def endpoint(run: Run, model_key: str) -> dict[str, Any]:
    return {
        **load_event("valid/byom_realtime_builtin"),
        "model_name": run.token,
        "model_artifact_location": model_key,
        "inference_instance": INSTANCE,
        "data_capture_location": run.location("datacapture"),
        "endpoint_name": f"{run.token}-endpoint",
    }


def training(run: Run, data_key: str) -> dict[str, Any]:
    body = {
        **load_event("valid/model_training_builtin"),
        "model_name": run.token,
        "training_data": data_key,
        "job_output_location": f"{run.prefix}training/output",
        "instance_type": INSTANCE,
        "instance_count": 1,
        "use_spot_instances": False,
        "max_runtime_per_job": 900,
        "algo_hyperparamaters": {"objective": "binary:logistic", "num_round": 5, "max_depth": 2},
    }
    body.pop("validation_data")
    return body


def monitor(run: Run, baseline_key: str, endpoint_body: dict[str, Any]) -> dict[str, Any]:
    """A serverless data-quality monitor of the run's endpoint: it reads what the endpoint captures."""
    return {
        **load_event("valid/byom_data_quality_monitor"),
        "model_name": run.token,
        "monitor_engine": "serverless",
        "endpoint_name": endpoint_body["endpoint_name"],
        "data_capture_location": endpoint_body["data_capture_location"],
        "baseline_data": baseline_key,
        "baseline_job_output_location": run.location("monitor/baseline"),
        "monitoring_output_location": run.location("monitor/reports"),
        "instance_type": INSTANCE,
        "baseline_max_runtime_seconds": 900,
        "monitor_max_runtime_seconds": 900,
    }
