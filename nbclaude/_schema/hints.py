"""Looking at Python types: unwrapping ``Annotated`` and aliases, recognising classes, hints.

The shared ground of :mod:`nbclaude._schema.build` (types -> JSON Schema) and
:mod:`nbclaude._schema.convert` (JSON -> Python). ``typing_extensions`` is never imported:
its forms are recognised when the user's code has loaded it. pydantic models are recognised by
duck typing (``model_json_schema`` / ``model_validate``) and never imported either.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
import typing
import weakref
from typing import Any, get_args, get_origin

from nbclaude._exceptions import SchemaError

__all__ = [
    "ABC_MAPPINGS",
    "ABC_SEQUENCES",
    "ABC_SETS",
    "NONE_TYPE",
    "SEQUENCES",
    "class_docstring",
    "extra_forms",
    "is_named",
    "is_pydantic",
    "is_typeddict",
    "literal_value",
    "string_format",
    "type_hints",
    "type_name",
    "typeddict_required",
    "unwrap",
]

NONE_TYPE = type(None)
SEQUENCES = {list, tuple, set, frozenset}
ABC_SEQUENCES = {"Sequence", "MutableSequence", "Iterable", "Collection", "Reversible"}
ABC_SETS = {"Set", "MutableSet", "AbstractSet"}
ABC_MAPPINGS = {"Mapping", "MutableMapping"}


def type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__qualname__
    return repr(tp).replace("typing.", "").replace("typing_extensions.", "")


def extra_forms(name: str) -> set[Any]:
    """``typing.<name>`` and ``typing_extensions.<name>`` (when loaded), if they exist."""
    found = {getattr(typing, name, None)}
    te = sys.modules.get("typing_extensions")
    if te is not None:
        found.add(getattr(te, name, None))
    found.discard(None)
    return found


_WRAPPERS: dict[bool, set[Any]] = {}


def _wrapper_forms() -> set[Any]:
    """``Required``, ``NotRequired``, ``ReadOnly`` (typing's and typing_extensions')."""
    key = "typing_extensions" in sys.modules
    forms = _WRAPPERS.get(key)
    if forms is None:
        forms = extra_forms("Required") | extra_forms("NotRequired") | extra_forms("ReadOnly")
        _WRAPPERS[key] = forms
    return forms


def is_typeddict(tp: Any) -> bool:
    if not isinstance(tp, type) or not issubclass(tp, dict):
        return False
    if typing.is_typeddict(tp):
        return True
    te = sys.modules.get("typing_extensions")
    return bool(te is not None and te.is_typeddict(tp))


def is_pydantic(tp: Any) -> bool:
    return (
        isinstance(tp, type)
        and callable(getattr(tp, "model_json_schema", None))
        and callable(getattr(tp, "model_validate", None))
    )


def is_named(tp: Any) -> bool:
    """Types that become a ``$defs`` entry (objects with a class name)."""
    return isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or is_typeddict(tp) or is_pydantic(tp)
    )


def unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """Strip ``Annotated``, ``NewType``, ``type X = ...`` aliases and ``Required``-like wrappers.

    Returns the core type and the ``Annotated`` metadata found on the way.
    """
    meta: list[Any] = []
    if isinstance(tp, type):
        return tp, meta  # a class: nothing to strip (the common case, kept fast)
    wrappers = _wrapper_forms()
    for _ in range(50):
        origin = get_origin(tp)
        if origin is typing.Annotated:
            args = get_args(tp)
            tp = args[0]
            meta.extend(args[1:])
        elif origin in wrappers:
            tp = get_args(tp)[0]
        elif callable(tp) and hasattr(tp, "__supertype__"):  # typing.NewType
            tp = tp.__supertype__
        elif type(tp).__name__ == "TypeAliasType" and hasattr(tp, "__value__"):
            tp = tp.__value__
        else:
            break
    return tp, meta


# Type hints of classes, read once per class (conversion reads them for every instance).
_CLASS_HINTS: weakref.WeakKeyDictionary[type, dict[str, Any]] = weakref.WeakKeyDictionary()


def type_hints(obj: Any, where: str) -> dict[str, Any]:
    """``get_type_hints`` with ``Annotated`` kept, and an error that says what to do."""
    if isinstance(obj, type):
        cached = _CLASS_HINTS.get(obj)
        if cached is not None:
            return cached
    localns = {obj.__name__: obj} if isinstance(obj, type) else None
    try:
        hints = typing.get_type_hints(obj, localns=localns, include_extras=True)
    except Exception as e:
        raise SchemaError(
            f"Cannot read the type hints of {where}: {type(e).__name__}: {e}. Define the types "
            "they use at the top level of the notebook or module (not inside a function)."
        ) from None
    if isinstance(obj, type):
        _CLASS_HINTS[obj] = hints
    return hints


def class_docstring(cls: type) -> str | None:
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str):
        return None
    if dataclasses.is_dataclass(cls) and doc.startswith(f"{cls.__name__}(") and "\n" not in doc:
        return None  # the signature dataclasses writes when there is no docstring
    return doc


def typeddict_required(cls: type, hints: dict[str, Any]) -> set[str]:
    """The required keys of a TypedDict, also when its annotations were strings."""
    required = set(getattr(cls, "__required_keys__", hints))
    yes, no = extra_forms("Required"), extra_forms("NotRequired")
    for key, hint in hints.items():
        while get_origin(hint) is typing.Annotated:
            hint = get_args(hint)[0]
        if get_origin(hint) in yes:
            required.add(key)
        elif get_origin(hint) in no:
            required.discard(key)
    return required


def literal_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def string_format(tp: type) -> str | None:
    """The string ``format`` of ``datetime``/``date``/``time``/``UUID`` (and subclasses)."""
    if not any(c.__module__ in ("datetime", "uuid") for c in tp.__mro__):
        return None  # without importing datetime and uuid
    import datetime
    import uuid

    for cls, fmt in (
        (datetime.datetime, "date-time"),
        (datetime.date, "date"),
        (datetime.time, "time"),
        (uuid.UUID, "uuid"),
    ):
        if issubclass(tp, cls):
            return fmt
    return None
