"""JSON -> Python and back: :func:`from_json` and :func:`to_jsonable`.

:func:`from_json` builds dataclass instances, ``TypedDict`` dicts, ``Enum`` members, tuples,
sets, ``datetime``/``date``/``time``/``UUID`` values and pydantic models from the JSON a
type's schema describes; :func:`to_jsonable` goes the other way. :func:`convert` is the same
conversion raising :class:`MismatchError` (a path and a problem), for callers that word the
error themselves (parsing a reply, a tool call's input).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union, get_args, get_origin

from .check import (
    StructuredOutputError,
    is_type,
    json_equal,
    json_type,
    key_path,
    show_value,
)
from .hints import (
    ABC_MAPPINGS,
    ABC_SEQUENCES,
    ABC_SETS,
    NONE_TYPE,
    SEQUENCES,
    is_pydantic,
    is_typeddict,
    literal_value,
    string_format,
    type_hints,
    type_name,
    typeddict_required,
    unwrap,
)

__all__ = ["MismatchError", "convert", "convert_checked", "from_json", "to_jsonable"]

_MISSING = dataclasses.MISSING


class MismatchError(Exception):
    """Internal: a JSON value does not fit a Python type (``path``, ``problem``)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem


def _parse_iso(cls: type, fmt: str, text: str) -> Any:
    if fmt == "uuid":
        return cls(text)
    if fmt == "date-time" and text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"  # Python 3.10 does not read "Z"
    return cls.fromisoformat(text)  # type: ignore[attr-defined]


def convert(value: Any, tp: Any, path: str, exact: bool) -> Any:
    tp, _ = unwrap(tp)
    if tp is Any or tp is object:
        return value
    if tp is None or tp is NONE_TYPE:
        if value is None:
            return None
        raise MismatchError(path, f"expected null, got {show_value(value)}")
    origin = get_origin(tp)
    if origin is Literal:
        for option in get_args(tp):
            if json_equal(value, literal_value(option)):
                return option
        options = ", ".join(json.dumps(literal_value(v)) for v in get_args(tp))
        raise MismatchError(path, f"expected one of {options}; got {show_value(value)}")
    if origin is Union or origin is types.UnionType:
        passes = (True, False) if not exact else (True,)
        for strict in passes:
            for arm in get_args(tp):
                try:
                    return convert(value, arm, path, strict)
                except MismatchError:
                    continue
        raise MismatchError(path, f"expected {type_name(tp)}, got {show_value(value)}")
    if origin is not None:
        return _convert_generic(value, tp, origin, get_args(tp), path, exact)
    if not isinstance(tp, type):
        return value
    kind = json_type(value)
    if issubclass(tp, enum.Enum):
        for member in tp:
            if json_equal(value, member.value):
                return member
        options = ", ".join(json.dumps(m.value) for m in tp)
        raise MismatchError(path, f"expected one of {options}; got {show_value(value)}")
    if tp is bool:
        if kind == "boolean":
            return value
        raise MismatchError(path, f"expected boolean, got {show_value(value)}")
    if issubclass(tp, int):
        if kind == "integer" or (not exact and is_type(value, "integer")):
            return tp(value)
        raise MismatchError(path, f"expected integer, got {show_value(value)}")
    if issubclass(tp, float):
        if kind == "number" or (not exact and kind == "integer"):
            return tp(value)
        raise MismatchError(path, f"expected number, got {show_value(value)}")
    if issubclass(tp, str):
        if kind == "string":
            return value if tp is str else tp(value)
        raise MismatchError(path, f"expected string, got {show_value(value)}")
    fmt = string_format(tp)
    if fmt is not None:
        if kind == "string":
            try:
                return _parse_iso(tp, fmt, value)
            except ValueError:
                pass
        raise MismatchError(path, f"expected a {fmt} string, got {show_value(value)}")
    if is_pydantic(tp):
        try:
            return tp.model_validate(value)  # type: ignore[attr-defined]
        except Exception as e:  # pydantic.ValidationError
            raise MismatchError(path, f"not a valid {tp.__name__}: {e}") from None
    if dataclasses.is_dataclass(tp):
        return _convert_dataclass(value, tp, path)
    if is_typeddict(tp):
        return _convert_typeddict(value, tp, path)
    if tp in SEQUENCES or tp is dict:
        args = (Any, ...) if tp is tuple else (str, Any) if tp is dict else (Any,)
        return _convert_generic(value, tp, tp, args, path, exact)
    raise MismatchError(path, f"cannot make a {tp.__qualname__} from JSON")


def _convert_generic(
    value: Any, tp: Any, origin: Any, args: tuple[Any, ...], path: str, exact: bool
) -> Any:
    name = getattr(origin, "__name__", "")
    kind = json_type(value)
    if origin is dict or name in ABC_MAPPINGS:
        if kind != "object":
            raise MismatchError(path, f"expected object, got {show_value(value)}")
        if not args:
            return dict(value)
        return {k: convert(v, args[1], key_path(path, k), exact) for k, v in value.items()}
    if origin in SEQUENCES or name in ABC_SEQUENCES | ABC_SETS:
        if kind != "array":
            raise MismatchError(path, f"expected array, got {show_value(value)}")
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if args == ((),):
                args = ()
            if len(value) != len(args):
                raise MismatchError(path, f"expected {len(args)} items, got {len(value)}")
            return tuple(
                convert(v, a, f"{path}[{i}]", exact)
                for i, (v, a) in enumerate(zip(value, args, strict=True))
            )
        item = args[0] if args else Any
        items = [convert(v, item, f"{path}[{i}]", exact) for i, v in enumerate(value)]
        if origin is tuple:
            return tuple(items)
        if origin in (set, frozenset) or name in ABC_SETS:
            try:
                return frozenset(items) if origin is frozenset else set(items)
            except TypeError:
                raise MismatchError(
                    path, "set items must be hashable (e.g. frozen dataclasses)"
                ) from None
        return items
    raise MismatchError(path, f"cannot make a {type_name(tp)} from JSON")


def _convert_dataclass(value: Any, cls: type, path: str) -> Any:
    if json_type(value) != "object":
        raise MismatchError(path, f"expected object ({cls.__name__}), got {show_value(value)}")
    hints = type_hints(cls, cls.__qualname__)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in value if k not in fields]
    if unknown:
        raise MismatchError(path, f"unexpected key {json.dumps(unknown[0])} for {cls.__name__}")
    kwargs = {}
    for name, f in fields.items():
        if name in value:
            kwargs[name] = convert(value[name], hints.get(name, Any), key_path(path, name), False)
        elif f.default is _MISSING and f.default_factory is _MISSING:
            raise MismatchError(key_path(path, name), "required, but missing")
    try:
        return cls(**kwargs)
    except Exception as e:  # e.g. a check in __post_init__
        raise MismatchError(path, f"{cls.__name__}(...) failed: {type(e).__name__}: {e}") from None


def _convert_typeddict(value: Any, cls: type, path: str) -> Any:
    if json_type(value) != "object":
        raise MismatchError(path, f"expected object ({cls.__name__}), got {show_value(value)}")
    hints = type_hints(cls, cls.__qualname__)
    unknown = [k for k in value if k not in hints]
    if unknown:
        raise MismatchError(path, f"unexpected key {json.dumps(unknown[0])} for {cls.__name__}")
    for key in sorted(typeddict_required(cls, hints) - value.keys()):
        raise MismatchError(key_path(path, key), "required, but missing")
    return {k: convert(v, hints[k], key_path(path, k), False) for k, v in value.items()}


def from_json(value: Any, tp: Any) -> Any:
    """Turn a JSON value into the Python type ``tp`` describes.

    Dataclasses are built from objects, ``Enum`` members found by value, tuples and sets made
    from arrays, ``datetime``/``date``/``time``/``UUID`` parsed from strings; ints are
    accepted where a float is expected (and made floats). Unions try each arm in order,
    exact matches first.

    Raises
    ------
    StructuredOutputError
        ``value`` does not fit ``tp`` (with the path of the first problem).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Point:
    ...     x: float
    ...     y: float
    >>> from_json([{"x": 1, "y": 2.5}], list[Point])
    [Point(x=1.0, y=2.5)]
    """
    return convert_checked(value, tp)


def convert_checked(
    value: Any, tp: Any, *, subject: str = "The value", text: str | None = None
) -> Any:
    """:func:`from_json`, with the error worded ``"<subject> does not fit ..."`` and ``text``."""
    try:
        return convert(value, tp, "$", False)
    except MismatchError as e:
        raise StructuredOutputError(
            f"{subject} does not fit {type_name(tp)}: at {e.path}: {e.problem}",
            errors=[(e.path, e.problem)],
            text=text,
        ) from None


def to_jsonable(value: Any, *, default: Callable[[Any], Any] | None = None) -> Any:
    """A plain-JSON version of ``value`` (the inverse of :func:`from_json`).

    Dataclasses and pydantic models become objects, ``Enum`` members their values, tuples
    and sets arrays, dates ISO strings, UUIDs strings, numpy scalars and arrays numbers and
    lists. Anything else goes to ``default`` (``TypeError`` without one).

    Examples
    --------
    >>> import enum
    >>> class Color(enum.Enum):
    ...     RED = "red"
    >>> to_jsonable({"colors": (Color.RED,), "n": {3}})
    {'colors': ['red'], 'n': [3]}
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, default=default)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_jsonable(getattr(value, f.name), default=default)
            for f in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        return {
            str(to_jsonable(k, default=str)): to_jsonable(v, default=default)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, default=default) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [to_jsonable(v, default=default) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    fmt = string_format(type(value))
    if fmt is not None:
        return str(value) if fmt == "uuid" else value.isoformat()
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return dump(mode="json")
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return to_jsonable(value.tolist(), default=default)
    if default is not None:
        return default(value)
    raise TypeError(f"{type(value).__name__} is not JSON: convert it first.")
