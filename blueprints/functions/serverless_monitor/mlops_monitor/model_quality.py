"""Model quality: captured predictions joined with ground truth by inference id.

Memory grows with the number of captured predictions in the window (one id and one short
string each), unlike data quality, which streams in constant memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from . import metrics
from .capture import Counts, Record

PROBLEM_TYPES = ("BinaryClassification", "MulticlassClassification", "Regression")


class Predictions:
    """Passes records through while remembering each one's output, for the later join."""

    def __init__(self, records: Iterable[Record]) -> None:
        self._records = records
        self.outputs: dict[str, str] = {}

    def __iter__(self) -> Iterator[Record]:
        for record in self._records:
            if record.output is not None:
                self.outputs[record.inference_id] = record.output.strip().split(",")[0]
            yield record


def evaluate(
    outputs: dict[str, str],
    truths: Iterable[tuple[str, str]],
    problem_type: str,
    counts: Counts,
    threshold: float = 0.5,
) -> dict[str, Any]:
    if problem_type not in PROBLEM_TYPES:
        raise ValueError(f"problem type must be one of {', '.join(PROBLEM_TYPES)}")
    predicted: list[Any] = []
    actual: list[Any] = []
    scores: list[float] = []
    unmatched = 0
    for identifier, label in truths:
        output = outputs.get(identifier)
        if output is None:
            unmatched += 1
            continue
        try:
            if problem_type == "BinaryClassification":
                score = float(output)
                actual.append(int(float(label)))
                scores.append(score)
                predicted.append(int(score >= threshold))
            elif problem_type == "Regression":
                actual.append(float(label))
                predicted.append(float(output))
            else:
                actual.append(label)
                predicted.append(output)
        except ValueError:
            counts.bad("prediction or label is not a number")
    result: dict[str, Any] = {"problem_type": problem_type, "joined": len(actual), "unmatched_ground_truth": unmatched}
    if not actual:
        result["status"] = "no_data"
        return result
    if problem_type == "BinaryClassification":
        result["metrics"] = metrics.binary(actual, predicted, scores)
    elif problem_type == "Regression":
        result["metrics"] = metrics.regression(actual, predicted)
    else:
        result["metrics"] = metrics.multiclass(actual, predicted)
    result["status"] = "ok"
    return result


# Metrics where lower is better; for every other metric higher is better.
LOWER_IS_BETTER = {"mae", "rmse", "mse"}


def baseline_metrics(
    lines: Iterable[str],
    problem_type: str,
    label: str,
    prediction: str,
    probability: str = "",
    threshold: float = 0.5,
) -> dict[str, Any]:
    """The model's metrics on a baseline CSV whose header names the label and prediction columns."""
    import csv

    reader = csv.DictReader(lines)
    columns = reader.fieldnames or []
    wanted = [c for c in (label, prediction, probability) if c]
    absent = [c for c in wanted if c not in columns]
    if absent:
        raise ValueError(f"the baseline CSV has no column {', '.join(absent)}; its header is {', '.join(columns)}")
    score_column = probability if problem_type == "BinaryClassification" and probability else prediction
    outputs: dict[str, str] = {}
    truths: list[tuple[str, str]] = []
    for number, row in enumerate(reader):
        outputs[str(number)] = row[score_column]
        truths.append((str(number), row[label]))
    return evaluate(outputs, truths, problem_type, Counts(), threshold)


def constraints(baseline: dict[str, Any]) -> dict[str, Any]:
    """Thresholds at the baseline's own values, compared as SageMaker Model Monitor does."""
    return {
        name: {
            "threshold": value,
            "comparison_operator": "GreaterThanThreshold" if name in LOWER_IS_BETTER else "LessThanThreshold",
        }
        for name, value in sorted(baseline.get("metrics", {}).items())
    }


def violations(current: dict[str, Any], limits: dict[str, Any]) -> list[dict[str, str]]:
    """Each metric of ``current`` on the wrong side of its threshold."""
    found = []
    for name, value in sorted(current.get("metrics", {}).items()):
        limit = limits.get(name)
        if limit is None:
            continue
        worse = (
            value > limit["threshold"]
            if limit["comparison_operator"] == "GreaterThanThreshold"
            else (value < limit["threshold"])
        )
        if worse:
            found.append(
                {
                    "feature_name": name,
                    "constraint_check_type": "model_quality_check",
                    "description": f"{name} is {value:.6g}; the baseline's is {limit['threshold']:.6g}",
                }
            )
    return found
