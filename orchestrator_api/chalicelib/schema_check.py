"""Check a JSON document against the JSON Schema subset SageMaker's model-card schema uses.

Keywords: type, properties, additionalProperties, patternProperties, required, enum,
minLength/maxLength, pattern, items, minItems/maxItems, minimum, anyOf and local ``$ref``.
The Lambda package carries no JSON Schema library for one schema; every problem is returned
with its path, in the orchestrator's words.
"""

from __future__ import annotations

import re
from typing import Any

TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
}


def _type_ok(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, TYPES[kind])


def _sizes(path: str, size: int, schema: dict[str, Any], keyword: str, unit: str) -> list[tuple[str, str]]:
    """``max<keyword>`` / ``min<keyword>`` (Length for strings, Items for arrays)."""
    found = []
    if size > schema.get(f"max{keyword}", size):
        found.append((path, f"has more than {schema[f'max{keyword}']} {unit}"))
    if size < schema.get(f"min{keyword}", 0):
        found.append((path, f"needs at least {schema[f'min{keyword}']} {unit}"))
    return found


def problems(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str) -> list[tuple[str, str]]:
    """Every way ``value`` breaks ``schema``, as (path, problem)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return problems(value, root["definitions"][name], root, path)
    if "anyOf" in schema:
        options = [problems(value, option, root, path) for option in schema["anyOf"]]
        if all(options):
            return min(options, key=len)
        return []
    kind = schema.get("type")
    if kind and not _type_ok(value, kind):
        return [(path, f"must be {'an' if kind[0] in 'aeiou' else 'a'} {kind}")]
    found: list[tuple[str, str]] = []
    if "enum" in schema and value not in schema["enum"]:
        found.append((path, f"must be one of {', '.join(map(str, schema['enum']))}"))
    if isinstance(value, str):
        found += _sizes(path, len(value), schema, "Length", "characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append((path, f"does not match {schema['pattern']}"))
    if isinstance(value, int | float) and not isinstance(value, bool) and value < schema.get("minimum", value):
        found.append((path, f"must be at least {schema['minimum']}"))
    if isinstance(value, list):
        found += _sizes(path, len(value), schema, "Items", "items")
        for index, item in enumerate(value):
            found += problems(item, schema.get("items", {}), root, f"{path}[{index}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        found += [(f"{path}.{name}", "is required") for name in schema.get("required", []) if name not in value]
        for name, item in value.items():
            where = f"{path}.{name}"
            if name in properties:
                found += problems(item, properties[name], root, where)
                continue
            matched = [spec for pattern, spec in patterns.items() if re.fullmatch(pattern, name)]
            if matched:
                found += problems(item, matched[0], root, where)
            elif schema.get("additionalProperties", True) is False:
                known = ", ".join(sorted(properties)) or "none"
                found.append((where, f"is not a field here; known: {known}"))
    return found
