"""Structured outputs: :func:`output_format`, :func:`parse_output` and :func:`validate`.

Each takes a JSON Schema dict, an ``output_config.format`` dict or a Python type.

Structured outputs accept a subset of JSON Schema (platform.claude.com, "Structured outputs",
JSON Schema limitations): every object needs ``additionalProperties: false``; no recursive
schemas; no numeric or length constraints (``minimum``, ``maxLength``, ...); ``minItems`` only
0 or 1; ``enum`` of primitives only; only local ``$ref``. So :func:`output_format` sends, for a
Python type, a schema reduced to that subset by :func:`for_api` (dropped constraints are
written into the ``description``, as the official SDK does) and :func:`parse_output` still
checks the full schema locally. A top-level schema need not be an object: a recorded real
request with a top-level ``{"type": "array"}`` schema was answered with ``[12345,67890]``
(fixture ``9381e2b7``), and the SDK sends any type's schema as is; nbclaude does the same.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from nbclaude._exceptions import SchemaError

from .build import JSONSchema, escape_pointer, json_schema
from .check import StructuredOutputError, describe_errors, describe_schema, schema_errors
from .convert import convert_checked
from .hints import type_name

__all__ = ["find_cycle", "for_api", "output_format", "parse_output", "validate"]

# String formats structured outputs accept (the official SDK's list); others become notes.
_API_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)
# Keywords structured outputs accept as they are; anything else is moved into the description.
_API_KEYWORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "const"}
    | {"anyOf", "allOf", "$ref", "$defs", "description", "title", "format", "minItems"}
)
# A schema with none of these accepts anything, which structured outputs refuse.
_TYPED = ("type", "enum", "const", "anyOf", "allOf", "$ref")


def _refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, list):
        for item in schema:
            yield from _refs(item)
    elif isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key != "$defs":
                yield from _refs(value)


def find_cycle(schema: JSONSchema) -> str | None:
    """The name of a ``$defs`` entry that refers to itself (directly or not), if any."""
    defs = schema.get("$defs") or {}
    graph = {f"#/$defs/{escape_pointer(name)}": set(_refs(body)) for name, body in defs.items()}
    graph["#"] = set(_refs(schema))
    for start in graph:
        seen: set[str] = set()
        stack = list(graph[start])
        while stack:
            node = stack.pop()
            if node == start and start != "#":
                return start.rsplit("/", 1)[-1]
            if node == "#" and start == "#":
                return "the top-level type"
            if node in seen:
                continue
            seen.add(node)
            stack.extend(graph.get(node, ()))
    return None


def _note(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def for_api(schema: Any, where: str = "$") -> Any:
    """Reduce a generated schema to what structured outputs and strict tools accept.

    Unsupported keywords move into the ``description`` (so the model still reads them; the
    full schema is checked locally). Raises ``TypeError`` for what cannot be expressed: an
    object with free-form keys (``dict[str, T]``).
    """
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        out: JSONSchema = {"$ref": schema["$ref"]}
        if "$defs" in schema:
            out["$defs"] = {k: for_api(v, k) for k, v in schema["$defs"].items()}
        return out
    out = {}
    notes: list[str] = []
    for key, value in schema.items():
        if key == "$defs":
            out[key] = {k: for_api(v, k) for k, v in value.items()}
        elif key == "properties":
            out[key] = {k: for_api(v, f"{where}.{k}") for k, v in value.items()}
        elif key == "items":
            if value is not False:
                out[key] = for_api(value, f"{where}[]")
        elif key in ("anyOf", "oneOf", "allOf"):
            out["allOf" if key == "allOf" else "anyOf"] = [for_api(v, where) for v in value]
        elif key == "prefixItems":
            arms: list[Any] = []
            for item in value:
                item = for_api(item, f"{where}[]")
                if item not in arms:
                    arms.append(item)
            out["items"] = arms[0] if len(arms) == 1 else {"anyOf": arms}
            kinds = ", ".join(describe_schema(item) for item in value)
            notes.append(f"Exactly {len(value)} items, in this order: {kinds}.")
        elif key in ("maxItems", "minItems") and "prefixItems" in schema:
            continue
        elif key == "format" and value not in _API_FORMATS:
            notes.append(f"Format: {value}.")
        elif key == "minItems" and value not in (0, 1):
            notes.append(f"At least {value} items.")
        elif key == "default":
            notes.append(f"Default: {_note(value)}.")
        elif key == "uniqueItems":
            if value:
                notes.append("Items must be unique.")
        elif key == "additionalProperties":
            if value is not False:
                raise _free_form(where)
            out[key] = False
        elif key in _API_KEYWORDS:
            out[key] = value
        else:
            notes.append(f"{key}: {_note(value)}.")
    if out.get("type") == "object" or "properties" in out:
        if "properties" not in out:
            raise _free_form(where)
        out["additionalProperties"] = False
    if not any(k in out for k in _TYPED):
        raise SchemaError(
            f"Structured outputs need a type for every value, but the value at {where} can "
            "be anything (typing.Any, or a missing type hint). Give it a type."
        )
    if notes:
        text = " ".join(notes)
        out["description"] = f"{out['description']}\n\n{text}" if out.get("description") else text
    return out


def _free_form(where: str) -> SchemaError:
    return SchemaError(
        f"Structured outputs need named fields, but the object at {where} has free-form keys "
        "(dict or dict[str, ...]): the API only accepts objects with additionalProperties: "
        "false. Use a dataclass or TypedDict, or a list of key/value dataclasses."
    )


def output_format(schema: Any) -> dict[str, Any]:
    """The ``output_config.format`` value asking for a reply that matches ``schema``.

    Parameters
    ----------
    schema : dict or type
        A JSON Schema dict (sent as it is; an already-made ``{"type": "json_schema",
        "schema": ...}`` passes through), or a type :func:`json_schema` understands
        (a dataclass, a ``TypedDict``, ``list[int]``, ...). A type's schema is reduced to the
        subset structured outputs accept (see the module docstring); constraints the API
        does not take are written into descriptions and still checked by
        :func:`parse_output`.

    Returns
    -------
    dict
        ``{"type": "json_schema", "schema": {...}}``.

    Raises
    ------
    TypeError
        The type cannot be described, refers to itself (the API refuses recursive schemas),
        or has free-form keys (``dict[str, T]``).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class User:
    ...     name: str
    ...     age: int
    >>> output_format(User)["schema"]["required"]
    ['name', 'age']
    """
    if isinstance(schema, Mapping):
        if schema.get("type") == "json_schema" and isinstance(schema.get("schema"), Mapping):
            return dict(schema)
        return {"type": "json_schema", "schema": schema}
    full = json_schema(schema)
    cycle = find_cycle(full)
    if cycle is not None:
        raise SchemaError(
            f"{type_name(schema)} is recursive ({cycle} refers to itself), and structured "
            "outputs do not support recursive schemas. Limit the depth with separate classes, "
            "or pass a JSON Schema dict."
        )
    return {"type": "json_schema", "schema": for_api(full)}


def _as_schema(schema: Any) -> Any:
    if isinstance(schema, Mapping):
        if schema.get("type") == "json_schema" and isinstance(schema.get("schema"), Mapping):
            return schema["schema"]
        return schema
    if isinstance(schema, bool):
        return schema
    return json_schema(schema)


def validate(value: Any, schema: Any) -> None:
    """Check a JSON value against a JSON Schema (or a type's schema).

    Handles ``type``, ``properties``, ``required``, ``additionalProperties``, ``items``,
    ``prefixItems``, ``enum``, ``const``, ``anyOf``/``oneOf``/``allOf``/``not``, local
    ``$ref`` with ``$defs``, ``minimum``/``maximum`` (and exclusive), ``multipleOf``,
    ``minLength``/``maxLength``/``pattern``, ``minItems``/``maxItems``/``uniqueItems``.
    ``format`` and unknown keywords are ignored.

    Raises
    ------
    StructuredOutputError
        With every problem found (``errors``) and the first few in the message.

    Examples
    --------
    >>> validate({"units": "k"}, {"type": "object", "properties": {"units": {"enum": ["c", "f"]}}})
    Traceback (most recent call last):
    ...
    nbclaude._schema.check.StructuredOutputError: The value does not match the schema: ...
    """
    schema = _as_schema(schema)
    errors = schema_errors(value, schema)
    if errors:
        raise StructuredOutputError(
            f"The value does not match the schema: {describe_errors(errors)}", errors=errors
        )


_FENCE = re.compile(r"^```[\w-]*\s*\n(?P<body>.*?)\n?```\s*$", re.DOTALL)


def parse_output(text: str, schema: Any) -> Any:
    """Parse a structured reply: JSON text -> validated value (-> Python objects).

    Parameters
    ----------
    text : str
        The reply's text (with ``output_config.format`` the API sends just the JSON; a
        ```` ```json ```` fence around it is tolerated).
    schema : dict or type
        A JSON Schema dict (the validated JSON value is returned), an ``output_config.format``
        dict, or a type (the value is validated against its full schema and converted with
        :func:`from_json`: dataclass instances, ``Enum`` members, tuples, ...).

    Raises
    ------
    StructuredOutputError
        The text is empty or not JSON (a refusal, or a reply cut by ``max_tokens``), or the
        value breaks the schema; ``errors`` lists the problems with their JSON paths.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class User:
    ...     name: str
    ...     age: int
    >>> parse_output('{"name": "John Doe", "age": 30}', User)
    User(name='John Doe', age=30)
    """
    stripped = text.strip() if isinstance(text, str) else ""
    fence = _FENCE.match(stripped)
    if fence:
        stripped = fence["body"].strip()
    if not stripped:
        raise StructuredOutputError(
            "The reply has no JSON (it is empty: maybe a refusal; see stop_reason).",
            text=text,
            hint="Look at the reply's stop_reason, or ask again.",
        )
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as e:
        raise StructuredOutputError(
            f"The reply is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}.",
            errors=[("$", e.msg)],
            text=text,
            hint="If the reply stopped at max_tokens, raise max_tokens and ask again.",
        ) from None
    full = _as_schema(schema)
    errors = schema_errors(value, full)
    if errors:
        raise StructuredOutputError(
            f"The reply does not match the schema: {describe_errors(errors)}",
            errors=errors,
            text=text,
        )
    if isinstance(schema, (Mapping, bool)):
        return value
    return convert_checked(value, schema, subject="The reply", text=text)
