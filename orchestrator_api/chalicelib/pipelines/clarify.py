"""Clarify analysis configurations for bias and explainability monitors, without the SDK.

Two documents per monitor, in the schema of Clarify's analysis configuration file:
- the baseline's, which reads the baseline CSV (its first column is the label, as with the
  anchor) and asks the monitored endpoint for predictions (``predictor.endpoint_name``);
- the monitoring schedule's (the job definition's ``ConfigUri``), which takes predictions
  from captured data, so it has no predictor.
"""

from __future__ import annotations

from typing import Any

LABEL_COLUMN = 0  # the baseline CSV's first column holds the label


def _facets(bias: Any) -> list[dict[str, Any]]:
    names = bias.facet_name if isinstance(bias.facet_name, list) else [bias.facet_name]
    values = bias.facet_values_or_threshold
    facets = []
    for name in names:
        facet: dict[str, Any] = {"name_or_index": name}
        if values is not None:
            facet["value_or_threshold"] = list(values)
        facets.append(facet)
    return facets


def _predictor(request: Any, endpoint: str) -> dict[str, Any]:
    predictor: dict[str, Any] = {"endpoint_name": endpoint, "content_type": "text/csv", "accept_type": "text/csv"}
    label_config = getattr(request, "model_predicted_label_config", None)
    if label_config is not None:
        for key in ("label", "probability", "label_headers"):
            value = getattr(label_config, key)
            if value is not None:
                predictor[key] = value
    scores = getattr(request, "model_scores", None)
    if scores is not None:
        predictor["probability"] = scores
    return predictor


def _threshold(request: Any) -> float | None:
    label_config = getattr(request, "model_predicted_label_config", None)
    given = getattr(label_config, "probability_threshold", None) or request.probability_threshold_attribute
    return float(given) if given is not None else None


def bias_configs(request: Any, endpoint: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(baseline analysis config, monitoring analysis config) of a bias monitor."""
    bias = request.bias_config
    common: dict[str, Any] = {
        "dataset_type": "text/csv",
        "label": LABEL_COLUMN,
        "label_values_or_threshold": list(bias.label_values_or_threshold),
        "facet": _facets(bias),
        "methods": {"post_training_bias": {"methods": "all"}},
    }
    if bias.group_name:
        common["group_variable"] = bias.group_name
    threshold = _threshold(request)
    if threshold is not None:
        common["probability_threshold"] = threshold
    return {**common, "predictor": _predictor(request, endpoint)}, common


def explainability_configs(request: Any, endpoint: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(baseline analysis config, monitoring analysis config) of an explainability monitor."""
    shap_config = request.shap_config
    shap: dict[str, Any] = {
        "baseline": shap_config.baseline,
        "agg_method": shap_config.agg_method,
        "use_logit": shap_config.use_logit,
        "save_local_shap_values": shap_config.save_local_shap_values,
    }
    for key in ("num_samples", "seed", "num_clusters"):
        if getattr(shap_config, key) is not None:
            shap[key] = getattr(shap_config, key)
    common: dict[str, Any] = {"dataset_type": "text/csv", "label": LABEL_COLUMN, "methods": {"shap": shap}}
    return {**common, "predictor": _predictor(request, endpoint)}, common
