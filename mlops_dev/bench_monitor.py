"""Monitor benchmarks, each run in its own process so peak memory is the analysis's own.

``python -m mlops_dev.bench_monitor data-quality FILE``, ``... cli BASELINE FILE`` and
``... model-quality N`` print JSON. Records per second are per CPU second of this process
(one core), as the machine is shared; wall seconds are given beside them.
"""

from __future__ import annotations

import itertools
import json
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

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
    """The library alone, as the Lambda runs it: lines streamed from a file into counts, then the checks."""
    sys.path.insert(0, str(ROOT))
    from mlops_monitor import baseline, partial, quality
    from tests.unit.monitor.synthetic import baseline_csv

    built = baseline.from_text(baseline_csv())
    start, cpu = time.perf_counter(), time.process_time()
    with path.open() as lines:
        report = quality.check(built, partial.Partial(built).add_lines(lines))
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    return {
        "records": report["records"],
        "mib": path.stat().st_size / 2**20,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "records_per_second": report["records"] / cpu_seconds,
        "peak_mib": _peak_mib(),
    }


def cli(baseline_csv: Path, capture: Path) -> dict[str, Any]:
    """``mlops drift BASELINE CAPTURE`` end to end, in this process: seconds and peak memory."""
    import contextlib
    import io

    from mlops_cli.main import cli as command

    out = io.StringIO()
    start, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        command.main(["drift", str(baseline_csv), str(capture)], standalone_mode=False)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    report = json.loads(out.getvalue())
    drifted = sorted({v["feature_name"] for v in report["violations"]})
    return {
        "records": report["records"],
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_mib": _peak_mib(),
        "drifted": drifted,
        "per_test_alpha": report["per_test_alpha"],
    }


def _ranges(path: Path, count: int) -> list[tuple[int, int]]:
    """``count`` byte ranges of ``path`` that start and end at line boundaries: the slices (capture
    objects) that workers stand in for."""
    size = path.stat().st_size
    bounds = [0]
    with path.open("rb") as data:
        for i in range(1, count):
            data.seek(size * i // count)
            data.readline()
            bounds.append(data.tell())
    bounds.append(size)
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


_WORKER: dict[str, Any] = {}


def _worker_start(statistics: dict[str, Any]) -> None:
    """A worker reads the baseline's statistics once, as a warm Lambda keeps it."""
    sys.path.insert(0, str(ROOT))
    from mlops_monitor import baseline

    _WORKER["baseline"] = baseline.from_statistics(statistics)


def _count_slice(task: tuple[str, int, int]) -> tuple[dict[str, Any], float]:
    """One worker's job (a Lambda's ``slice`` action): the slice's counts as JSON, and its peak memory."""
    from mlops_monitor import partial

    name, start, end = task
    with open(name, "rb") as data:
        data.seek(start)
        lines = (raw.decode("utf-8", errors="replace") for raw in _until(data, end))
        document = partial.Partial(_WORKER["baseline"]).add_lines(lines).to_json()
    return document, _peak_mib()


def _peak_mib_of(_: int) -> float:
    return _peak_mib()


def _until(data: Any, end: int) -> Any:
    while data.tell() < end:
        line = data.readline()
        if not line:
            return
        yield line


def scale_out(path: Path, slices: int = 16, workers: tuple[int, ...] = (1, 2, 4)) -> dict[str, Any]:
    """Throughput against the number of worker processes (Lambdas locally), slices merged by one
    reduce step; the merged report must equal the one-worker report."""
    import multiprocessing

    sys.path.insert(0, str(ROOT))
    from mlops_monitor import baseline, partial, quality
    from tests.unit.monitor.synthetic import baseline_csv

    built = baseline.from_text(baseline_csv())
    tasks = [(str(path), a, b) for a, b in _ranges(path, slices)]
    results: dict[str, Any] = {}
    reports = []
    for count in workers:
        with multiprocessing.get_context("spawn").Pool(count, _worker_start, (built.statistics(),)) as pool:
            pool.map(_peak_mib_of, range(count))  # warm workers, as Lambdas kept warm: starts not timed
            start = time.perf_counter()
            done = pool.map(_count_slice, tasks, chunksize=1)
        reduce_start = time.perf_counter()
        merged = partial.Partial(built)
        for document, _ in done:
            merged.merge(partial.Partial.from_json(built, json.loads(json.dumps(document))))
        report = quality.check(built, merged)
        seconds = time.perf_counter() - start
        reports.append(report)
        results[str(count)] = {
            "seconds": seconds,
            "reduce_seconds": time.perf_counter() - reduce_start,
            "records_per_second": report["records"] / seconds,
            "worker_peak_mib": max(peak for _, peak in done),
        }
    results["records"] = reports[0]["records"]
    results["slices"] = len(tasks)
    results["merged_equals_one_worker"] = all(r == reports[0] for r in reports)
    return results


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
    kind, args = sys.argv[1], sys.argv[2:]
    if kind == "data-quality":
        print(json.dumps(data_quality(Path(args[0]))))
    elif kind == "cli":
        print(json.dumps(cli(Path(args[0]), Path(args[1]))))
    elif kind == "scale-out":
        print(json.dumps(scale_out(Path(args[0]))))
    else:
        print(json.dumps(model_quality(int(args[0]))))
