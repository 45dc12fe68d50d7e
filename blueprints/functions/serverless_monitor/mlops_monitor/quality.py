"""Data quality and drift of one window of captured requests, against a baseline.

Streams records once, keeping per-feature counters only, so memory does not grow with the
window. Checks, named as Model Monitor names them:

- ``completeness_check``: a feature's share of present values fell more than
  ``COMPLETENESS_TOLERANCE`` below the baseline's;
- ``data_type_check``: a numeric feature received values that are not numbers;
- ``categorical_values_check``: a string feature received values the baseline never had;
- ``baseline_drift_check``: the window's distribution differs from the baseline's. Numeric
  features: two-sample Kolmogorov-Smirnov on the baseline's histogram bins; string features:
  chi-square test of homogeneity. With k features tested, each test uses alpha / k
  (Bonferroni), so the chance that a window from the baseline's own distribution raises any
  drift violation is at most ``alpha`` (default 0.01).

A window with no usable record is ``no_data``, not a violation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import stats
from .baseline import Baseline, Feature
from .capture import Counts, Record
from .partial import Partial

DEFAULT_ALPHA = 0.01
COMPLETENESS_TOLERANCE = 0.02
SHOWN_VALUES = 5
SHOWN_CATEGORIES = 30  # most frequent categories kept in a report's frequencies; the test uses all


def analyse(
    baseline: Baseline, records: Iterable[Record], counts: Counts, alpha: float = DEFAULT_ALPHA
) -> dict[str, Any]:
    """One pass over ``records``: count them, then check the counts."""
    return check(baseline, Partial(baseline, counts).add(records), alpha)


def no_data_reason(counts: Counts, records: int = 0) -> str:
    """Why a window had no usable record, in words that say what to fix."""
    if not counts.lines:
        return "no record was checked: no captured line in this window (no capture object, or only empty ones)"
    reasons = sorted(counts.reasons.items(), key=lambda item: -item[1])
    top, many = reasons[0] if reasons else ("", 0)
    if top.startswith("not a capture"):
        why = (
            f"{many} of {counts.lines} lines are not SageMaker data-capture JSON "
            "(capture is JSON Lines with captureData.endpointInput; plain CSV is not capture)"
        )
    elif "columns where the baseline has" in top:
        why = (
            f"{many} of {counts.lines} records have {top}: the baseline CSV must hold the model's input "
            "columns only, in the capture's order (no label or prediction column)"
        )
    elif top:
        why = f"{many} of {counts.lines} lines were unusable ({top})"
    else:
        why = f"none of the {counts.lines} captured lines carried input data"
    return f"no record was checked: {why}"


def check(baseline: Baseline, window: Partial, alpha: float = DEFAULT_ALPHA) -> dict[str, Any]:
    """The report on a window's counts (one pass, or merged slices: the same counts, the same report)."""
    counts, features = window.counts, baseline.features
    report: dict[str, Any] = {
        "records": window.records,
        "lines": counts.lines,
        "malformed": counts.malformed,
        "malformed_reasons": dict(counts.reasons),
        "alpha": alpha,
        "features": {},
        "violations": [],
    }
    if not window.records:
        report["status"] = "no_data"
        report["message"] = no_data_reason(counts)
        return report

    present = [window.present_missing(i)[0] for i in range(len(features))]
    tested = [i for i, f in enumerate(features) if present[i] and (f.counts or f.frequencies)]
    per_test = alpha / max(len(tested), 1)
    report["per_test_alpha"] = per_test
    for i, feature in enumerate(features):
        summary, found = _check(feature, window, i, per_test if i in tested else None)
        report["features"][feature.name] = summary
        report["violations"].extend(found)
    report["status"] = "violations" if report["violations"] else "ok"
    return report


def _check(
    feature: Feature, window: Partial, i: int, per_test: float | None
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    present, missing = window.present_missing(i)
    values = window.values(i)
    total = present + missing
    completeness = present / total if total else 1.0
    summary: dict[str, Any] = {"inferred_type": feature.inferred_type, "completeness": completeness}
    found: list[dict[str, str]] = []

    def violation(kind: str, description: str) -> None:
        found.append({"feature_name": feature.name, "constraint_check_type": kind, "description": description})

    if completeness < feature.completeness - COMPLETENESS_TOLERANCE:
        violation(
            "completeness_check",
            f"{completeness:.3f} of values present, baseline {feature.completeness:.3f}",
        )
    if feature.numeric:
        mismatched, bins = window.mismatched[i], window.bins[i]
        summary["type_mismatches"] = mismatched
        summary["histogram"] = {"edges": feature.edges, "baseline": feature.counts, "window": bins}
        if mismatched:
            examples = ", ".join(repr(v) for v, _ in values.most_common(SHOWN_VALUES))
            violation("data_type_check", f"{mismatched} values are not numbers (e.g. {examples})")
        if per_test is not None and any(bins):
            statistic = stats.ks_statistic(feature.counts, bins)
            p_value = stats.ks_pvalue(statistic, sum(feature.counts), sum(bins))
            summary["drift"] = {"test": "ks", "statistic": statistic, "p_value": p_value}
            if p_value < per_test:
                violation(
                    "baseline_drift_check",
                    f"distribution differs from the baseline (KS statistic {statistic:.4f}, "
                    f"p={p_value:.3g} < {per_test:.3g})",
                )
    else:
        unseen = {v: c for v, c in values.items() if v not in feature.frequencies}
        base = feature.frequencies
        shown = sorted(set(base) | set(values), key=lambda v: (-base.get(v, 0), -values[v], v))
        summary["frequencies"] = {
            "baseline": {v: feature.frequencies.get(v, 0) for v in shown[:SHOWN_CATEGORIES]},
            "window": {v: values[v] for v in shown[:SHOWN_CATEGORIES]},
            "categories": len(shown),
        }
        summary["unseen_values"] = sum(unseen.values())
        if unseen:
            examples = ", ".join(repr(v) for v in sorted(unseen)[:SHOWN_VALUES])
            violation("categorical_values_check", f"{sum(unseen.values())} values not in the baseline: {examples}")
        if per_test is not None:
            categories = sorted(set(feature.frequencies) | set(values))
            statistic, dof = stats.chi_square_homogeneity(
                [feature.frequencies.get(c, 0) for c in categories], [values.get(c, 0) for c in categories]
            )
            p_value = stats.chi_square_pvalue(statistic, dof)
            summary["drift"] = {"test": "chi_square", "statistic": statistic, "dof": dof, "p_value": p_value}
            if p_value < per_test:
                violation(
                    "baseline_drift_check",
                    f"category frequencies differ from the baseline (chi-square {statistic:.2f}, "
                    f"{dof} dof, p={p_value:.3g} < {per_test:.3g})",
                )
    return summary, found
