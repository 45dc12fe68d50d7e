"""Mergeable counts of one slice of a window: what a data-quality check needs, and no more.

Per feature: values present and missing, for numbers the count in each of the baseline's
histogram bins plus the values that were not numbers, for strings the count of each value.
Every field is a count, so two slices add up to exactly what one pass over both would have
counted, in any split and any order. The serverless monitor's workers each return one
slice as JSON (:meth:`Partial.to_json`), and the reduce step merges them before the checks.

Records are taken in batches and each feature's column is counted with built-in
operations (``float`` over the column, ``bisect`` into the bins, ``Counter``), falling back
to one value at a time only for a batch whose column holds a blank or a non-number.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from itertools import islice
from typing import Any

from .baseline import Baseline, parse_number
from .capture import Counts, Record, inputs

BATCH = 512
FORMAT = 1  # of to_json(); a reduce step refuses slices it cannot read


class Partial:
    def __init__(self, baseline: Baseline, counts: Counts | None = None) -> None:
        features = baseline.features
        self.width = len(features)
        self.numeric = [f.numeric for f in features]
        self.edges = [list(f.edges) for f in features]
        self.counts = counts if counts is not None else Counts()
        self.records = 0
        self.present = [0] * self.width
        self.missing = [0] * self.width
        self.mismatched = [0] * self.width
        self.bins = [[0] * (len(f.edges) + 1) if f.numeric else [] for f in features]
        # Strings as captured (unstripped, blanks included): normalised by values() when read.
        self.raw: list[Counter[str]] = [Counter() for _ in features]

    # Counting -------------------------------------------------------------------------------

    def add(self, records: Iterable[Record]) -> Partial:
        """Count the input rows of ``records``."""
        return self.add_rows(record.features for record in records if record.features is not None)

    def add_lines(self, lines: Iterable[str | bytes]) -> Partial:
        """Count the input rows of capture ``lines`` (malformed lines counted in :attr:`counts`)."""
        return self.add_rows(inputs(lines, self.counts))

    def add_rows(self, rows: Iterable[list[str]]) -> Partial:
        """Count ``rows`` of cells; a row not of the baseline's width is counted as malformed."""
        width, counts = self.width, self.counts
        stream = iter(rows)
        while batch := list(islice(stream, BATCH)):
            usable = [cells for cells in batch if len(cells) == width]
            if len(usable) < len(batch):
                for cells in batch:
                    if len(cells) != width:
                        counts.bad(f"{len(cells)} columns where the baseline has {width}")
            if usable:
                self._add_rows(usable)
        return self

    def _add_rows(self, rows: list[list[str]]) -> None:
        self.records += len(rows)
        for i, column in enumerate(zip(*rows, strict=True)):
            if self.numeric[i]:
                self._add_numbers(i, column)
            else:
                self.raw[i].update(column)

    def _add_numbers(self, i: int, column: tuple[str, ...]) -> None:
        try:
            numbers = sorted(map(float, column))
        except ValueError:  # a blank or a non-number in this batch
            numbers = []
        if numbers and math.isfinite(numbers[0]) and math.isfinite(numbers[-1]) and not math.isnan(sum(numbers)):
            bins, previous = self.bins[i], 0
            for b, edge in enumerate(self.edges[i]):
                position = bisect_right(numbers, edge)
                bins[b] += position - previous
                previous = position
            bins[-1] += len(numbers) - previous
            self.present[i] += len(numbers)
            return
        bins, edges, values = self.bins[i], self.edges[i], self.raw[i]
        for text in column:
            text = text.strip()
            if not text:
                self.missing[i] += 1
                continue
            self.present[i] += 1
            value = parse_number(text)
            if value is None:
                self.mismatched[i] += 1
                values[text] += 1
            else:
                bins[_bin(edges, value)] += 1

    # Reading --------------------------------------------------------------------------------

    def values(self, i: int) -> Counter[str]:
        """Feature ``i``'s strings, stripped, blanks left out (numbers: the non-numbers)."""
        if self.numeric[i]:
            return self.raw[i]
        clean: Counter[str] = Counter()
        for text, count in self.raw[i].items():
            stripped = text.strip()
            if stripped:
                clean[stripped] += count
        return clean

    def present_missing(self, i: int) -> tuple[int, int]:
        if self.numeric[i]:
            return self.present[i], self.missing[i]
        blanks = sum(c for text, c in self.raw[i].items() if not text.strip())
        return sum(self.raw[i].values()) - blanks, blanks

    # Merging --------------------------------------------------------------------------------

    def merge(self, other: Partial) -> Partial:
        if other.width != self.width or other.edges != self.edges:
            raise ValueError("partial statistics of different baselines cannot be merged")
        self.counts.lines += other.counts.lines
        self.counts.malformed += other.counts.malformed
        for reason, count in other.counts.reasons.items():
            self.counts.reasons[reason] = self.counts.reasons.get(reason, 0) + count
        self.records += other.records
        for i in range(self.width):
            self.present[i] += other.present[i]
            self.missing[i] += other.missing[i]
            self.mismatched[i] += other.mismatched[i]
            self.bins[i] = [a + b for a, b in zip(self.bins[i], other.bins[i], strict=True)]
            self.raw[i].update(other.raw[i])
        return self

    def to_json(self) -> dict[str, Any]:
        features = []
        for i in range(self.width):
            present, missing = self.present_missing(i)
            entry: dict[str, Any] = {"present": present, "missing": missing, "values": dict(self.values(i))}
            if self.numeric[i]:
                entry |= {"mismatched": self.mismatched[i], "bins": self.bins[i]}
            features.append(entry)
        counts = {"lines": self.counts.lines, "malformed": self.counts.malformed, "reasons": self.counts.reasons}
        return {"format": FORMAT, "records": self.records, "counts": counts, "features": features}

    @classmethod
    def from_json(cls, baseline: Baseline, document: dict[str, Any]) -> Partial:
        if document.get("format") != FORMAT or len(document.get("features", [])) != len(baseline.features):
            raise ValueError("the partial statistics do not match this monitor's baseline or format")
        counts = document["counts"]
        partial = cls(baseline, Counts(counts["lines"], counts["malformed"], dict(counts["reasons"])))
        partial.records = document["records"]
        for i, entry in enumerate(document["features"]):
            if partial.numeric[i]:
                if len(entry["bins"]) != len(partial.bins[i]):
                    found, wanted = len(entry["bins"]), len(partial.bins[i])
                    raise ValueError(f"feature {i}: {found} bins where the baseline has {wanted}")
                partial.present[i], partial.missing[i] = entry["present"], entry["missing"]
                partial.mismatched[i], partial.bins[i] = entry["mismatched"], list(entry["bins"])
                partial.raw[i] = Counter(entry["values"])
            else:
                partial.raw[i] = Counter(entry["values"])
                if entry["missing"]:
                    partial.raw[i][""] += entry["missing"]
        return partial


def _bin(edges: list[float], value: float) -> int:
    """Bin i covers (edges[i-1], edges[i]]."""
    return bisect_left(edges, value)
