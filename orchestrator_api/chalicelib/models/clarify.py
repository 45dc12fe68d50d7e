"""The Clarify settings of bias and explainability monitors, checked when the request arrives.

The original solution passed these objects to the SageMaker SDK's ``BiasConfig``,
``ModelPredictedLabelConfig`` and ``SHAPConfig`` at baseline time, so a typo failed a
pipeline minutes later. Here they are validated with the same keys up front (a 400 naming
the key), and the monitor blueprint's Clarify function hands them to the SDK (from the
installation's layer), which writes Clarify's analysis configurations.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_validator, model_validator

from ..body import NotJson
from .fields import Between, Flag, Fraction, OneOf, Text, asset_key, embedded_json, fail, json_object

# Label and facet values: text (no control characters) or a number (finite: the body's rules).
Scalar = Text | int | float
NameOrIndex = Annotated[Text | int, "a column name or 0-based index"]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BiasConfig(_Strict):
    """The original solution's ``bias_config`` (the SDK's ``BiasConfig`` arguments)."""

    label_values_or_threshold: Annotated[list[Scalar], BeforeValidator(_listed)]
    facet_name: NameOrIndex | list[NameOrIndex]
    facet_values_or_threshold: Annotated[list[Scalar], BeforeValidator(_listed)] | None = None
    group_name: Text | None = None


class PredictedLabelConfig(_Strict):
    """The original solution's ``model_predicted_label_config`` (``ModelPredictedLabelConfig``)."""

    label: NameOrIndex | None = None
    probability: NameOrIndex | None = None
    probability_threshold: Fraction | None = None
    label_headers: list[Text] | None = None


class ShapConfig(_Strict):
    """The original solution's ``shap_config`` (``SHAPConfig``): a baseline, or num_clusters for Clarify to make one.

    ``baseline``: rows, an ``s3://`` URI, or a key in the installation's assets bucket.
    """

    baseline: list[list[Scalar]] | Text | None = None
    num_samples: Annotated[int, Between(1, 100_000)] | None = None
    agg_method: Annotated[str, OneOf("mean_abs", "median", "mean_sq")] = "mean_abs"
    use_logit: Flag = False
    save_local_shap_values: Flag = True
    seed: int | None = None
    num_clusters: Annotated[int, Between(1, 10_000)] | None = None

    @field_validator("baseline", mode="after")
    @classmethod
    def _baseline_location(cls, value: Any, info: ValidationInfo) -> Any:
        """A baseline given as text is an S3 object: an ``s3://`` URI as given, else (as in the
        original solution) a key in the installation's assets bucket."""
        if not isinstance(value, str) or value.startswith("s3://"):
            return value
        if "://" in value:
            raise fail(f"{value!r} is not an S3 location: give s3://bucket/key or a key in the assets bucket")
        assets = (info.context or {}).get("assets_bucket")
        key = asset_key(value, info)
        return f"s3://{assets}/{key}" if assets else value

    @model_validator(mode="after")
    def _baseline_or_clusters(self) -> ShapConfig:
        if (self.baseline is None) == (self.num_clusters is None):
            raise fail("give baseline (rows or an S3 URI) or num_clusters (Clarify computes a baseline), one of them")
        return self


BiasSettings = Annotated[BiasConfig, BeforeValidator(json_object)]
PredictedLabelSettings = Annotated[PredictedLabelConfig, BeforeValidator(json_object)]


def _scores(value: Any) -> Any:
    # The SDK takes an index or JMESPath expression, or a ModelPredictedLabelConfig; the
    # former means the same as a config with only ``label``, so one form is kept.
    if isinstance(value, str):
        try:
            value = embedded_json(value)
        except NotJson:
            return {"label": value}
    if isinstance(value, int | str) and not isinstance(value, bool):
        return {"label": value}
    if not isinstance(value, dict):
        raise fail("must be an index, a JMESPath expression or an object (label, probability, label_headers)")
    return value


# ``model_scores`` of an explainability monitor: where the scores are in the endpoint's output.
ModelScores = Annotated[PredictedLabelConfig, BeforeValidator(_scores)]
ShapSettings = Annotated[ShapConfig, BeforeValidator(json_object)]
