"""The message attributes that make a check's violations a signal the orchestrator acts on.

The check publishes its violations to the notifications topic for people; these attributes ride
on the same message so the orchestrator's subscription (its filter policy matches
``mlops-signal``) receives exactly those messages and can find the monitor (endpoint and
monitor type) and the report that found them. A monitor whose request names ``retraining``
then starts its training pipeline again; any other monitor's signal is ignored.
"""

from __future__ import annotations

from typing import Any

SIGNAL = "mlops-signal"
VIOLATIONS = "monitor-violations"
MAX_VALUE = 256 * 1024  # SNS's limit for a whole message with its attributes


def _text(value: Any) -> dict[str, str]:
    return {"DataType": "String", "StringValue": str(value)[:1024]}


def attributes(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    """SNS ``MessageAttributes`` of a report's violations message (none when it found none)."""
    if not report.get("violations"):
        return {}
    return {
        SIGNAL: _text(VIOLATIONS),
        "endpoint": _text(report.get("endpoint", "")),
        "monitor-type": _text(report.get("monitor_type", "")),
        "report": _text(report.get("report", "")),
        "violations": {"DataType": "Number", "StringValue": str(len(report["violations"]))},
    }
