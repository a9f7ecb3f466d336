"""Synthesize a small value that is valid against a JSON Schema (for tool inputs and
structured outputs in the fake's default reply).

Handles what tool and output schemas use in practice: ``type`` (also lists), ``enum``,
``const``, ``default``, ``examples``, objects (``properties``, ``required``,
``additionalProperties``, ``minProperties``), arrays (``items``, ``prefixItems``,
``minItems``, ``uniqueItems``), strings (``minLength``, ``maxLength``, ``format``, ``pattern``
for simple patterns), numbers (``minimum``, ``maximum``, exclusive bounds, ``multipleOf``),
``anyOf``/``oneOf``/``allOf`` and local ``$ref`` (``#/$defs/...``, ``#/definitions/...``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["example_for"]

_FORMATS = {
    "date": "2026-01-15",
    "date-time": "2026-01-15T09:30:00Z",
    "time": "09:30:00",
    "email": "student@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "hostname": "example.com",
}
_CANDIDATES = (
    "offline fake",
    "offline",
    "example",
    "a",
    "A",
    "0",
    "1",
    "x1",
    "abc",
    "ABC",
    "a-b",
    "a_b",
)


def _resolve(schema: Any, root: Mapping[str, Any], depth: int) -> Any:
    seen = 0
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and seen < 32:
        ref = schema["$ref"]
        if not ref.startswith("#"):
            return {}
        node: Any = root
        for part in ref.lstrip("#").strip("/").split("/"):
            if not part:
                continue
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, Mapping) else None
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**node, **extra} if isinstance(node, Mapping) else extra
        seen += 1
    return schema


def _string(schema: Mapping[str, Any], name: str) -> str:
    lo = int(schema.get("minLength", 0))
    hi = schema.get("maxLength")
    pattern = schema.get("pattern")
    fmt = schema.get("format")
    candidates = [_FORMATS[fmt]] if fmt in _FORMATS else []
    candidates += list(_CANDIDATES)
    for cand in candidates:
        value = cand
        if len(value) < lo:
            value = value + "x" * (lo - len(value))
        if hi is not None and len(value) > int(hi):
            value = value[: int(hi)]
        if pattern is not None:
            try:
                if not re.search(pattern, value):
                    continue
            except re.error:
                pass
        return value
    return "x" * lo


def _number(schema: Mapping[str, Any], integer: bool) -> int | float:
    lo = schema.get("minimum")
    hi = schema.get("maximum")
    xlo = schema.get("exclusiveMinimum")
    xhi = schema.get("exclusiveMaximum")
    step = schema.get("multipleOf")
    value: float = 1 if integer else 1.5
    if isinstance(lo, (int, float)) and value < lo:
        value = lo
    if isinstance(xlo, (int, float)) and value <= xlo:
        value = xlo + 1 if integer else xlo + 0.5
    if isinstance(hi, (int, float)) and value > hi:
        value = hi
    if isinstance(xhi, (int, float)) and value >= xhi:
        value = xhi - 1 if integer else xhi - 0.5
        if isinstance(lo, (int, float)) and value < lo:
            value = (lo + xhi) / 2
    if isinstance(step, (int, float)) and step > 0:
        value = math.ceil(value / step) * step
        if isinstance(hi, (int, float)) and value > hi:
            value -= step
    if integer:
        return math.ceil(value) if not float(value).is_integer() else int(value)
    return float(value)


def example_for(
    schema: Any, root: Mapping[str, Any] | None = None, *, name: str = "", depth: int = 0
) -> Any:
    """A small value valid against ``schema``.

    Examples
    --------
    >>> example_for({"type": "object", "properties": {"units": {"enum": ["c", "f"]},
    ...     "n": {"type": "integer", "minimum": 3}}, "required": ["units", "n"]})
    {'units': 'c', 'n': 3}
    """
    if root is None:
        root = schema if isinstance(schema, Mapping) else {}
    schema = _resolve(schema, root, depth)
    if not isinstance(schema, Mapping) or depth > 12:
        return None if schema is False else "offline"
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            rest = {k: v for k, v in schema.items() if k != key}
            non_null = [
                o for o in options if not (isinstance(o, Mapping) and o.get("type") == "null")
            ]
            choice = (non_null or options)[0]
            picked = (
                {**rest, **_resolve(choice, root, depth)} if isinstance(choice, Mapping) else choice
            )
            return example_for(picked, root, name=name, depth=depth + 1)
    if isinstance(schema.get("allOf"), list):
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = _resolve(part, root, depth)
            if isinstance(part, Mapping):
                for k, v in part.items():
                    if k in ("properties",) and isinstance(merged.get(k), Mapping):
                        merged[k] = {**merged[k], **v}
                    elif k == "required" and isinstance(merged.get(k), list):
                        merged[k] = [*merged[k], *v]
                    else:
                        merged[k] = v
        return example_for(merged, root, name=name, depth=depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"] or kind
        kind = kinds[0] if kinds else None
    if kind is None:
        if "properties" in schema:
            kind = "object"
        elif "items" in schema:
            kind = "array"
        else:
            return "offline"
    if kind == "object":
        props = schema.get("properties") or {}
        required = list(schema.get("required") or [])
        out: dict[str, Any] = {}
        for key in required:
            out[key] = example_for(props.get(key, {}), root, name=key, depth=depth + 1)
        want = int(schema.get("minProperties", 0))
        for key in props:
            if len(out) >= want:
                break
            if key not in out:
                out[key] = example_for(props[key], root, name=key, depth=depth + 1)
        return out
    if kind == "array":
        prefix = schema.get("prefixItems")
        items: list[Any] = []
        if isinstance(prefix, list):
            items = [example_for(p, root, name=name, depth=depth + 1) for p in prefix]
        n = max(int(schema.get("minItems", 0)), 1 if not items else 0)
        if isinstance(schema.get("maxItems"), int):
            n = min(n, schema["maxItems"])
        item_schema = schema.get("items", {})
        while len(items) < n:
            value = example_for(item_schema, root, name=name, depth=depth + 1)
            if schema.get("uniqueItems") and value in items:
                value = _vary(value, len(items))
            items.append(value)
        return items
    if kind == "string":
        return _string(schema, name)
    if kind == "integer":
        return _number(schema, True)
    if kind == "number":
        return _number(schema, False)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "offline"


def _vary(value: Any, i: int) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + i
    if isinstance(value, str):
        return f"{value}{i}"
    return value
