"""Request bodies under tests/events, which double as examples in the docs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[1] / "events"


def load_event(name: str) -> dict[str, Any]:
    """A request body from tests/events (``valid/<type>`` or ``bad/<name>``)."""
    return json.loads((EVENTS / f"{name}.json").read_text())


def valid_types() -> list[str]:
    """The pipeline types that have a valid body under tests/events/valid."""
    return sorted(p.stem for p in (EVENTS / "valid").glob("*.json"))
