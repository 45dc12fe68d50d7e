"""Clarify's analysis configurations of a bias or explainability monitor, made by the SageMaker SDK.

The monitor blueprint's baseline state machine invokes this function before its Clarify
baseline job. It runs with the installation's SageMaker SDK layer and writes, beside the
baseline's output, the two documents the SDK's ``ModelBiasMonitor`` and
``ModelExplainabilityMonitor`` would produce:

- ``analysis_config.json``: the baseline job's (what ``suggest_baseline`` sends to Clarify);
- ``monitoring_analysis_config.json``: the monitoring job definition's ``ConfigUri`` (what
  ``create_monitoring_schedule`` uploads).

The event carries the request's Clarify settings under the SDK's own argument names (the
orchestrator checked them when the request arrived) and where the data and output are.
A setting the SDK refuses fails the invocation with the SDK's message, which the state
machine reports as the baseline's failure.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

from sagemaker import clarify
from sagemaker.model_monitor.clarify_model_monitoring import (
    BiasAnalysisConfig,
    ExplainabilityAnalysisConfig,
)

LABEL_COLUMN = 0  # the baseline CSV's first column holds the label
CONTENT_TYPE = "text/csv"
ANALYSIS_CONFIG = "analysis_config.json"
MONITORING_CONFIG = "monitoring_analysis_config.json"


class SettingsRefused(Exception):
    """The SDK refused a Clarify setting; the message names it."""


def _predicted_label(event: dict[str, Any]) -> clarify.ModelPredictedLabelConfig | None:
    given = dict(event.get("model_predicted_label_config") or {})
    if event.get("probability_threshold") is not None and given.get("probability_threshold") is None:
        given["probability_threshold"] = event["probability_threshold"]
    return clarify.ModelPredictedLabelConfig(**given) if given else None


def bias_configs(event: dict[str, Any], data: clarify.DataConfig, model: clarify.ModelConfig) -> tuple[dict, dict]:
    """What ``ModelBiasMonitor.suggest_baseline`` and its schedule would use."""
    bias = clarify.BiasConfig(**event["bias_config"])
    predicted = _predicted_label(event)
    baseline = clarify._AnalysisConfigGenerator.bias(data, bias, model, predicted)
    monitoring = BiasAnalysisConfig(bias, headers=data.headers, label=data.label)._to_dict()
    return baseline, monitoring


def explainability_configs(
    event: dict[str, Any], data: clarify.DataConfig, model: clarify.ModelConfig
) -> tuple[dict, dict]:
    """What ``ModelExplainabilityMonitor.suggest_baseline`` and its schedule would use."""
    shap = clarify.SHAPConfig(**event["shap_config"])
    scores = event.get("model_scores")
    if isinstance(scores, dict):
        scores = clarify.ModelPredictedLabelConfig(**scores)
    baseline = clarify._AnalysisConfigGenerator.explainability(data, model, scores, shap)
    label_headers = scores.label_headers if isinstance(scores, clarify.ModelPredictedLabelConfig) else None
    monitoring = ExplainabilityAnalysisConfig(shap, model, headers=None, label_headers=label_headers)._to_dict()
    return baseline, monitoring


def build(event: dict[str, Any]) -> tuple[dict, dict]:
    """(baseline analysis config, monitoring analysis config) for the event's monitor."""
    output = event["output_uri"].rstrip("/")
    try:
        data = clarify.DataConfig(
            s3_data_input_path=event["dataset_uri"],
            s3_output_path=output,
            label=LABEL_COLUMN,
            dataset_type=CONTENT_TYPE,
        )
        model = clarify.ModelConfig(
            endpoint_name=event["endpoint_name"], content_type=CONTENT_TYPE, accept_type=CONTENT_TYPE
        )
        make = bias_configs if event["monitor_type"] == "ModelBias" else explainability_configs
        return make(event, data, model)
    except (TypeError, ValueError, AttributeError) as exc:
        raise SettingsRefused(f"The SageMaker SDK refused the monitor's Clarify settings: {exc}") from exc


def handler(event: dict[str, Any], context: Any = None) -> dict[str, str]:
    baseline, monitoring = build(event)
    bucket, _, prefix = event["output_uri"].removeprefix("s3://").rstrip("/").partition("/")
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": event["kms_key_arn"]} if event.get("kms_key_arn") else {}
    s3 = boto3.client("s3")
    written = {}
    for name, document in ((ANALYSIS_CONFIG, baseline), (MONITORING_CONFIG, monitoring)):
        key = f"{prefix}/{name}" if prefix else name
        body = json.dumps(document, indent=2, sort_keys=True).encode()
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", **extra)
        written[name] = f"s3://{bucket}/{key}"
    return {"analysis_config_uri": written[ANALYSIS_CONFIG], "monitoring_config_uri": written[MONITORING_CONFIG]}
