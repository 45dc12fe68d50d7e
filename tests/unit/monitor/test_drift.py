"""Drift and data quality on seeded synthetic windows, through the real capture reader."""

from __future__ import annotations

import json
from functools import cache

import pytest

from mlops_monitor import baseline as baseline_module
from mlops_monitor import capture, quality
from tests.unit.monitor.synthetic import CATEGORIES, baseline_csv, capture_line, shifted, window

WINDOWS = 200


@cache
def baseline() -> baseline_module.Baseline:
    return baseline_module.from_text(baseline_csv())


def analyse(lines: list[str]) -> dict:
    counts = capture.Counts()
    return quality.analyse(baseline(), capture.records(lines, counts), counts)


def drifted(report: dict) -> set[str]:
    return {v["feature_name"] for v in report["violations"] if v["constraint_check_type"] == "baseline_drift_check"}


def test_the_baseline_infers_types_and_reads_the_header() -> None:
    built = baseline()
    assert built.has_header and built.item_count == 10_000
    types = {f.name: f.inferred_type for f in built.features}
    assert types["x0"] == "Integral" and types["x5"] == "Fractional" and types["c0"] == "String"
    statistics = built.statistics()
    c0 = next(f for f in statistics["features"] if f["name"] == "c0")
    assert {b["value"] for b in c0["string_statistics"]["distribution"]["categorical"]["buckets"]} == set(CATEGORIES[0])
    assert built.constraints()["features"][0]["completeness"] == 1.0


def test_a_headerless_baseline_names_columns_by_position() -> None:
    built = baseline_module.from_text(baseline_csv(rows=200, header=False))
    assert not built.has_header and [f.name for f in built.features][:2] == ["_c0", "_c1"]


def test_windows_from_the_baseline_distribution_rarely_alarm() -> None:
    alarms = 0
    for seed in range(WINDOWS):
        report = analyse(window(1_000 + seed))
        assert report["status"] in ("ok", "violations")
        assert {v["constraint_check_type"] for v in report["violations"]} <= {"baseline_drift_check"}
        alarms += bool(report["violations"])
    assert alarms <= 6


def test_a_half_deviation_mean_shift_is_flagged_and_named() -> None:
    flagged = sum("x4" in drifted(analyse(window(5_000 + seed, mean_shift={4: 0.5}))) for seed in range(WINDOWS))
    assert flagged >= 190


def test_a_twenty_point_category_shift_is_flagged_and_named() -> None:
    categories = [shifted(CATEGORIES[0], "a", 0.20), *CATEGORIES[1:]]
    flagged = sum("c0" in drifted(analyse(window(9_000 + seed, categories=categories))) for seed in range(WINDOWS))
    assert flagged >= 190


def test_malformed_lines_are_counted_not_fatal() -> None:
    import random

    rng = random.Random(3)
    good = window(7, rows=50)
    bad = [
        "not json at all",
        json.dumps({"eventMetadata": {"eventId": "x"}}),
        json.dumps({"captureData": {"endpointInput": {"data": "1,2,3"}}, "eventMetadata": {"eventId": "y"}}),
        capture_line(["1", "2"], rng),
        "",
    ]
    report = analyse(good + bad)
    assert report["records"] == 50
    assert report["malformed"] == 4
    assert report["malformed_reasons"]["not a capture record"] == 2
    assert report["malformed_reasons"]["3 columns where the baseline has 15"] == 1
    assert report["malformed_reasons"]["2 columns where the baseline has 15"] == 1


def test_an_empty_window_is_no_data_not_a_violation() -> None:
    report = analyse([])
    assert report["status"] == "no_data" and report["violations"] == []
    assert analyse(["garbage"])["status"] == "no_data"


def test_missing_values_wrong_types_and_unseen_categories_are_named() -> None:
    import random

    rng = random.Random(11)
    lines = []
    for i in range(500):
        cells = window(20_000 + i, rows=1)[0]
        data = json.loads(cells)["captureData"]["endpointInput"]["data"].split(",")
        if i % 5 == 0:
            data[2] = ""  # 20% missing in x2
        if i % 50 == 0:
            data[3] = "n/a"  # a non-number in x3
        if i % 25 == 0:
            data[11] = "purple"  # a colour the baseline never saw in c1
        lines.append(capture_line(data, rng))
    kinds = {(v["feature_name"], v["constraint_check_type"]) for v in analyse(lines)["violations"]}
    assert ("x2", "completeness_check") in kinds
    assert ("x3", "data_type_check") in kinds
    assert ("c1", "categorical_values_check") in kinds


@pytest.mark.parametrize("encoding", ["CSV", "BASE64"])
def test_both_capture_encodings_are_read(encoding: str) -> None:
    import base64

    line = json.loads(window(1, rows=1)[0])
    if encoding == "BASE64":
        payload = line["captureData"]["endpointInput"]
        payload["data"] = base64.b64encode(payload["data"].encode()).decode()
        payload["encoding"] = "BASE64"
    assert analyse([json.dumps(line)])["records"] == 1
