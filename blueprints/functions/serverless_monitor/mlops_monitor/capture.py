"""Reading SageMaker data-capture JSON Lines and ground-truth files.

A capture line looks like ``{"captureData": {"endpointInput": {"data": "...", "encoding":
"CSV"}, "endpointOutput": {...}}, "eventMetadata": {"eventId": "...", "inferenceId": "..."}}``.
Malformed lines are counted and skipped, never fatal.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Record:
    inference_id: str
    features: list[str] | None  # the input row's CSV cells
    output: str | None  # the endpoint's answer, decoded


@dataclass
class Counts:
    lines: int = 0
    malformed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def bad(self, reason: str) -> None:
        self.malformed += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


def _decode(payload: Any) -> str | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), str):
        return None
    data = payload["data"]
    if str(payload.get("encoding", "CSV")).upper() == "BASE64":
        data = base64.b64decode(data).decode("utf-8")
    return data


def _cells(text: str) -> list[str]:
    text = text.strip()
    if '"' not in text and "\n" not in text and "\r" not in text:
        return text.split(",") if text else []  # what the CSV reader gives for unquoted cells, faster
    return next(csv.reader([text]), [])


def _events(lines: Iterable[str | bytes], counts: Counts, what: str) -> Iterator[dict[str, Any]]:
    """Each non-blank line parsed as a JSON object; anything else is counted as malformed."""
    loads = json.loads
    for raw in lines:
        line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        if not line or line.isspace():
            continue
        counts.lines += 1
        try:
            event = loads(line)
        except ValueError:
            event = None
        if isinstance(event, dict):
            yield event
        else:
            counts.bad(f"not a {what} record")


def _text(payload: Any) -> str | None:
    """The payload's data as text; plain CSV (the common case) without a call to :func:`_decode`."""
    if type(payload) is dict:
        data = payload.get("data")
        if type(data) is str and payload.get("encoding", "CSV") == "CSV":
            return data
    return _decode(payload)


def _event(raw: str | bytes, counts: Counts) -> tuple[str, str | None, str | None] | None:
    """(inference id, input text, output text) of one line, or None (blank, or counted as malformed)."""
    line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    if not line or line.isspace():
        return None
    counts.lines += 1
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if type(event) is not dict:
        counts.bad("not a capture record")
        return None
    try:
        capture = event["captureData"]
        metadata = event.get("eventMetadata", {})
        identifier = metadata.get("inferenceId") or metadata["eventId"]
        text_in = _text(capture.get("endpointInput"))
        text_out = _text(capture.get("endpointOutput"))
    except (ValueError, KeyError, TypeError, AttributeError):
        counts.bad("not a capture record")
        return None
    if text_in is None and text_out is None:
        counts.bad("no input or output data")
        return None
    return identifier, text_in, text_out


def records(lines: Iterable[str | bytes], counts: Counts) -> Iterator[Record]:
    for raw in lines:
        found = _event(raw, counts)
        if found is not None:
            identifier, text_in, text_out = found
            yield Record(str(identifier), _cells(text_in) if text_in is not None else None, text_out)


def inputs(lines: Iterable[str | bytes], counts: Counts) -> Iterator[list[str]]:
    """Only the input rows of :func:`records` (records without input are skipped, as there):
    what data quality reads, without building a record per line."""
    for raw in lines:
        found = _event(raw, counts)
        if found is not None and found[1] is not None:
            yield _cells(found[1])


def ground_truth(lines: Iterable[str | bytes], counts: Counts) -> Iterator[tuple[str, str]]:
    """(inference id, label) from ``{"groundTruthData": {"data": ...}, "eventMetadata": {"eventId": ...}}``."""
    for event in _events(lines, counts, "ground-truth"):
        try:
            label = _decode(event["groundTruthData"])
            identifier = str(event["eventMetadata"]["eventId"])
        except (ValueError, KeyError, TypeError, AttributeError):
            counts.bad("not a ground-truth record")
            continue
        if label is None:
            counts.bad("no ground-truth data")
            continue
        yield identifier, label.strip()
