"""Slices of a window counted apart and merged give exactly the one-pass report, for any split.

This is what lets the serverless monitor fan out over an hour's capture objects: each worker
returns a slice's counts as JSON, and the reduce step's report must not depend on the split.
"""

from __future__ import annotations

import itertools
import json
import random
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_monitor import baseline as baseline_module
from mlops_monitor import partial, quality
from tests.unit.monitor.synthetic import CATEGORIES, baseline_csv, capture_line, row, window


@cache
def baseline() -> baseline_module.Baseline:
    return baseline_module.from_text(baseline_csv(rows=2_000))


@cache
def lines() -> list[str]:
    """A window with every kind of line the counts distinguish."""
    rng = random.Random(7)
    found = window(8, rows=300, mean_shift={3: 0.4})
    odd = [
        "not json",
        "",
        json.dumps({"captureData": {}}),
        capture_line(["1", "2"], rng),
        capture_line([" 3 ", "", "x", "nan", "inf", *row(rng)[5:10], " a", "", "new", "yes ", "north"], rng),
        _base64(capture_line(row(rng), rng)),
    ]
    for i, line in enumerate(odd):
        found.insert(37 * (i + 1), line)
    return found


def _base64(line: str) -> str:
    import base64

    event = json.loads(line)
    payload = event["captureData"]["endpointInput"]
    payload["data"], payload["encoding"] = base64.b64encode(payload["data"].encode()).decode(), "BASE64"
    return json.dumps(event)


def one_pass() -> dict:
    return quality.check(baseline(), partial.Partial(baseline()).add_lines(lines()))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=306), max_size=12), st.randoms(use_true_random=False))
def test_merged_slices_equal_one_pass(cuts: list[int], rng: random.Random) -> None:
    everything = lines()
    bounds = [0, *sorted(cuts), len(everything)]
    slices = [everything[a:b] for a, b in itertools.pairwise(bounds)]
    rng.shuffle(slices)  # the reduce step merges in whatever order the workers finish
    documents = [json.loads(json.dumps(partial.Partial(baseline()).add_lines(s).to_json())) for s in slices]
    merged = partial.Partial(baseline())
    for document in documents:
        merged.merge(partial.Partial.from_json(baseline(), document))
    assert quality.check(baseline(), merged) == one_pass()


def test_the_one_pass_report_sees_the_odd_lines() -> None:
    """The property above is only worth something if the window exercises every count."""
    report = one_pass()
    assert report["records"] == 302 and report["malformed"] == 3
    features = report["features"]
    assert features["x1"]["completeness"] < 1 and features["c1"]["completeness"] < 1
    assert [features[f"x{i}"]["type_mismatches"] for i in range(5)] == [0, 0, 1, 1, 1]
    assert features["c2"]["unseen_values"] == 1 and features["c0"]["unseen_values"] == 0
    assert "x3" in {v["feature_name"] for v in report["violations"]}


def test_a_slice_of_another_baseline_is_refused() -> None:
    other = baseline_module.from_text(baseline_csv(seed=2, rows=500))
    document = partial.Partial(other).add_lines(window(1, rows=10)).to_json()
    try:
        partial.Partial(baseline()).merge(partial.Partial.from_json(other, document))
    except ValueError as exc:
        assert "different baselines" in str(exc)
    else:
        raise AssertionError("merged slices of different baselines")


def _goodness_of_fit_p(frequencies: dict[str, int], window_counts: dict[str, int]) -> float:
    """The one-sample chi-square that treats the baseline's proportions as exact (Evidently's "chisquare")."""
    from mlops_monitor import stats

    total_b, total_w = sum(frequencies.values()), sum(window_counts.values())
    statistic = sum(
        (window_counts.get(c, 0) - total_w * f / total_b) ** 2 / (total_w * f / total_b) for c, f in frequencies.items()
    )
    return stats.chi_square_pvalue(statistic, len(frequencies) - 1)


def test_clean_windows_larger_than_the_baseline_do_not_alarm_on_categories() -> None:
    """A window ten times the baseline's size, drawn from the baseline's own distribution.

    A goodness-of-fit test ignores the baseline's sampling error and flags most such windows; the
    two-sample test of homogeneity that we run counts both samples' error and stays quiet.
    """
    small = baseline_module.from_text(baseline_csv(seed=3, rows=1_000))
    ours = theirs = 0
    for seed in range(12):
        rng = random.Random(100 + seed)
        report = quality.check(small, partial.Partial(small).add_rows(row(rng) for _ in range(10_000)))
        per_test = report["per_test_alpha"]
        ours += any(
            v["constraint_check_type"] == "baseline_drift_check" and v["feature_name"].startswith("c")
            for v in report["violations"]
        )
        for i in range(len(CATEGORIES)):
            name = f"c{i}"
            feature = next(f for f in small.features if f.name == name)
            window_counts = report["features"][name]["frequencies"]["window"]
            if _goodness_of_fit_p(feature.frequencies, window_counts) < per_test:
                theirs += 1
                break
    assert ours <= 1, ours
    assert theirs >= 6, theirs
