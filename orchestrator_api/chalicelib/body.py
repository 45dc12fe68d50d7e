"""Turn a raw request body into a JSON object, or a 400 that says what is wrong with it."""

from __future__ import annotations

import json
from typing import Any

from .errors import Problem, ValidationFailed

MAX_BODY = 256 * 1024


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_object(raw: bytes | str | None) -> dict[str, Any]:
    """The body as a non-empty JSON object, whatever content type it was sent with."""
    if raw is None or not raw.strip():
        raise ValidationFailed([Problem("body", "is empty; send a JSON object")], "empty body")
    if len(raw) > MAX_BODY:
        raise ValidationFailed([Problem("body", f"is larger than {MAX_BODY} bytes")], "body too large")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed([Problem("body", "is not UTF-8 text")], "malformed body") from None
    try:
        value = json.loads(raw, parse_constant=_no_constants)
    except RecursionError:
        raise ValidationFailed([Problem("body", "is nested too deeply")], "malformed JSON") from None
    except ValueError as exc:
        raise ValidationFailed([Problem("body", f"is not valid JSON: {exc}")], "malformed JSON") from None
    if not isinstance(value, dict):
        raise ValidationFailed(
            [Problem("body", f"must be a JSON object, got {type(value).__name__}")], "body is not an object"
        )
    if not value:
        raise ValidationFailed([Problem("body", "is an empty object; give at least pipeline_type")], "empty body")
    return value


# Switches a provision body may carry besides the pipeline's fields; each is false unless given.
SWITCHES = {
    "dry_run": "preview what the request would change; nothing is changed",
    "upgrade_blueprints": "move an existing pipeline to the blueprints installed now",
}


def switches(body: dict[str, Any]) -> dict[str, bool]:
    """Take the :data:`SWITCHES` out of a provision body."""
    found = {}
    for name in SWITCHES:
        value = body.pop(name, False)
        if value in (True, "true", "True"):
            found[name] = True
        elif value in (False, "false", "False"):
            found[name] = False
        else:
            raise ValidationFailed([Problem(name, "must be true or false")])
    return found
