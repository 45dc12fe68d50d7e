"""Monitor benchmarks, each run in its own process so peak memory is the analysis's own.

``python -m mlops_dev.bench_monitor data-quality FILE`` and ``... model-quality N`` print JSON.
"""

from __future__ import annotations

import json
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_capture(path: Path, size: int) -> None:
    """Synthetic capture (the tests' generator) until the file reaches ``size`` bytes."""
    sys.path.insert(0, str(ROOT))
    from tests.unit.monitor.synthetic import window

    path.parent.mkdir(parents=True, exist_ok=True)
    written, seed = 0, 0
    with path.open("w") as out:
        while written < size:
            chunk = "\n".join(window(seed, rows=5_000)) + "\n"
            out.write(chunk)
            written += len(chunk)
            seed += 1


def data_quality(path: Path) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from mlops_monitor import baseline, capture, quality
    from tests.unit.monitor.synthetic import baseline_csv

    built = baseline.from_text(baseline_csv())
    counts = capture.Counts()
    start = time.perf_counter()
    with path.open() as lines:
        report = quality.analyse(built, capture.records(lines, counts), counts)
    seconds = time.perf_counter() - start
    return {
        "records": report["records"],
        "mib": path.stat().st_size / 2**20,
        "seconds": seconds,
        "records_per_second": report["records"] / seconds,
        "peak_mib": _peak_mib(),
    }


def model_quality(n: int) -> dict[str, float]:
    from mlops_monitor import capture
    from mlops_monitor import model_quality as mq

    rng = random.Random(1)
    before = _peak_mib()
    outputs = (
        json.dumps(
            {
                "captureData": {"endpointOutput": {"data": f"{rng.random():.4f}"}},
                "eventMetadata": {"eventId": f"{i:036d}"},
            }
        )
        for i in range(n)
    )
    truths = (
        json.dumps({"groundTruthData": {"data": str(i % 2)}, "eventMetadata": {"eventId": f"{i:036d}"}})
        for i in range(n)
    )
    counts = capture.Counts()
    predictions = mq.Predictions(capture.records(outputs, counts))
    for _ in predictions:
        pass
    result = mq.evaluate(
        predictions.outputs, capture.ground_truth(truths, capture.Counts()), "BinaryClassification", counts
    )
    peak = _peak_mib()
    return {"labelled": result["joined"], "peak_mib": peak, "bytes_per_labelled_record": (peak - before) * 2**20 / n}


if __name__ == "__main__":
    kind, arg = sys.argv[1], sys.argv[2]
    print(json.dumps(data_quality(Path(arg)) if kind == "data-quality" else model_quality(int(arg))))
