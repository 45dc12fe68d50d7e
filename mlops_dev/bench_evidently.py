"""Evidently's data drift on the same data as ``mlops drift``, for ``make bench``'s comparison.

Runs in a venv of its own (``.evidently-venv``, made by the bench), so it imports nothing of
this project: ``python bench_evidently.py BASELINE_CSV CAPTURE_JSONL THRESHOLD`` prints JSON.
Same tests as ours (Kolmogorov-Smirnov on numbers, chi-square on categories) at the same
per-test threshold. End to end includes reading the capture JSON Lines into a DataFrame, as
a user would have to; compute is Evidently's report alone.
"""

from __future__ import annotations

import io
import json
import resource
import sys
import time


def main(baseline_csv: str, capture: str, threshold: float) -> dict[str, object]:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    start = time.perf_counter()
    reference = pd.read_csv(baseline_csv)
    rows = []
    with open(capture, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                rows.append(json.loads(line)["captureData"]["endpointInput"]["data"])
    current = pd.read_csv(io.StringIO("\n".join(rows)), header=None, names=list(reference.columns))
    del rows
    numeric = [c for c in reference.columns if c.startswith("x")]
    categorical = [c for c in reference.columns if c.startswith("c")]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    ref = Dataset.from_pandas(reference, data_definition=definition)
    cur = Dataset.from_pandas(current, data_definition=definition)
    preset = DataDriftPreset(num_method="ks", cat_method="chisquare", threshold=threshold)
    computed = time.perf_counter()
    snapshot = Report([preset]).run(current_data=cur, reference_data=ref)
    done = time.perf_counter()
    drifted = []
    for metric in snapshot.dict()["metrics"]:
        name = str(metric.get("metric_name", ""))
        if name.startswith("ValueDrift(") and float(metric["value"]) < threshold:
            drifted.append(name[len("ValueDrift(column=") :].split(",")[0])
    return {
        "rows": len(current),
        "end_to_end_s": done - start,
        "compute_s": done - computed,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "drifted": sorted(drifted),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], float(sys.argv[3]))))
