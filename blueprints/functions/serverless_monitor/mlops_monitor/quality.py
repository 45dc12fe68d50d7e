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

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import stats
from .baseline import Baseline, Feature, bin_index, parse_number
from .capture import Counts, Record

DEFAULT_ALPHA = 0.01
COMPLETENESS_TOLERANCE = 0.02
SHOWN_VALUES = 5


@dataclass
class _Window:
    present: int = 0
    missing: int = 0
    mismatched: int = 0
    bins: list[int] = field(default_factory=list)
    values: Counter[str] = field(default_factory=Counter)


def analyse(
    baseline: Baseline, records: Iterable[Record], counts: Counts, alpha: float = DEFAULT_ALPHA
) -> dict[str, Any]:
    features = baseline.features
    width = len(features)
    windows = [_Window(bins=[0] * (len(f.edges) + 1)) for f in features]
    used = 0
    for record in records:
        if record.features is None:
            continue
        if len(record.features) != width:
            counts.bad(f"{len(record.features)} columns where the baseline has {width}")
            continue
        used += 1
        for feature, window, text in zip(features, windows, record.features, strict=True):
            text = text.strip()
            if not text:
                window.missing += 1
                continue
            window.present += 1
            if feature.numeric:
                value = parse_number(text)
                if value is None:
                    window.mismatched += 1
                    window.values[text] += 1
                else:
                    window.bins[bin_index(feature.edges, value)] += 1
            else:
                window.values[text] += 1

    report: dict[str, Any] = {
        "records": used,
        "lines": counts.lines,
        "malformed": counts.malformed,
        "malformed_reasons": dict(counts.reasons),
        "alpha": alpha,
        "features": {},
        "violations": [],
    }
    if not used:
        report["status"] = "no_data"
        report["message"] = "no usable captured record in this window"
        return report

    tested = [i for i, w in enumerate(windows) if w.present and (features[i].counts or features[i].frequencies)]
    per_test = alpha / max(len(tested), 1)
    report["per_test_alpha"] = per_test
    for i, (feature, window) in enumerate(zip(features, windows, strict=True)):
        summary, found = _check(feature, window, per_test if i in tested else None)
        report["features"][feature.name] = summary
        report["violations"].extend(found)
    report["status"] = "violations" if report["violations"] else "ok"
    return report


def _check(feature: Feature, window: _Window, per_test: float | None) -> tuple[dict[str, Any], list[dict[str, str]]]:
    total = window.present + window.missing
    completeness = window.present / total if total else 1.0
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
        summary["type_mismatches"] = window.mismatched
        if window.mismatched:
            examples = ", ".join(repr(v) for v, _ in window.values.most_common(SHOWN_VALUES))
            violation("data_type_check", f"{window.mismatched} values are not numbers (e.g. {examples})")
        if per_test is not None and any(window.bins):
            statistic = stats.ks_statistic(feature.counts, window.bins)
            p_value = stats.ks_pvalue(statistic, sum(feature.counts), sum(window.bins))
            summary["drift"] = {"test": "ks", "statistic": statistic, "p_value": p_value}
            if p_value < per_test:
                violation(
                    "baseline_drift_check",
                    f"distribution differs from the baseline (KS statistic {statistic:.4f}, "
                    f"p={p_value:.3g} < {per_test:.3g})",
                )
    else:
        unseen = {v: c for v, c in window.values.items() if v not in feature.frequencies}
        summary["unseen_values"] = sum(unseen.values())
        if unseen:
            shown = ", ".join(repr(v) for v in sorted(unseen)[:SHOWN_VALUES])
            violation("categorical_values_check", f"{sum(unseen.values())} values not in the baseline: {shown}")
        if per_test is not None:
            categories = sorted(set(feature.frequencies) | set(window.values))
            statistic, dof = stats.chi_square_homogeneity(
                [feature.frequencies.get(c, 0) for c in categories], [window.values.get(c, 0) for c in categories]
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
