"""Checking JSON values against a JSON Schema: :func:`schema_errors`, StructuredOutputError.

The validator covers what generated schemas and structured outputs use (and a little more):
``type``, ``properties``, ``required``, ``additionalProperties``, ``items``, ``prefixItems``,
``enum``, ``const``, ``anyOf``/``oneOf``/``allOf``/``not``, local ``$ref`` with ``$defs``,
numeric bounds, ``multipleOf``, lengths, ``pattern`` and ``uniqueItems``. Problems come as
``(path, problem)`` pairs with JSON paths like ``$.items[0].price``; the helpers that name
JSON values in those messages (:func:`show_value`, :func:`key_path`) serve the conversion
module too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from nbclaude._exceptions import NbClaudeError

__all__ = [
    "StructuredOutputError",
    "describe_errors",
    "describe_schema",
    "is_type",
    "json_equal",
    "json_type",
    "key_path",
    "schema_errors",
    "show_value",
]


class StructuredOutputError(NbClaudeError, ValueError):
    """JSON from the model (a structured reply or a tool call's input) does not fit its schema.

    Attributes
    ----------
    errors : list of (str, str)
        ``(path, problem)`` pairs; a path looks like ``$.items[0].price``.
    text : str or None
        The reply text that was parsed, when there was one.

    Examples
    --------
    >>> from nbclaude._schema import parse_output
    >>> schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    >>> try:
    ...     parse_output('{"n": "three"}', schema)
    ... except StructuredOutputError as e:
    ...     print(e.errors)
    [('$.n', 'expected integer, got string "three"')]
    """

    hint = "Ask again, or relax the schema."

    def __init__(
        self,
        message: str,
        *,
        errors: list[tuple[str, str]] | None = None,
        text: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.errors = list(errors or [])
        self.text = text


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def is_type(value: Any, kind: str) -> bool:
    actual = json_type(value)
    if kind == actual:
        return True
    if kind == "number":
        return actual == "integer"
    if kind == "integer":
        return actual == "number" and math.isfinite(value) and float(value).is_integer()
    return False


def json_equal(a: Any, b: Any) -> bool:
    ka, kb = json_type(a), json_type(b)
    numbers = ("integer", "number")
    if ka in numbers and kb in numbers:
        return bool(a == b)
    if ka != kb:
        return False
    if ka == "array":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if ka == "object":
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def show_value(value: Any) -> str:
    kind = json_type(value)
    if kind == "null":
        return "null"
    if kind == "array":
        return f"an array of {len(value)} item{'s' if len(value) != 1 else ''}"
    if kind == "object":
        return "an object"
    text = json.dumps(value, ensure_ascii=False) if kind != type(value).__name__ else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{kind} {text}" if kind in ("string", "integer", "number", "boolean") else text


def key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"


def describe_schema(schema: Any) -> str:
    if not isinstance(schema, Mapping):
        return "anything" if schema is not False else "nothing"
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "object" and "title" in schema:
        return f"{kind} ({schema['title']})"
    return str(kind) if kind else "a value"


class _Validator:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.active: set[tuple[int, int]] = set()

    def resolve(self, ref: str) -> Any:
        if ref == "#":
            return self.root
        if not ref.startswith("#/"):
            return {}  # a remote reference: not checked
        node: Any = self.root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return {}
        return node

    def _kind(self, schema: Any) -> str:
        if isinstance(schema, Mapping) and "$ref" in schema:
            schema = self.resolve(str(schema["$ref"]))
        kind = schema.get("type") if isinstance(schema, Mapping) else None
        return kind if isinstance(kind, str) else ""

    def ok(self, value: Any, schema: Any) -> bool:
        return next(self.errors(value, schema, "$"), None) is None

    def errors(self, value: Any, schema: Any, path: str) -> Iterator[tuple[str, str]]:
        if schema is True or schema is None:
            return
        if schema is False:
            yield path, "no value is allowed here"
            return
        if not isinstance(schema, Mapping):
            return
        if "$ref" in schema:
            target = self.resolve(str(schema["$ref"]))
            key = (id(target), id(value))
            if key not in self.active:
                self.active.add(key)
                try:
                    yield from self.errors(value, target, path)
                finally:
                    self.active.discard(key)
        kind = schema.get("type")
        if kind is not None:
            kinds = [kind] if isinstance(kind, str) else list(kind)
            if not any(is_type(value, k) for k in kinds):
                yield path, f"expected {' or '.join(kinds)}, got {show_value(value)}"
                return
        if "const" in schema and not json_equal(value, schema["const"]):
            yield path, f"expected {json.dumps(schema['const'])}, got {show_value(value)}"
            return
        if "enum" in schema and not any(json_equal(value, v) for v in schema["enum"]):
            options = ", ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
            yield path, f"expected one of {options}; got {show_value(value)}"
            return
        actual = json_type(value)
        if actual == "string":
            yield from self._string(value, schema, path)
        elif actual in ("integer", "number"):
            yield from self._number(value, schema, path)
        elif actual == "array":
            yield from self._array(value, schema, path)
        elif actual == "object":
            yield from self._object(value, schema, path)
        yield from self._combinators(value, schema, path)

    def _string(
        self, value: str, schema: Mapping[str, Any], path: str
    ) -> Iterator[tuple[str, str]]:
        yield from _length_errors(len(value), schema, path, "minLength", "maxLength", "characters")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            try:
                matched = re.search(pattern, value) is not None
            except re.error:
                matched = True  # a pattern Python cannot read is not checked
            if not matched:
                yield path, f"expected text matching {pattern!r}, got {show_value(value)}"

    def _number(
        self, value: float, schema: Mapping[str, Any], path: str
    ) -> Iterator[tuple[str, str]]:
        checks: list[tuple[str, Callable[[float, float], bool], str]] = [
            ("minimum", lambda v, b: v >= b, "at least"),
            ("maximum", lambda v, b: v <= b, "at most"),
            ("exclusiveMinimum", lambda v, b: v > b, "more than"),
            ("exclusiveMaximum", lambda v, b: v < b, "less than"),
        ]
        for key, good, words in checks:
            bound = schema.get(key)
            if isinstance(bound, bool) or not isinstance(bound, (int, float)):
                continue
            if not good(value, bound):
                yield path, f"expected a number {words} {bound}, got {show_value(value)}"
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and step > 0:
            q = value / step
            if not (math.isfinite(q) and abs(q - round(q)) < 1e-9):
                yield path, f"expected a multiple of {step}, got {show_value(value)}"

    def _array(
        self, value: list[Any] | tuple[Any, ...], schema: Mapping[str, Any], path: str
    ) -> Iterator[tuple[str, str]]:
        n = len(value)
        yield from _length_errors(n, schema, path, "minItems", "maxItems", "items")
        prefix = schema.get("prefixItems")
        start = 0
        if isinstance(prefix, list):
            for i, (item, sub) in enumerate(zip(value, prefix, strict=False)):
                yield from self.errors(item, sub, f"{path}[{i}]")
            start = len(prefix)
        items = schema.get("items")
        if items is False and n > start:
            yield path, f"expected at most {start} items, got {n}"
        elif items is not None and items is not False:
            for i in range(start, n):
                yield from self.errors(value[i], items, f"{path}[{i}]")
        if schema.get("uniqueItems"):
            for i in range(n):
                if any(json_equal(value[i], value[j]) for j in range(i)):
                    yield f"{path}[{i}]", "expected unique items, got a repeated one"
                    break

    def _object(
        self, value: Mapping[str, Any], schema: Mapping[str, Any], path: str
    ) -> Iterator[tuple[str, str]]:
        for key in schema.get("required") or ():
            if key not in value:
                yield key_path(path, key), "required, but missing"
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties", True)
        unknown = []
        for key, item in value.items():
            if key in properties:
                yield from self.errors(item, properties[key], key_path(path, key))
            elif extra is False:
                unknown.append(key)
            elif extra is not True:
                yield from self.errors(item, extra, key_path(path, key))
        if unknown:
            allowed = ", ".join(properties) or "none"
            names = ", ".join(json.dumps(k) for k in unknown)
            yield (
                path,
                f"unexpected key{'s' if len(unknown) > 1 else ''} {names} (allowed: {allowed})",
            )

    def _combinators(
        self, value: Any, schema: Mapping[str, Any], path: str
    ) -> Iterator[tuple[str, str]]:
        for sub in schema.get("allOf") or ():
            yield from self.errors(value, sub, path)
        for key in ("anyOf", "oneOf"):
            arms = schema.get(key)
            if not isinstance(arms, list) or not arms:
                continue
            matches = [arm for arm in arms if self.ok(value, arm)]
            if key == "oneOf" and len(matches) > 1:
                yield path, f"expected exactly one of the {len(arms)} alternatives to match"
            if matches:
                continue
            # Report the alternative of the same JSON type, when there is exactly one.
            same = [a for a in arms if is_type(value, self._kind(a))]
            if len(same) == 1:
                yield from self.errors(value, same[0], path)
            else:
                options = " or ".join(describe_schema(a) for a in arms)
                yield path, f"expected {options}, got {show_value(value)}"
        sub = schema.get("not")
        if sub is not None and self.ok(value, sub):
            yield path, f"expected anything but {describe_schema(sub)}"


def _length_errors(
    n: int, schema: Mapping[str, Any], path: str, min_key: str, max_key: str, noun: str
) -> Iterator[tuple[str, str]]:
    """A length ``n`` (of a string or an array) against the schema's bounds."""
    low, high = schema.get(min_key), schema.get(max_key)
    if isinstance(low, int) and n < low:
        yield path, f"expected at least {low} {noun}, got {n}"
    if isinstance(high, int) and n > high:
        yield path, f"expected at most {high} {noun}, got {n}"


def schema_errors(value: Any, schema: Any, *, limit: int = 20) -> list[tuple[str, str]]:
    """Up to ``limit`` ``(path, problem)`` pairs where ``value`` breaks the JSON Schema."""
    out: list[tuple[str, str]] = []
    for error in _Validator(schema).errors(value, schema, "$"):
        out.append(error)
        if len(out) >= limit:
            break
    return out


def describe_errors(errors: list[tuple[str, str]], *, limit: int = 5) -> str:
    """``at $.x: expected ...; at $.y: ...`` (and how many more)."""
    parts = [f"at {path}: {problem}" for path, problem in errors[:limit]]
    if len(errors) > limit:
        parts.append(f"and {len(errors) - limit} more")
    return "; ".join(parts)
