"""Turn a raw request body into a JSON object, or a 400 that says what is wrong with it.

Python's ``json`` module is lenient where a request must not be: the last of two equal keys
wins silently (``"dry_run": true, "dry_run": false`` would provision for real), ``NaN`` and
``Infinity`` are read as numbers, ``1e400`` becomes ``inf``, and deep nesting raises
``RecursionError``. :func:`read_json` applies one set of rules to the body and to the JSON
that some string-valued fields carry (Clarify's settings), and lists every breach with the
path of the value that breaks it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import Problem, ValidationFailed

MAX_BODY = 256 * 1024
# Objects and lists inside each other; the deepest valid request (a model card) needs about 8.
MAX_DEPTH = 32
# Python's ``int`` would read any number of digits; a double holds at most about 1.8e308.
_LARGEST = 1.7976931348623157e308
_SURROGATE = re.compile("[\ud800-\udfff]")


class NotJson(ValueError):
    """The text is not JSON at all (as opposed to JSON that breaks a rule)."""


class _Refused:
    """A value the parser read but that the rules refuse; reported with its path after parsing."""

    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


def _constant(name: str) -> _Refused:
    return _Refused(f"is {name}, which is not a JSON number; give a finite number")


def _float(text: str) -> float | _Refused:
    number = float(text)
    if not math.isfinite(number):
        return _Refused(f"is {text[:40]}, too large for a number (at most about 1.8e308)")
    return number


def _int(text: str) -> int | _Refused:
    if len(text.lstrip("-")) > 309:
        return _Refused(f"is a number of {len(text.lstrip('-'))} digits, too large (at most about 1.8e308)")
    number = int(text)
    if abs(number) > _LARGEST:
        return _Refused(f"is {text[:40]}..., too large for a number (at most about 1.8e308)")
    return number


def _join(path: str, part: str | int) -> str:
    return f"{path}.{part}" if path else str(part)


def _check(value: Any, duplicates: dict[int, tuple[dict[str, Any], list[str]]]) -> list[Problem]:
    """Every breach in a parsed value: duplicate keys, refused numbers, depth, lone surrogates.

    Iterative, so a value Python could parse is never too deep to check.
    """
    found: list[Problem] = []
    too_deep = False
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, _Refused):
            found.append(Problem(path, item.problem))
        elif isinstance(item, str):
            surrogate = _SURROGATE.search(item)
            if surrogate:
                found.append(Problem(path, f"holds \\u{ord(surrogate.group()):04x}, half of a surrogate pair, "
                                           "which is not text"))  # fmt: skip
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                too_deep = True
                continue
            if isinstance(item, dict):
                for key in duplicates.get(id(item), (None, []))[1]:
                    found.append(Problem(_join(path, key), "is given more than once in one object; give each key once"))
                for key, child in item.items():
                    if _SURROGATE.search(key):
                        found.append(Problem(path, "has a key holding half of a surrogate pair, which is not text"))
                        continue
                    stack.append((child, _join(path, key), depth + 1))
            else:
                stack.extend((child, _join(path, index), depth + 1) for index, child in enumerate(item))
    if too_deep:
        found.append(Problem("", f"nests objects and lists more than {MAX_DEPTH} levels deep"))
    return sorted(found, key=lambda p: p.field)


def read_json(text: str) -> Any:
    """Parse ``text`` under the rules above.

    Raises :class:`NotJson` if it is not JSON, and :class:`ValidationFailed` listing every
    breach if it is; a problem's field is the path inside ``text`` ("" for the whole).
    """
    if len(text) > MAX_BODY:
        raise ValidationFailed([Problem("", f"is larger than {MAX_BODY} bytes")], "too large")
    duplicates: dict[int, tuple[dict[str, Any], list[str]]] = {}

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) < len(items):
            seen: set[str] = set()
            repeated: list[str] = []
            for key, _ in items:
                if key in seen and key not in repeated:
                    repeated.append(key)
                seen.add(key)
            # The object is kept alive with its entry, so its id cannot be reused by another.
            duplicates[id(obj)] = (obj, repeated)
        return obj

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_float=_float, parse_int=_int, parse_constant=_constant)
    except RecursionError:
        raise ValidationFailed(
            [Problem("", f"nests objects and lists more than {MAX_DEPTH} levels deep")], "nested too deeply"
        ) from None
    except ValueError as exc:
        raise NotJson(str(exc)) from None
    problems = _check(value, duplicates)
    if problems:
        raise ValidationFailed(problems, "the JSON breaks the request rules")
    return value


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
        value = read_json(raw.removeprefix("\ufeff"))
    except NotJson as exc:
        raise ValidationFailed([Problem("body", f"is not valid JSON: {exc}")], "malformed JSON") from None
    except ValidationFailed as exc:
        raise ValidationFailed(
            [Problem(p.field or "body", p.problem) for p in exc.problems], "malformed JSON"
        ) from None
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
