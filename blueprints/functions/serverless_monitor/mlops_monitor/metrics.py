"""Model-quality metrics, computed as scikit-learn defines them (tested against it to 1e-9).

Binary: accuracy, precision, recall, F1 (positive label ``1``) and ROC AUC from scores.
Multiclass: accuracy and support-weighted F1. Regression: MAE, RMSE and R².
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def binary(y_true: Sequence[int], y_pred: Sequence[int], scores: Sequence[float] | None = None) -> dict[str, float]:
    tp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == 1 and p == 1)
    fp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t != 1 and p == 1)
    fn = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == 1 and p != 1)
    correct = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == p)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    result = {
        "accuracy": _ratio(correct, len(y_true)),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }
    if scores is not None:
        result["auc"] = roc_auc(y_true, scores)
    return result


def roc_auc(y_true: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve: the Mann-Whitney statistic with tied scores ranked on average.

    Equal to the trapezoidal area scikit-learn computes; NaN when only one class is present.
    """
    positives = sum(1 for t in y_true if t == 1)
    negatives = len(y_true) - positives
    if not positives or not negatives:
        return math.nan
    order = sorted(range(len(scores)), key=scores.__getitem__)
    rank_sum = 0.0
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        average_rank = (i + j) / 2 + 1
        rank_sum += average_rank * sum(1 for k in order[i : j + 1] if y_true[k] == 1)
        i = j + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def multiclass(y_true: Sequence[Any], y_pred: Sequence[Any]) -> dict[str, float]:
    support = Counter(y_true)
    predicted = Counter(y_pred)
    hits = Counter(t for t, p in zip(y_true, y_pred, strict=True) if t == p)
    weighted = 0.0
    for label, count in support.items():
        # F1 of one class = 2 TP / (2 TP + FP + FN) = 2 TP / (predicted + actual)
        weighted += count * _ratio(2 * hits[label], predicted[label] + count)
    return {"accuracy": _ratio(sum(hits.values()), len(y_true)), "weighted_f1": _ratio(weighted, len(y_true))}


def regression(y_true: Sequence[float], y_pred: Sequence[float]) -> dict[str, float]:
    n = len(y_true)
    if not n:
        return {"mae": math.nan, "rmse": math.nan, "r2": math.nan}
    errors = [t - p for t, p in zip(y_true, y_pred, strict=True)]
    mean = math.fsum(y_true) / n
    residual = math.fsum(e * e for e in errors)
    total = math.fsum((t - mean) ** 2 for t in y_true)
    r2 = (1.0 - residual / total) if total else (1.0 if residual == 0 else 0.0)
    return {"mae": math.fsum(abs(e) for e in errors) / n, "rmse": math.sqrt(residual / n), "r2": r2}
