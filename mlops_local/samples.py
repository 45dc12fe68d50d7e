"""The data the example request bodies name, seeded into the emulator so every example runs.

The bodies in ``tests/events/valid/`` (the README's examples, shipped with local mode) name a
model artifact, baselines, training and batch data in the assets bucket, and a data bucket
(``my-data-bucket``) for outputs, captured data and ground truth. In AWS a team uploads these
first; local mode creates small, consistent stand-ins when it starts, so each example
provisions and runs to success with nothing to guess. An object that exists is left alone.

The content is made from a fixed seed: the same on every start.
"""

from __future__ import annotations

import io
import json
import random
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DATA_BUCKET = "my-data-bucket"
# The hour of captured data the examples' monitors find (and `mlops drift` can read).
CAPTURE_HOUR = "2026/11/21/10"
ROWS = 200


@dataclass(frozen=True)
class Sample:
    bucket: str | None  # None: the installation's assets bucket
    key: str
    make: Callable[[], bytes]
    what: str

    def where(self, assets_bucket: str) -> str:
        return f"s3://{self.bucket or assets_bucket}/{self.key}"


def _rng() -> random.Random:
    return random.Random(19)


def _churn_rows(rng: random.Random) -> list[tuple[float, float, str]]:
    plans = ["basic", "plus", "pro"]
    return [
        (round(rng.gauss(30, 8), 2), round(rng.gauss(70, 20), 2), rng.choices(plans, weights=[5, 3, 2])[0])
        for _ in range(ROWS)
    ]


def churn_features_csv() -> bytes:
    """The churn model's inputs with a header: a data-quality baseline."""
    rows = _churn_rows(_rng())
    return ("tenure,monthly_spend,plan\n" + "".join(f"{t},{m},{p}\n" for t, m, p in rows)).encode()


def churn_predictions_csv() -> bytes:
    """Predictions beside the truth: a model-quality baseline."""
    rng = _rng()
    lines = ["prediction,probability,label"]
    for _ in range(ROWS):
        probability = round(rng.random(), 3)
        label = int(rng.random() < probability)
        lines.append(f"{int(probability >= 0.5)},{probability},{label}")
    return ("\n".join(lines) + "\n").encode()


def credit_csv() -> bytes:
    """Label first (Clarify's baseline reads the label from the first column), then the features."""
    rng = _rng()
    groups = ["male_single", "female_divorced", "male_married"]
    lines = ["credit_risk,age,personal_status_sex,duration,amount"]
    for _ in range(ROWS):
        lines.append(
            f"{int(rng.random() < 0.3)},{rng.randint(19, 75)},{rng.choice(groups)},"
            f"{rng.randint(6, 60)},{rng.randint(250, 15000)}"
        )
    return ("\n".join(lines) + "\n").encode()


def churn_training_csv(header: bool = False) -> Callable[[], bytes]:
    """Training data, the target first (built-in XGBoost) or as a named column (Autopilot)."""

    def make() -> bytes:
        rng = _rng()
        plan_codes = {"basic": 0, "plus": 1, "pro": 2}
        rows = [f"{int(rng.random() < 0.25)},{t},{m},{plan_codes[p]}" for t, m, p in _churn_rows(rng)]
        head = ["churn,tenure,monthly_spend,plan"] if header else []
        return ("\n".join(head + rows) + "\n").encode()

    return make


def batch_input_csv() -> bytes:
    """Rows to score, without the target."""
    return b"".join(f"{t},{m}\n".encode() for t, m, _ in _churn_rows(_rng())[:20])


def model_artifact() -> bytes:
    """A model.tar.gz as SageMaker expects one (a gzipped tar); the emulator never loads it."""
    buffer = io.BytesIO()
    payload = json.dumps({"note": "a stand-in model artifact seeded by mlops local"}).encode()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("model.json")
        info.size, info.mtime = len(payload), 0
        archive.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def algorithm_zip() -> bytes:
    """A custom algorithm's build context (the image builder's; local mode cannot build it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Dockerfile", "FROM public.ecr.aws/docker/library/python:3.12-slim\n")
    return buffer.getvalue()


def capture_hour() -> bytes:
    """An hour of an endpoint's captured requests and responses, in SageMaker's JSON Lines."""
    lines = []
    for index, (t, m, p) in enumerate(_churn_rows(random.Random(20))):
        lines.append(
            json.dumps(
                {
                    "captureData": {
                        "endpointInput": {
                            "observedContentType": "text/csv",
                            "mode": "INPUT",
                            "data": f"{t},{m},{p}",
                            "encoding": "CSV",
                        },
                        "endpointOutput": {
                            "observedContentType": "text/csv",
                            "mode": "OUTPUT",
                            "data": "0.2",
                            "encoding": "CSV",
                        },
                    },
                    "eventMetadata": {"eventId": f"seeded-{index}", "inferenceTime": "2026-11-21T10:30:00Z"},
                }
            )
        )
    return ("\n".join(lines) + "\n").encode()


def ground_truth_hour() -> bytes:
    """Labels for the captured hour, in Model Monitor's ground-truth JSON Lines."""
    rng = random.Random(21)
    lines = [
        json.dumps(
            {
                "groundTruthData": {"data": str(int(rng.random() < 0.2)), "encoding": "CSV"},
                "eventMetadata": {"eventId": f"seeded-{index}"},
                "eventVersion": "0",
            }
        )
        for index in range(ROWS)
    ]
    return ("\n".join(lines) + "\n").encode()


SAMPLES: tuple[Sample, ...] = (
    Sample(None, "models/churn/model.tar.gz", model_artifact, "model artifact"),
    Sample(None, "models/fraud/model.tar.gz", model_artifact, "model artifact"),
    Sample(None, "monitoring/churn/training-dataset-with-header.csv", churn_features_csv, "data-quality baseline"),
    Sample(None, "monitoring/churn/baseline-with-predictions.csv", churn_predictions_csv, "model-quality baseline"),
    Sample(None, "monitoring/credit/training-dataset-with-header.csv", credit_csv, "bias and explainability baseline"),
    Sample(None, "training/churn/train.csv", churn_training_csv(), "training data"),
    Sample(None, "training/churn/validation.csv", churn_training_csv(), "validation data"),
    Sample(None, "training/churn/train-with-header.csv", churn_training_csv(header=True), "Autopilot training data"),
    Sample(None, "custom-algorithms/scikit-forest.zip", algorithm_zip, "custom algorithm build context"),
    Sample(DATA_BUCKET, "churn/batch/input.csv", batch_input_csv, "batch input"),
    Sample(DATA_BUCKET, "fraud/batch/input.csv", batch_input_csv, "batch input"),
    Sample(
        DATA_BUCKET,
        f"churn/datacapture/churn-endpoint/AllTraffic/{CAPTURE_HOUR}/capture.jsonl",
        capture_hour,
        "an hour of captured data",
    ),
    Sample(DATA_BUCKET, f"churn/ground-truth/{CAPTURE_HOUR}/labels.jsonl", ground_truth_hour, "ground truth"),
    Sample(DATA_BUCKET, f"credit/ground-truth/{CAPTURE_HOUR}/labels.jsonl", ground_truth_hour, "ground truth"),
)


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except Exception:
        return False
    return True


def seed(session: Any, region: str, assets_bucket: str) -> list[str]:
    """Create the data bucket and every sample that is missing; the locations written."""
    s3 = session.client("s3", region_name=region)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in {s.bucket for s in SAMPLES if s.bucket} - existing:
        s3.create_bucket(Bucket=bucket)
    written = []
    for sample in SAMPLES:
        bucket = sample.bucket or assets_bucket
        if not _exists(s3, bucket, sample.key):
            s3.put_object(Bucket=bucket, Key=sample.key, Body=sample.make())
            written.append(sample.where(assets_bucket))
    return written
