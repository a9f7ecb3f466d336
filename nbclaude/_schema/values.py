"""Fixed values in a schema: ``Literal`` and ``Enum`` choices (``enum``/``const``), defaults.

:mod:`nbclaude._schema.build` asks here for the schema of a ``Literal[...]`` or an ``Enum``
class, and whether a default value can be written into a schema (as JSON).
"""

from __future__ import annotations

import enum
import json
from typing import Any

from nbclaude._exceptions import SchemaError

from .check import json_type
from .convert import to_jsonable
from .docstrings import parse_docstring
from .hints import class_docstring, literal_value

__all__ = ["enum_schema", "jsonable_default", "literal_schema"]


def jsonable_default(value: Any) -> tuple[bool, Any]:
    """``(True, JSON)`` when a default value can be written into a schema, else ``(False, None)``.

    Examples
    --------
    >>> jsonable_default((1, 2)), jsonable_default(object())[0]
    ((True, [1, 2]), False)
    """
    try:
        out = to_jsonable(value)
        json.dumps(out, allow_nan=False)
    except (TypeError, ValueError):
        return False, None
    return True, out


def _primitive_type(values: list[Any]) -> str | None:
    kinds = {json_type(v) for v in values}
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    return kind if kind in ("string", "integer", "number", "boolean", "null") else None


def literal_schema(args: tuple[Any, ...], where: str) -> dict[str, Any]:
    """The schema of ``Literal[*args]``: ``const`` for one value, else ``enum`` (with a ``type``
    when all values have the same JSON type).

    Raises
    ------
    TypeError
        A value JSON cannot carry; ``where`` says where the type was found.

    Examples
    --------
    >>> literal_schema(("c", "f"), "units"), literal_schema((1,), "one")
    ({'type': 'string', 'enum': ['c', 'f']}, {'type': 'integer', 'const': 1})
    """
    values = [literal_value(v) for v in args]
    for v in values:
        if not (v is None or isinstance(v, (str, int, float, bool))):
            raise SchemaError(f"Literal values must be str, int, float, bool or None (at {where}).")
    out: dict[str, Any] = {}
    kind = _primitive_type(values)
    if kind is not None and kind != "null":
        out["type"] = kind
    if len(values) == 1:
        out["const"] = values[0]
    else:
        out["enum"] = values
    return out


def enum_schema(cls: type[enum.Enum], where: str) -> dict[str, Any]:
    """The schema of an ``Enum`` class: its values as ``enum``, its name as ``title`` and its
    docstring as ``description``.

    Raises
    ------
    TypeError
        A member value JSON cannot carry; ``where`` says where the type was found.

    Examples
    --------
    >>> class Units(enum.Enum):
    ...     "Temperature units."
    ...     C = "c"
    ...     F = "f"
    >>> enum_schema(Units, "units")
    {'title': 'Units', 'type': 'string', 'description': 'Temperature units.', 'enum': ['c', 'f']}
    """
    values = [member.value for member in cls]
    for v in values:
        if not (v is None or isinstance(v, (str, int, float, bool))):
            raise SchemaError(
                f"The values of {cls.__qualname__} (at {where}) must be str, int, float or bool "
                "to be sent as JSON."
            )
    out: dict[str, Any] = {"title": cls.__name__}
    kind = _primitive_type(values)
    if kind is not None:
        out["type"] = kind
    doc = class_docstring(cls)
    if doc:
        out["description"] = parse_docstring(doc).description
    out["enum"] = values
    return out
