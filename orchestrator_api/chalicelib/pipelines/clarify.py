"""What the monitor blueprint's Clarify function needs to write a bias or explainability config.

The function (``blueprints/functions/clarify_config``) builds both of Clarify's analysis
configurations with the SageMaker SDK from the installation's layer: the baseline job's and
the monitoring job definition's. The orchestrator sends it the request's Clarify settings,
already checked (:mod:`chalicelib.models.clarify`), under the SDK's argument names, and
where the baseline data and output are. The orchestrator itself never imports the SDK.
"""

from __future__ import annotations

from typing import Any


def _settings(value: Any) -> Any:
    if value is None:
        return None
    settings = value.model_dump(exclude_none=True)
    if "probability_threshold" in settings:  # checked as text, a number for the SDK
        settings["probability_threshold"] = float(settings["probability_threshold"])
    return settings


def config_request(request: Any, kind: str, values: dict[str, Any], dataset_uri: str) -> dict[str, Any]:
    """The function's event for ``kind`` (ModelBias or ModelExplainability) in one stage's ``values``."""
    event: dict[str, Any] = {
        "monitor_type": kind,
        "endpoint_name": values["endpoint_name"],
        "dataset_uri": dataset_uri,
        "output_uri": f"s3://{values['baseline_job_output_location']}",
        "kms_key_arn": values.get("kms_key_arn") or "",
    }
    if kind == "ModelBias":
        event["bias_config"] = _settings(request.bias_config)
        event["model_predicted_label_config"] = _settings(request.model_predicted_label_config)
        threshold = request.probability_threshold_attribute
        event["probability_threshold"] = float(threshold) if threshold is not None else None
    else:
        event["shap_config"] = _settings(request.shap_config)
        event["model_scores"] = _settings(request.model_scores)
    return event
