"""Seeded synthetic data: 10 numeric and 5 categorical features, as CSV and as capture lines."""

from __future__ import annotations

import json
import random
import uuid

NUMERIC = [(10.0 * i, 1.0 + i) for i in range(10)]  # (mean, standard deviation) of x0..x9
CATEGORIES = [
    {"a": 0.4, "b": 0.3, "c": 0.2, "d": 0.1},
    {"red": 0.5, "green": 0.3, "blue": 0.2},
    {"s": 0.25, "m": 0.25, "l": 0.25, "xl": 0.25},
    {"yes": 0.7, "no": 0.3},
    {"north": 0.1, "south": 0.2, "east": 0.3, "west": 0.4},
]
HEADER = [f"x{i}" for i in range(len(NUMERIC))] + [f"c{i}" for i in range(len(CATEGORIES))]


def shifted(probabilities: dict[str, float], category: str, points: float) -> dict[str, float]:
    """Move ``points`` of probability onto ``category``, taking it from the others in proportion."""
    rest = 1.0 - probabilities[category]
    target = probabilities[category] + points
    return {k: (target if k == category else v * (1.0 - target) / rest) for k, v in probabilities.items()}


def row(rng: random.Random, mean_shift: dict[int, float] | None = None, categories=CATEGORIES) -> list[str]:
    cells = []
    for i, (mean, sd) in enumerate(NUMERIC):
        value = rng.gauss(mean + (mean_shift or {}).get(i, 0.0) * sd, sd)
        cells.append(str(round(value)) if i < 2 else f"{value:.6f}")  # x0, x1 are integers
    for probabilities in categories:
        cells.append(rng.choices(list(probabilities), weights=list(probabilities.values()))[0])
    return cells


def baseline_csv(seed: int = 1, rows: int = 10_000, header: bool = True) -> str:
    rng = random.Random(seed)
    lines = [",".join(HEADER)] if header else []
    lines += [",".join(row(rng)) for _ in range(rows)]
    return "\n".join(lines) + "\n"


def capture_line(cells: list[str], rng: random.Random, output: str = "0.5") -> str:
    event_id = str(uuid.UUID(int=rng.getrandbits(128)))
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": ",".join(cells),
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "text/csv",
                    "mode": "OUTPUT",
                    "data": output,
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {"eventId": event_id, "inferenceTime": "2026-11-21T10:00:00Z"},
            "eventVersion": "0",
        }
    )


def window(seed: int, rows: int = 1_000, **changes) -> list[str]:
    rng = random.Random(seed)
    return [capture_line(row(rng, **changes), rng) for _ in range(rows)]
