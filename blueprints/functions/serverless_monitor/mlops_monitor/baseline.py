"""Baseline statistics and constraints from a CSV, with or without a header row.

Per feature: the inferred type (Integral, Fractional or String, as Model Monitor names
them), completeness, for numbers a distribution sketch (a histogram over edges at the
baseline's quantiles, plus mean, deviation, min and max) and for strings the frequency of
each value. Large baselines are sampled (reservoir, seeded) for the sketch.
"""

from __future__ import annotations

import csv
import io
import math
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

BINS = 50
SAMPLE = 200_000


def parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _is_integral(text: str) -> bool:
    stripped = text.strip().lstrip("+-")
    return stripped.isdigit()


@dataclass
class Feature:
    name: str
    inferred_type: str  # Integral | Fractional | String
    present: int = 0
    missing: int = 0
    edges: list[float] = field(default_factory=list)  # numeric: histogram bin edges
    counts: list[int] = field(default_factory=list)  # numeric: len(edges) + 1 bins
    mean: float = 0.0
    std_dev: float = 0.0
    minimum: float = 0.0
    maximum: float = 0.0
    frequencies: dict[str, int] = field(default_factory=dict)  # String features

    @property
    def numeric(self) -> bool:
        return self.inferred_type != "String"

    @property
    def completeness(self) -> float:
        total = self.present + self.missing
        return self.present / total if total else 1.0


@dataclass
class Baseline:
    features: list[Feature]
    item_count: int
    has_header: bool

    def statistics(self) -> dict[str, Any]:
        """A ``statistics.json`` in Model Monitor's shape, with the histogram beside its KLL slot."""
        out = []
        for f in self.features:
            common = {"num_present": f.present, "num_missing": f.missing}
            if f.numeric:
                out.append(
                    {
                        "name": f.name,
                        "inferred_type": f.inferred_type,
                        "numerical_statistics": {
                            "common": common,
                            "mean": f.mean,
                            "std_dev": f.std_dev,
                            "min": f.minimum,
                            "max": f.maximum,
                            "distribution": {"histogram": {"edges": f.edges, "counts": f.counts}},
                        },
                    }
                )
            else:
                buckets = [{"value": v, "count": c} for v, c in sorted(f.frequencies.items())]
                out.append(
                    {
                        "name": f.name,
                        "inferred_type": f.inferred_type,
                        "string_statistics": {
                            "common": common,
                            "distinct_count": len(f.frequencies),
                            "distribution": {"categorical": {"buckets": buckets}},
                        },
                    }
                )
        dataset = {"item_count": self.item_count, "has_header": self.has_header}
        return {"version": 0.0, "dataset": dataset, "features": out}

    def constraints(self) -> dict[str, Any]:
        """A ``constraints.json`` in Model Monitor's shape."""
        features = []
        for f in self.features:
            entry: dict[str, Any] = {"name": f.name, "inferred_type": f.inferred_type, "completeness": f.completeness}
            if f.numeric:
                entry["num_constraints"] = {"is_non_negative": f.minimum >= 0}
            else:
                entry["string_constraints"] = {"domains": sorted(f.frequencies)}
            features.append(entry)
        return {
            "version": 0.0,
            "features": features,
            "monitoring_config": {
                "evaluate_constraints": "Enabled",
                "datatype_check_threshold": 1.0,
                "domain_content_threshold": 1.0,
                "distribution_constraints": {"perform_comparison": "Enabled", "comparison_method": "KS/chi-square"},
            },
        }


def _detect_header(first: list[str], second: list[str] | None) -> bool:
    if second is None:
        return False
    for a, b in zip(first, second, strict=False):
        if parse_number(a) is None and parse_number(b) is not None:
            return True
    return all(parse_number(a) is None for a in first) and any(parse_number(b) is not None for b in second)


def _quantile_edges(sample: list[float], bins: int) -> list[float]:
    ordered = sorted(sample)
    edges: list[float] = []
    for i in range(1, bins):
        edge = ordered[min(len(ordered) - 1, round(i * (len(ordered) - 1) / bins))]
        if not edges or edge > edges[-1]:
            edges.append(edge)
    return edges


def bin_index(edges: list[float], value: float) -> int:
    """Index of the bin holding ``value``: bin i covers (edges[i-1], edges[i]]."""
    low, high = 0, len(edges)
    while low < high:
        middle = (low + high) // 2
        if value <= edges[middle]:
            high = middle
        else:
            low = middle + 1
    return low


def build(lines: Iterable[str], header: bool | None = None, bins: int = BINS, seed: int = 0) -> Baseline:
    reader = csv.reader(lines)
    rows = iter(reader)
    first = next(rows, None)
    if first is None:
        raise ValueError("the baseline CSV is empty")
    second = next(rows, None)
    has_header = _detect_header(first, second) if header is None else header
    names = (
        [c.strip() or f"_c{i}" for i, c in enumerate(first)] if has_header else [f"_c{i}" for i in range(len(first))]
    )
    pending = ([] if has_header else [first]) + ([second] if second is not None else [])

    width = len(names)
    samples: list[list[float]] = [[] for _ in range(width)]
    strings: list[Counter[str]] = [Counter() for _ in range(width)]
    integral = [True] * width
    numeric = [True] * width
    missing = [0] * width
    present = [0] * width
    sums = [0.0] * width
    squares = [0.0] * width
    lows = [math.inf] * width
    highs = [-math.inf] * width
    rng = random.Random(seed)
    count = 0

    def rows_all() -> Iterable[list[str]]:
        yield from pending
        yield from rows

    for row in rows_all():
        if len(row) != width:
            continue
        count += 1
        for i, text in enumerate(row):
            text = text.strip()
            if not text:
                missing[i] += 1
                continue
            present[i] += 1
            strings[i][text] += 1
            value = parse_number(text) if numeric[i] else None
            if value is None:
                numeric[i] = False
                continue
            integral[i] = integral[i] and _is_integral(text)
            sums[i] += value
            squares[i] += value * value
            lows[i], highs[i] = min(lows[i], value), max(highs[i], value)
            sample = samples[i]
            if len(sample) < SAMPLE:
                sample.append(value)
            else:
                slot = rng.randrange(present[i])
                if slot < SAMPLE:
                    sample[slot] = value

    features = []
    for i, name in enumerate(names):
        feature = Feature(name, "String", present[i], missing[i])
        if numeric[i] and present[i]:
            feature.inferred_type = "Integral" if integral[i] else "Fractional"
            feature.edges = _quantile_edges(samples[i], bins)
            feature.counts = [0] * (len(feature.edges) + 1)
            for value in samples[i]:
                feature.counts[bin_index(feature.edges, value)] += 1
            feature.mean = sums[i] / present[i]
            feature.std_dev = math.sqrt(max(squares[i] / present[i] - feature.mean**2, 0.0))
            feature.minimum, feature.maximum = lows[i], highs[i]
        else:
            feature.frequencies = dict(strings[i])
        features.append(feature)
    return Baseline(features, count, has_header)


def from_text(text: str, **options: Any) -> Baseline:
    return build(io.StringIO(text), **options)


def from_statistics(statistics: dict[str, Any]) -> Baseline:
    """The baseline again, from the ``statistics.json`` that :meth:`Baseline.statistics` wrote."""
    features = []
    for entry in statistics["features"]:
        if "numerical_statistics" in entry:
            numbers = entry["numerical_statistics"]
            histogram = numbers["distribution"]["histogram"]
            features.append(
                Feature(
                    entry["name"],
                    entry["inferred_type"],
                    numbers["common"]["num_present"],
                    numbers["common"]["num_missing"],
                    list(histogram["edges"]),
                    list(histogram["counts"]),
                    numbers["mean"],
                    numbers["std_dev"],
                    numbers["min"],
                    numbers["max"],
                )
            )
        else:
            strings = entry["string_statistics"]
            buckets = strings["distribution"]["categorical"]["buckets"]
            features.append(
                Feature(
                    entry["name"],
                    "String",
                    strings["common"]["num_present"],
                    strings["common"]["num_missing"],
                    frequencies={b["value"]: b["count"] for b in buckets},
                )
            )
    dataset = statistics.get("dataset", {})
    return Baseline(features, int(dataset.get("item_count", 0)), bool(dataset.get("has_header", True)))
