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


def test_a_window_where_no_record_was_checked_exits_3_and_says_why(tmp_path: Path) -> None:
    base = tmp_path / "baseline.csv"
    # One more column than the capture: the label put first, as a Clarify baseline has it.
    base.write_text("\n".join("1," + ",".join(row(random.Random(i))) for i in range(500)) + "\n")
    capture = tmp_path / "capture"
    capture.mkdir()
    (capture / "part.jsonl").write_text("\n".join(window(5, rows=50)) + "\n")
    result = CliRunner().invoke(cli, ["drift", str(base), str(capture)])
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["status"] == "no_data" and report["records"] == 0
    assert "50 of 50 records have 15 columns where the baseline has 16" in report["message"]
    assert "input columns only" in result.stderr


def test_an_empty_capture_directory_exits_3(tmp_path: Path) -> None:
    base, _ = files(tmp_path, [])
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(cli, ["drift", base, str(empty)])
    assert result.exit_code == 3
    assert "no captured line" in json.loads(result.stdout)["message"]
    assert CliRunner().invoke(cli, ["drift", base, str(empty), "--allow-no-data"]).exit_code == 0


def test_plain_csv_capture_exits_3_naming_the_format(tmp_path: Path) -> None:
    base, _ = files(tmp_path, [])
    plain = tmp_path / "rows.csv"
    plain.write_text("\n".join(",".join(row(random.Random(i))) for i in range(20)) + "\n")
    result = CliRunner().invoke(cli, ["drift", base, str(plain)])
    assert result.exit_code == 3
    message = json.loads(result.stdout)["message"]
    assert "20 of 20 lines are not SageMaker data-capture JSON" in message and "plain CSV" in message


PEAK = """
import resource, sys
from mlops_cli.main import cli
try:
    cli.main(["drift", *sys.argv[1:]], standalone_mode=False)
except SystemExit:
    pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)
"""


def test_the_cli_streams_peak_memory_does_not_grow_with_the_window(tmp_path: Path) -> None:
    """100k records (about 45 MiB of capture) take no more memory than 5k do."""
    import subprocess
    import sys

    base, _ = files(tmp_path, [])
    chunk = "\n".join(window(6, rows=5_000)) + "\n"
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    small.write_text(chunk)
    large.write_text(chunk * 20)
    peaks = {}
    for path in (small, large):
        done = subprocess.run([sys.executable, "-c", PEAK, base, str(path)], capture_output=True, text=True, check=True)
        assert json.loads(done.stdout)["records"] == (5_000 if path == small else 100_000)
        peaks[path.name] = int(done.stderr.strip().splitlines()[-1])
    assert peaks["large.jsonl"] - peaks["small.jsonl"] < 10, peaks
