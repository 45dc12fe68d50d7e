"""`mlops drift`: reports as JSON; exit 0 without violations, 1 with, 2 on bad input."""

from __future__ import annotations

import json
import random
from pathlib import Path

from click.testing import CliRunner

from mlops_cli.main import cli
from tests.unit.monitor.synthetic import baseline_csv, capture_line, row, window


def files(tmp_path: Path, capture: list[str]) -> tuple[str, str]:
    base = tmp_path / "baseline.csv"
    base.write_text(baseline_csv(rows=3_000))
    cap = tmp_path / "capture" / "AllTraffic" / "2026" / "11" / "21" / "10"
    cap.mkdir(parents=True)
    (cap / "part-0.jsonl").write_text("\n".join(capture) + "\n")
    return str(base), str(tmp_path / "capture")


def test_a_clean_window_exits_0(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["drift", *files(tmp_path, window(1))])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["status"] == "ok" and report["records"] == 1_000


def test_a_drifted_window_exits_1_and_names_the_feature(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["drift", *files(tmp_path, window(2, mean_shift={7: 1.0}))])
    assert result.exit_code == 1
    assert "x7" in {v["feature_name"] for v in json.loads(result.output)["violations"]}


def test_bad_input_exits_2(tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["drift", str(tmp_path / "missing.csv"), str(tmp_path)]).exit_code == 2
    base, cap = files(tmp_path, window(3, rows=10))
    assert CliRunner().invoke(cli, ["drift", base, cap, "--ground-truth", cap]).exit_code == 2


def test_ground_truth_is_joined_by_inference_id(tmp_path: Path) -> None:
    rng = random.Random(4)
    lines, truth = [], []
    for i in range(300):
        label = i % 2
        score = 0.8 if label else 0.3
        if i % 10 == 0:
            score = 1 - score  # one in ten wrong
        line = capture_line(row(rng), rng, output=str(score))
        lines.append(line)
        event_id = json.loads(line)["eventMetadata"]["eventId"]
        truth.append(json.dumps({"groundTruthData": {"data": str(label), "encoding": "CSV"},
                                 "eventMetadata": {"eventId": event_id}, "eventVersion": "0"}))  # fmt: skip
    truth.append(json.dumps({"groundTruthData": {"data": "1"}, "eventMetadata": {"eventId": "no-such-id"}}))
    base, cap = files(tmp_path, lines)
    (tmp_path / "truth.jsonl").write_text("\n".join(truth) + "\nnot json\n")
    result = CliRunner().invoke(
        cli,
        ["drift", base, cap, "--ground-truth", str(tmp_path / "truth.jsonl"), "--problem-type", "BinaryClassification"],
    )
    quality = json.loads(result.output)["model_quality"]
    assert quality["joined"] == 300 and quality["unmatched_ground_truth"] == 1 and quality["malformed"] == 1
    assert quality["metrics"]["accuracy"] == 0.9
