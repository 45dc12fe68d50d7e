"""Benchmarks for the orchestrator's cold start, package size and per-request time.

Run with ``make bench`` (``python -m mlops_dev.bench``). Numbers go to stdout and
build/bench.json. Medians over repeated runs; the machine is shared, so read them as ranges.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "orchestrator_api"))
sys.path.insert(0, str(ROOT))

BUILD = ROOT / "build"
RUNS = 9


def _import_seconds(python: str, code: str, cwd: Path) -> float:
    samples = []
    env = {"PATH": os.environ["PATH"], "SAGEMAKER_SUPPRESS_V2_WARNING": "1", "HOME": str(BUILD)}
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([python, "-c", code], cwd=cwd, env=env, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _sdk_python() -> str | None:
    """The SageMaker SDK layer's packages for this machine (``make layer-venv``)."""
    from mlops_local.files import layer_python

    python = layer_python()
    if not python.exists():
        print(f"no {python} (make layer-venv): skipping the comparison with the original solution's import")
        return None
    return str(python)


def cold_imports() -> dict[str, Any]:
    app_dir = ROOT / "orchestrator_api"
    base = _import_seconds(sys.executable, "pass", app_dir)
    ours = _import_seconds(sys.executable, "import boto3, app", app_dir) - base
    result: dict[str, Any] = {"orchestrator_import_s": round(ours, 3)}
    sdk = _sdk_python()
    if sdk:
        sdk_base = _import_seconds(sdk, "pass", BUILD)
        original = _import_seconds(sdk, "import boto3, sagemaker.session", BUILD) - sdk_base
        result["original_import_s"] = round(original, 3)
        result["import_ratio"] = round(ours / original, 3)
        function = ROOT / "blueprints" / "functions" / "clarify_config"
        clarify = _import_seconds(sdk, CLARIFY_COLD, function) - sdk_base
        result["clarify_function_cold_s"] = round(clarify, 3)
    return result


# The monitor blueprint's Clarify function from cold: import the SDK, make both configs.
CLARIFY_COLD = (
    "import handler; handler.build({'monitor_type': 'ModelExplainability', 'endpoint_name': 'e', "
    "'dataset_uri': 's3://b/d.csv', 'output_uri': 's3://b/o', 'shap_config': {'num_clusters': 3}})"
)


def sizes() -> dict[str, Any]:
    from mlops_dev.package import build_first_party, build_package

    first = build_first_party(BUILD / "orchestrator-first-party.zip")
    whole = build_package(BUILD / "orchestrator-package.zip")
    return {
        "first_party_zip_mib": round(first.stat().st_size / 2**20, 3),
        "package_zip_mib": round(whole.stat().st_size / 2**20, 3),
    }


class _Fake:
    """Stands in for boto3 clients: canned answers, no network."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def __getattr__(self, name: str) -> Any:
        answer = self.answers[name]
        return lambda **kwargs: answer(**kwargs) if callable(answer) else answer


def per_request() -> dict[str, Any]:
    from chalice.test import Client

    from app import app
    from chalicelib import aws, blueprint_store, bundles, packaging, provisioning
    from mlops_local.bootstrap import BLUEPRINTS, ControlPlane

    os.environ.update(ControlPlane().env())
    body = (ROOT / "tests/events/valid/byom_realtime_builtin.json").read_text()
    settings_plan = provisioning.plan(json.loads(body), _settings_with_blueprints(blueprint_store, BLUEPRINTS))
    existing = {
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/x/1",
        "StackName": settings_plan.pipeline_stack,
        "StackStatus": "CREATE_COMPLETE",
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in settings_plan.pipeline_params.items()],
    }
    aws.inject("cloudformation", _Fake({"describe_stacks": {"Stacks": [existing]}}))

    def head_object(Bucket: str, Key: str) -> dict[str, Any]:
        if Key.endswith("/DELETING"):  # no delete of this pipeline is under way
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        return {"ETag": '"e"', "Metadata": {bundles.SHA_METADATA: settings_plan.bundle.sha256}}

    aws.inject("s3", _Fake({"head_object": head_object}))
    samples = []
    with Client(app) as client:
        for _ in range(300):
            start = time.perf_counter()
            response = client.http.post("/provisionpipeline", body=body, headers={"Content-Type": "application/json"})
            samples.append(time.perf_counter() - start)
            assert response.status_code == 200, response.body
    assert json.loads(response.body)["changed"] is False
    del packaging
    return {"request_median_ms": round(statistics.median(samples[20:]) * 1000, 2)}


def _settings_with_blueprints(blueprints: Any, directory: Path) -> Any:
    from chalicelib.settings import get_settings

    settings = get_settings()
    for path in directory.glob("*.yaml"):
        blueprints._cache[(settings.blueprint_bucket, blueprints.key(settings, path.name))] = path.read_bytes()
    return settings


EVIDENTLY_VENV = BUILD / "evidently-venv"
EVIDENTLY = ("evidently==0.7.*", "pandas>=2,<3")  # Evidently 0.7 does not import under pandas 3


def _evidently_python() -> str:
    """Evidently in a venv of its own (it pins pandas and more), made once, never .venv."""
    python = EVIDENTLY_VENV / "bin" / "python"
    if not (EVIDENTLY_VENV / ".installed").exists():
        print(f"installing {' '.join(EVIDENTLY)} into {EVIDENTLY_VENV} (once)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *EVIDENTLY], check=True
        )
        (EVIDENTLY_VENV / ".installed").touch()
    return str(python)


def _run_json(*command: str) -> dict[str, Any]:
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def _first_lines(source: Path, target: Path, count: int) -> Path:
    if not target.exists():
        with source.open() as lines, target.open("w") as out:
            for _, line in zip(range(count), lines, strict=False):
                out.write(line)
    return target


def monitor() -> dict[str, Any]:
    """Serverless monitor: throughput over 1 GiB of capture, the CLI's memory at two window
    sizes, Evidently on the same data in the same run, the scale-out (16 slices of 1M records
    over 1, 2 and 4 worker processes standing in for Lambdas, merged by one reduce step) and the
    model-quality join's memory."""
    from mlops_dev.bench_monitor import make_capture
    from tests.unit.monitor.synthetic import baseline_csv

    capture = BUILD / "capture-1gib.jsonl"
    if not capture.exists() or capture.stat().st_size < 2**30:
        print("generating 1 GiB of synthetic capture (once)...", flush=True)
        make_capture(capture, 2**30)
    baseline = BUILD / "bench-baseline.csv"
    baseline.write_text(baseline_csv())  # 10k rows, 15 features (10 numeric, 5 categorical)
    windows = {"100k": 100_000, "1m": 1_000_000}
    files = {name: _first_lines(capture, BUILD / f"capture-{name}.jsonl", n) for name, n in windows.items()}
    module = [sys.executable, "-m", "mlops_dev.bench_monitor"]

    dq = _run_json(*module, "data-quality", str(capture))
    mq = _run_json(*module, "model-quality", "2000000")
    result: dict[str, Any] = {
        "monitor_records_per_cpu_second": round(dq["records_per_second"]),
        "monitor_mib_per_second": round(dq["mib"] / dq["seconds"], 1),
        "monitor_peak_mib_for_1gib": round(dq["peak_mib"]),
    }
    evidently = _evidently_python()
    for name, path in files.items():
        ours = _run_json(*module, "cli", str(baseline), str(path))
        theirs = _run_json(evidently, "mlops_dev/bench_evidently.py", str(baseline), str(path),
                           str(ours["per_test_alpha"]))  # fmt: skip
        result |= {
            f"cli_{name}_seconds": round(ours["seconds"], 2),
            f"cli_{name}_records_per_second": round(ours["records"] / ours["seconds"]),
            f"cli_{name}_peak_mib": round(ours["peak_mib"]),
            f"evidently_{name}_seconds": round(theirs["end_to_end_s"], 2),
            f"evidently_{name}_compute_seconds": round(theirs["compute_s"], 2),
            f"evidently_{name}_peak_mib": round(theirs["peak_mib"]),
            f"speedup_{name}_end_to_end": round(theirs["end_to_end_s"] / ours["seconds"], 2),
            f"speedup_{name}_vs_evidently_compute": round(theirs["compute_s"] / ours["seconds"], 2),
            f"clean_window_{name}_flagged_by_us": ",".join(ours["drifted"]) or "none",
            f"clean_window_{name}_flagged_by_evidently": ",".join(theirs["drifted"]) or "none",
        }
    result["cli_peak_mib_growth_100k_to_1m"] = result["cli_1m_peak_mib"] - result["cli_100k_peak_mib"]
    fan = _run_json(*module, "scale-out", str(files["1m"]))
    result["scale_out_merged_equals_one_worker"] = fan["merged_equals_one_worker"]
    for workers in ("1", "2", "4"):
        result[f"scale_out_{workers}_workers_records_per_second"] = round(fan[workers]["records_per_second"])
        result[f"scale_out_{workers}_workers_peak_mib_per_worker"] = round(fan[workers]["worker_peak_mib"])
    result["scale_out_reduce_seconds_16_slices"] = round(fan["1"]["reduce_seconds"], 3)
    result |= {
        "model_quality_bytes_per_labelled_record": round(mq["bytes_per_labelled_record"]),
        "model_quality_gib_for_10m_labelled": round(mq["bytes_per_labelled_record"] * 10_000_000 / 2**30, 2),
    }
    return result


TARGETS = {
    "import_ratio": ("<=", 0.20),
    "monitor_records_per_cpu_second": (">=", 100_000),
    "cli_peak_mib_growth_100k_to_1m": ("<", 16),
    "first_party_zip_mib": ("<", 1.0),
    "package_zip_mib": ("<", 5.0),
    "request_median_ms": ("<", 5.0),
    "model_quality_gib_for_10m_labelled": ("<", 10.0),
}


def main() -> int:
    BUILD.mkdir(exist_ok=True)
    results: dict[str, Any] = {}
    results.update(cold_imports())
    results.update(sizes())
    results.update(per_request())
    if "--skip-monitor" not in sys.argv:
        results.update(monitor())
    (BUILD / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    width = max(map(len, results))
    for key, value in results.items():
        target = TARGETS.get(key)
        verdict = ""
        if target:
            ok = {"<=": value <= target[1], "<": value < target[1], ">=": value >= target[1]}[target[0]]
            verdict = f"  target {target[0]} {target[1]}: {'met' if ok else 'MISSED'}"
        print(f"{key:<{width}}  {value}{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
