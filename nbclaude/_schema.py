"""Python types -> JSON Schema, and the model's JSON back to checked Python values.

* :func:`json_schema` describes a Python type (``str``, ``list[int]``, ``Literal``, ``Enum``,
  ``Optional``, dataclasses, ``TypedDict``, ``Annotated`` descriptions, recursive types, ...)
  as a JSON Schema dict, the way tool ``input_schema`` and structured outputs want it.
* :func:`output_format` makes the request's ``output_config.format`` value.
* :func:`parse_output` parses a structured reply, :func:`validate` checks it against the schema
  and :func:`from_json` turns it into dataclass instances, ``Enum`` members, tuples, ...;
  :func:`to_jsonable` goes the other way.

Structured outputs accept a subset of JSON Schema (platform.claude.com, "Structured outputs",
JSON Schema limitations): every object needs ``additionalProperties: false``; no recursive
schemas; no numeric or length constraints (``minimum``, ``maxLength``, ...); ``minItems`` only
0 or 1; ``enum`` of primitives only; only local ``$ref``. So :func:`output_format` sends, for a
Python type, a schema reduced to that subset (dropped constraints are written into the
``description``, as the official SDK does) and :func:`parse_output` still checks the full
schema locally. A top-level schema need not be an object: a recorded real request with a
top-level ``{"type": "array"}`` schema was answered with ``[12345,67890]`` (fixture
``9381e2b7``), and the SDK sends any type's schema as is; nbclaude does the same.

Only the standard library is used; pydantic models are recognised by duck typing
(``model_json_schema`` / ``model_validate``) and never imported.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import math
import re
import sys
import types
import typing
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, NamedTuple, Union, get_args, get_origin

from ._exceptions import NbClaudeError

__all__ = [
    "StructuredOutputError",
    "from_json",
    "json_schema",
    "output_format",
    "parse_output",
    "to_jsonable",
    "validate",
]

JSONSchema = dict[str, Any]
_MISSING = dataclasses.MISSING
_NONE_TYPE = type(None)
_SEQUENCES = {list, tuple, set, frozenset}
_ABC_SEQUENCES = {"Sequence", "MutableSequence", "Iterable", "Collection", "Reversible"}
_ABC_SETS = {"Set", "MutableSet", "AbstractSet"}
_ABC_MAPPINGS = {"Mapping", "MutableMapping"}
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


class _MismatchError(Exception):
    """Internal: a JSON value does not fit a Python type (``path``, ``problem``)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem


# --------------------------------------------------------------------------------------------
# Docstrings (numpy, Google and Sphinx styles)


class _Docstring(NamedTuple):
    description: str  # the summary and extended description, before any section
    params: dict[str, str]  # parameter / attribute name -> description
    types: dict[str, str]  # parameter name -> the type written in the docstring
    returns: str  # the Returns section, as one line


_SECTIONS = {
    "args": "params",
    "arguments": "params",
    "parameters": "params",
    "params": "params",
    "other parameters": "params",
    "keyword args": "params",
    "keyword arguments": "params",
    "attributes": "params",
    "returns": "returns",
    "return": "returns",
    "yields": "other",
    "raises": "other",
    "examples": "other",
    "example": "other",
    "notes": "other",
    "note": "other",
    "see also": "other",
    "references": "other",
    "warnings": "other",
    "warning": "other",
    "warns": "other",
    "todo": "other",
    "methods": "other",
}
_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
_GOOGLE_HEADER = re.compile(r"^\s*([A-Za-z][A-Za-z ]*):\s*$")
_GOOGLE_ENTRY = re.compile(
    r"^\*{0,2}(?P<names>[\w.]+)\s*(?:\((?P<type>[^)]*)\))?\s*:\s*(?P<desc>.*)$"
)
_NUMPY_ENTRY = re.compile(
    r"^(?P<names>\*{0,2}[\w.]+(?:\s*,\s*\*{0,2}[\w.]+)*)\s*(?::\s*(?P<type>.*))?$"
)
_SPHINX = re.compile(
    r"^:(?P<kind>param|parameter|arg|argument|key|keyword|type|returns?)\b"
    r"\s*(?P<rest>[^:]*):\s*(?P<desc>.*)$"
)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _join(lines: list[str]) -> str:
    return " ".join(s for s in (line.strip() for line in lines) if s)


def parse_docstring(doc: str | None) -> _Docstring:
    """Split a docstring into description, parameter descriptions and a Returns line.

    Understands numpy sections (``Parameters`` underlined with dashes, ``x : int`` entries),
    Google sections (``Args:`` with ``x (int): text`` entries) and Sphinx fields
    (``:param x: text``). Sections other than parameters, attributes and returns are dropped.
    """
    if not doc:
        return _Docstring("", {}, {}, "")
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    params: dict[str, str] = {}
    ptypes: dict[str, str] = {}
    returns: list[str] = []
    i = 0
    in_description = True
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        name = stripped.rstrip(":").strip().lower()
        numpy = name in _SECTIONS and i + 1 < len(lines) and bool(_UNDERLINE.match(lines[i + 1]))
        google = not numpy and name in _SECTIONS and bool(_GOOGLE_HEADER.match(line))
        sphinx = _SPHINX.match(stripped)
        if numpy or google:
            in_description = False
            start = i + (2 if numpy else 1)
            end = start
            while end < len(lines):
                nxt = lines[end]
                nxt_name = nxt.strip().rstrip(":").strip().lower()
                if nxt_name in _SECTIONS and (
                    (end + 1 < len(lines) and _UNDERLINE.match(lines[end + 1]))
                    or (_GOOGLE_HEADER.match(nxt) and _indent(nxt) <= _indent(line))
                ):
                    break
                if nxt.strip() and _indent(nxt) < _indent(line) + (0 if numpy else 1):
                    break
                end += 1
            body = lines[start:end]
            kind = _SECTIONS[name]
            if kind == "params":
                _section_entries(body, numpy, params, ptypes)
            elif kind == "returns":
                returns.extend(_returns_text(body, numpy))
            i = end
            continue
        if sphinx:
            in_description = False
            kind, rest = sphinx["kind"], sphinx["rest"].split()
            desc = [sphinx["desc"]]
            i += 1
            while i < len(lines) and lines[i].strip() and not lines[i].lstrip().startswith(":"):
                desc.append(lines[i])
                i += 1
            if kind.startswith("return"):
                returns.append(_join(desc))
            elif kind == "type" and rest:
                ptypes[rest[-1]] = _join(desc)
            elif rest:
                params[rest[-1]] = _join(desc)
                if len(rest) > 1:
                    ptypes.setdefault(rest[-1], " ".join(rest[:-1]))
            continue
        if in_description:
            description.append(line.rstrip())
        i += 1
    while description and not description[-1].strip():
        description.pop()
    text = "\n".join(description).strip()
    return _Docstring(text, params, ptypes, " ".join(r for r in returns if r))


def _entries(body: list[str]) -> Iterator[tuple[str, list[str]]]:
    """(entry line, continuation lines) for the lines of a section."""
    base = min((_indent(line) for line in body if line.strip()), default=0)
    head: str | None = None
    rest: list[str] = []
    for line in body:
        if line.strip() and _indent(line) <= base:
            if head is not None:
                yield head, rest
            head, rest = line.strip(), []
        elif head is not None:
            rest.append(line)
    if head is not None:
        yield head, rest


def _section_entries(
    body: list[str], numpy: bool, params: dict[str, str], ptypes: dict[str, str]
) -> None:
    for head, rest in _entries(body):
        if numpy:
            m = _NUMPY_ENTRY.match(head)
            if not m:
                continue
            desc, typ = _join(rest), (m["type"] or "").strip()
        else:
            m = _GOOGLE_ENTRY.match(head)
            if not m:
                continue
            desc, typ = _join([m["desc"], *rest]), (m["type"] or "").strip()
        for raw in m["names"].split(","):
            key = raw.strip().lstrip("*")
            if key:
                params.setdefault(key, desc)
                if typ:
                    ptypes.setdefault(key, typ)


def _returns_text(body: list[str], numpy: bool) -> list[str]:
    if not numpy:
        return [_join(body)]
    out = []
    for head, rest in _entries(body):
        desc = _join(rest)
        out.append(f"{head}: {desc}" if desc else head)
    return out


# --------------------------------------------------------------------------------------------
# Looking at types


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__qualname__
    return repr(tp).replace("typing.", "").replace("typing_extensions.", "")


def _extra_forms(name: str) -> set[Any]:
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
        forms = _extra_forms("Required") | _extra_forms("NotRequired") | _extra_forms("ReadOnly")
        _WRAPPERS[key] = forms
    return forms


def _is_typeddict(tp: Any) -> bool:
    if not isinstance(tp, type) or not issubclass(tp, dict):
        return False
    if typing.is_typeddict(tp):
        return True
    te = sys.modules.get("typing_extensions")
    return bool(te is not None and te.is_typeddict(tp))


def _is_pydantic(tp: Any) -> bool:
    return (
        isinstance(tp, type)
        and callable(getattr(tp, "model_json_schema", None))
        and callable(getattr(tp, "model_validate", None))
    )


def _is_named(tp: Any) -> bool:
    """Types that become a ``$defs`` entry (objects with a class name)."""
    return isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or _is_typeddict(tp) or _is_pydantic(tp)
    )


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
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


def _hints(obj: Any, where: str) -> dict[str, Any]:
    """``get_type_hints`` with ``Annotated`` kept, and an error that says what to do."""
    if isinstance(obj, type):
        cached = _CLASS_HINTS.get(obj)
        if cached is not None:
            return cached
    localns = {obj.__name__: obj} if isinstance(obj, type) else None
    try:
        hints = typing.get_type_hints(obj, localns=localns, include_extras=True)
    except Exception as e:
        raise TypeError(
            f"Cannot read the type hints of {where}: {type(e).__name__}: {e}. Define the types "
            "they use at the top level of the notebook or module (not inside a function)."
        ) from None
    if isinstance(obj, type):
        _CLASS_HINTS[obj] = hints
    return hints


def _class_docstring(cls: type) -> str | None:
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str):
        return None
    if dataclasses.is_dataclass(cls) and doc.startswith(f"{cls.__name__}(") and "\n" not in doc:
        return None  # the signature dataclasses writes when there is no docstring
    return doc


def _jsonable_default(value: Any) -> tuple[bool, Any]:
    """(True, JSON) when a default value can be written into a schema."""
    try:
        out = to_jsonable(value)
        json.dumps(out, allow_nan=False)
    except (TypeError, ValueError):
        return False, None
    return True, out


# --------------------------------------------------------------------------------------------
# Python type -> JSON Schema


class _Builder:
    """Builds one schema; named classes go to ``$defs`` (needed for recursive types)."""

    def __init__(self) -> None:
        self.defs: dict[str, JSONSchema] = {}
        self.names: dict[Any, str] = {}
        self.uses: dict[str, int] = {}

    def build(self, tp: Any, where: str) -> JSONSchema:
        core, meta = _unwrap(tp)
        schema = self._core(core, where)
        if meta:
            schema = self._apply_metadata(schema, meta)
        return schema

    # -- metadata -------------------------------------------------------------------------
    def _apply_metadata(self, schema: JSONSchema, meta: list[Any]) -> JSONSchema:
        out = dict(schema)
        for item in meta:
            if isinstance(item, str):
                out.setdefault("description", item)
                continue
            if isinstance(item, Mapping):
                out.update(item)
                continue
            for attr in ("description", "documentation"):  # pydantic Field, typing Doc
                text = getattr(item, attr, None)
                if isinstance(text, str) and text:
                    out.setdefault("description", text)
                    break
            kind = out.get("type")
            for attr, key in (
                ("ge", "minimum"),
                ("gt", "exclusiveMinimum"),
                ("le", "maximum"),
                ("lt", "exclusiveMaximum"),
                ("multiple_of", "multipleOf"),
                ("min_length", "minItems" if kind == "array" else "minLength"),
                ("max_length", "maxItems" if kind == "array" else "maxLength"),
            ):
                value = getattr(item, attr, None)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    out[key] = value
            nested = getattr(item, "metadata", None)  # pydantic FieldInfo keeps constraints here
            if isinstance(nested, list) and nested:
                out = self._apply_metadata(out, nested)
        return out

    # -- the type forms ---------------------------------------------------------------------
    def _core(self, tp: Any, where: str) -> JSONSchema:
        if tp is Any or tp is object:
            return {}
        if tp is None or tp is _NONE_TYPE:
            return {"type": "null"}
        origin = get_origin(tp)
        if origin is Literal:
            return _literal_schema(get_args(tp), where)
        if origin is Union or origin is types.UnionType:
            return self._union(get_args(tp), where)
        if origin is not None:
            return self._generic(tp, origin, get_args(tp), where)
        if isinstance(tp, type):
            if issubclass(tp, enum.Enum):
                return _enum_schema(tp, where)
            if tp is bool:
                return {"type": "boolean"}
            if issubclass(tp, int):
                return {"type": "integer"}
            if issubclass(tp, float):
                return {"type": "number"}
            if issubclass(tp, str):
                return {"type": "string"}
            fmt = _string_format(tp)
            if fmt is not None:
                return {"type": "string", "format": fmt}
            if _is_named(tp):
                return self._named(tp, where)
            if tp in (list, tuple, set, frozenset):
                return self._generic(tp, tp, (Any, ...) if tp is tuple else (Any,), where)
            if tp is dict:
                return {"type": "object"}
        if isinstance(tp, (str, typing.ForwardRef)):
            raise TypeError(
                f"Cannot resolve the type {tp!r} at {where}: define it at the top level of the "
                "notebook or module before using it."
            )
        raise TypeError(
            f"Cannot describe {_type_name(tp)} as JSON Schema (at {where}). Use str, int, "
            "float, bool, None, list, tuple, set, dict[str, ...], Literal, Enum, Optional, "
            "a dataclass or a TypedDict."
        )

    def _union(self, args: tuple[Any, ...], where: str) -> JSONSchema:
        arms: list[JSONSchema] = []
        for arm in args:
            schema = self.build(arm, where)
            if schema == {}:
                return {}  # Any absorbs the rest
            if schema not in arms:
                arms.append(schema)
        return arms[0] if len(arms) == 1 else {"anyOf": arms}

    def _generic(self, tp: Any, origin: Any, args: tuple[Any, ...], where: str) -> JSONSchema:
        name = getattr(origin, "__name__", "")
        module = getattr(origin, "__module__", "")
        abc = module in ("collections.abc", "typing")
        if origin in (list, set, frozenset) or (abc and name in _ABC_SEQUENCES | _ABC_SETS):
            out: JSONSchema = {"type": "array"}
            items = self.build(args[0], f"{where}[]") if args else {}
            if items != {}:
                out["items"] = items
            if origin in (set, frozenset) or name in _ABC_SETS:
                out["uniqueItems"] = True
            return out
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return self._generic(tp, list, args[:1], where)
            if args in ((), ((),)):  # tuple[()]: Python 3.11 gives (), 3.10 ((),)
                return {"type": "array", "maxItems": 0}
            prefix = [self.build(a, f"{where}[{i}]") for i, a in enumerate(args)]
            n = len(prefix)
            return {"type": "array", "prefixItems": prefix, "minItems": n, "maxItems": n}
        if origin is dict or (abc and name in _ABC_MAPPINGS):
            if args:
                key, _ = _unwrap(args[0])
                if key not in (str, Any) and not (isinstance(key, type) and issubclass(key, str)):
                    raise TypeError(
                        f"JSON object keys are strings: {_type_name(tp)} at {where} has "
                        f"{_type_name(args[0])} keys. Use dict[str, ...]."
                    )
                value = self.build(args[1], f"{where}{{}}")
                return (
                    {"type": "object"}
                    if value == {}
                    else {
                        "type": "object",
                        "additionalProperties": value,
                    }
                )
            return {"type": "object"}
        if isinstance(origin, type) and (dataclasses.is_dataclass(origin) or _is_typeddict(origin)):
            raise TypeError(
                f"Generic classes like {_type_name(tp)} (at {where}) are not supported: use a "
                "plain dataclass or TypedDict."
            )
        raise TypeError(f"Cannot describe {_type_name(tp)} as JSON Schema (at {where}).")

    # -- classes ----------------------------------------------------------------------------
    def _named(self, cls: type, where: str) -> JSONSchema:
        name = self.names.get(cls)
        if name is None:
            name = cls.__name__
            n = 2
            while name in self.defs:
                name = f"{cls.__name__}{n}"
                n += 1
            self.names[cls] = name
            self.defs[name] = {}  # a placeholder: references to it while building = recursion
            if _is_pydantic(cls):
                self.defs[name] = self._pydantic(cls)
            elif dataclasses.is_dataclass(cls):
                self.defs[name] = self._dataclass(cls, where)
            else:
                self.defs[name] = self._typeddict(cls, where)
        self.uses[name] = self.uses.get(name, 0) + 1
        return {"$ref": f"#/$defs/{_escape(name)}"}

    def _object(
        self, cls: type, properties: JSONSchema, required: list[str], summary: str
    ) -> JSONSchema:
        out: JSONSchema = {"type": "object", "title": cls.__name__}
        if summary:
            out["description"] = summary
        out["properties"] = properties
        if required:
            out["required"] = required
        out["additionalProperties"] = False
        return out

    def _dataclass(self, cls: type, where: str) -> JSONSchema:
        hints = _hints(cls, cls.__qualname__)
        doc = parse_docstring(_class_docstring(cls))
        properties: JSONSchema = {}
        required: list[str] = []
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            schema = self.build(hints.get(f.name, Any), f"{cls.__qualname__}.{f.name}")
            desc = f.metadata.get("description") if f.metadata else None
            desc = desc if isinstance(desc, str) else doc.params.get(f.name)
            if desc and "description" not in schema:
                schema = {**schema, "description": desc}
            if f.default is not _MISSING:
                ok, value = _jsonable_default(f.default)
                if ok:
                    schema = {**schema, "default": value}
            elif f.default_factory is _MISSING:
                required.append(f.name)
            properties[f.name] = schema
        return self._object(cls, properties, required, doc.description)

    def _typeddict(self, cls: type, where: str) -> JSONSchema:
        hints = _hints(cls, cls.__qualname__)
        doc = parse_docstring(_class_docstring(cls))
        required_keys = _typeddict_required(cls, hints)
        properties: JSONSchema = {}
        required: list[str] = []
        for key, hint in hints.items():
            is_required = key in required_keys
            schema = self.build(hint, f"{cls.__qualname__}.{key}")
            desc = doc.params.get(key)
            if desc and "description" not in schema:
                schema = {**schema, "description": desc}
            properties[key] = schema
            if is_required:
                required.append(key)
        return self._object(cls, properties, required, doc.description)

    def _pydantic(self, cls: type) -> JSONSchema:
        raw: JSONSchema = cls.model_json_schema()  # type: ignore[attr-defined]
        own_defs = raw.pop("$defs", {})
        renames: dict[str, str] = {}
        for key in own_defs:
            new = key
            n = 2
            while new in self.defs:
                new = f"{key}{n}"
                n += 1
            renames[key] = new
            self.defs[new] = {}
        for key, body in own_defs.items():
            self.defs[renames[key]] = _rename_refs(body, renames)
            self.uses[renames[key]] = self.uses.get(renames[key], 0) + 1
        out: JSONSchema = _rename_refs(raw, renames)
        return out


def _typeddict_required(cls: type, hints: dict[str, Any]) -> set[str]:
    """The required keys of a TypedDict, also when its annotations were strings."""
    required = set(getattr(cls, "__required_keys__", hints))
    yes, no = _extra_forms("Required"), _extra_forms("NotRequired")
    for key, hint in hints.items():
        while get_origin(hint) is typing.Annotated:
            hint = get_args(hint)[0]
        if get_origin(hint) in yes:
            required.add(key)
        elif get_origin(hint) in no:
            required.discard(key)
    return required


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _rename_refs(schema: Any, renames: dict[str, str]) -> Any:
    if isinstance(schema, list):
        return [_rename_refs(s, renames) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
            target = value[len("#/$defs/") :]
            out[key] = f"#/$defs/{_escape(renames.get(target, target))}"
        else:
            out[key] = _rename_refs(value, renames)
    return out


def _literal_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _primitive_type(values: list[Any]) -> str | None:
    kinds = {_json_type(v) for v in values}
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    return kind if kind in ("string", "integer", "number", "boolean", "null") else None


def _literal_schema(args: tuple[Any, ...], where: str) -> JSONSchema:
    values = [_literal_value(v) for v in args]
    for v in values:
        if not (v is None or isinstance(v, (str, int, float, bool))):
            raise TypeError(f"Literal values must be str, int, float, bool or None (at {where}).")
    out: JSONSchema = {}
    kind = _primitive_type(values)
    if kind is not None and kind != "null":
        out["type"] = kind
    if len(values) == 1:
        out["const"] = values[0]
    else:
        out["enum"] = values
    return out


def _enum_schema(cls: type[enum.Enum], where: str) -> JSONSchema:
    values = [member.value for member in cls]
    for v in values:
        if not (v is None or isinstance(v, (str, int, float, bool))):
            raise TypeError(
                f"The values of {cls.__qualname__} (at {where}) must be str, int, float or bool "
                "to be sent as JSON."
            )
    out: JSONSchema = {"title": cls.__name__}
    kind = _primitive_type(values)
    if kind is not None:
        out["type"] = kind
    doc = _class_docstring(cls)
    if doc:
        out["description"] = parse_docstring(doc).description
    out["enum"] = values
    return out


def json_schema(tp: Any) -> JSONSchema:
    """The JSON Schema of a Python type.

    Parameters
    ----------
    tp : type
        ``str``, ``int``, ``float``, ``bool``, ``None``, ``Any``; ``list[T]``, ``set[T]``
        (``uniqueItems``), ``tuple[T, ...]``, ``tuple[A, B]`` (``prefixItems``),
        ``dict[str, T]``; ``Literal[...]``; ``Enum`` subclasses; ``Optional[T]``, ``A | B``
        (``anyOf``); ``datetime``/``date``/``time``/``UUID`` (strings with a ``format``);
        ``Annotated[T, "description"]`` (also metadata with a ``description`` attribute, a dict
        of JSON Schema keywords, or ``annotated_types``-like ``ge``/``le``/``max_length``);
        dataclasses and ``TypedDict`` (objects with ``additionalProperties: false``; field
        descriptions from the class docstring's Attributes/Parameters section, defaults
        recorded, fields without defaults required); pydantic models (their own schema).

    Returns
    -------
    dict
        A JSON Schema. Classes used inside the type live in ``$defs`` and are referenced with
        ``$ref``; a top-level class is written inline (and kept in ``$defs`` too when it
        refers to itself).

    Raises
    ------
    TypeError
        A type that JSON cannot carry (``bytes``, a plain class, ...), naming the type and
        where it was found.

    Examples
    --------
    >>> from typing import Literal
    >>> json_schema(list[Literal["c", "f"]])
    {'type': 'array', 'items': {'type': 'string', 'enum': ['c', 'f']}}
    """
    builder = _Builder()
    schema = builder.build(tp, _type_name(_unwrap(tp)[0]))
    return _finish(schema, builder)


def _finish(schema: JSONSchema, builder: _Builder) -> JSONSchema:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = next(n for n in builder.defs if f"#/$defs/{_escape(n)}" == ref)
        body = builder.defs[name]
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        if builder.uses.get(name, 0) <= 1:
            del builder.defs[name]
        schema = {**body, **extra}
    if builder.defs:
        schema = {"$defs": builder.defs, **schema}
    return schema


# --------------------------------------------------------------------------------------------
# output_config.format: the subset structured outputs accept


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


def _find_cycle(schema: JSONSchema) -> str | None:
    """The name of a ``$defs`` entry that refers to itself (directly or not), if any."""
    defs = schema.get("$defs") or {}
    graph = {f"#/$defs/{_escape(name)}": set(_refs(body)) for name, body in defs.items()}
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
            kinds = ", ".join(_describe_schema(item) for item in value)
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
        raise TypeError(
            f"Structured outputs need a type for every value, but the value at {where} can "
            "be anything (typing.Any, or a missing type hint). Give it a type."
        )
    if notes:
        text = " ".join(notes)
        out["description"] = f"{out['description']}\n\n{text}" if out.get("description") else text
    return out


def _free_form(where: str) -> TypeError:
    return TypeError(
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
    cycle = _find_cycle(full)
    if cycle is not None:
        raise TypeError(
            f"{_type_name(schema)} is recursive ({cycle} refers to itself), and structured "
            "outputs do not support recursive schemas. Limit the depth with separate classes, "
            "or pass a JSON Schema dict."
        )
    return {"type": "json_schema", "schema": for_api(full)}


# --------------------------------------------------------------------------------------------
# Validation


def _json_type(value: Any) -> str:
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


def _is_type(value: Any, kind: str) -> bool:
    actual = _json_type(value)
    if kind == actual:
        return True
    if kind == "number":
        return actual == "integer"
    if kind == "integer":
        return actual == "number" and math.isfinite(value) and float(value).is_integer()
    return False


def _json_equal(a: Any, b: Any) -> bool:
    ka, kb = _json_type(a), _json_type(b)
    numbers = ("integer", "number")
    if ka in numbers and kb in numbers:
        return bool(a == b)
    if ka != kb:
        return False
    if ka == "array":
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if ka == "object":
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _show(value: Any) -> str:
    kind = _json_type(value)
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


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"


def _describe_schema(schema: Any) -> str:
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
            if not any(_is_type(value, k) for k in kinds):
                yield path, f"expected {' or '.join(kinds)}, got {_show(value)}"
                return
        if "const" in schema and not _json_equal(value, schema["const"]):
            yield path, f"expected {json.dumps(schema['const'])}, got {_show(value)}"
            return
        if "enum" in schema and not any(_json_equal(value, v) for v in schema["enum"]):
            options = ", ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
            yield path, f"expected one of {options}; got {_show(value)}"
            return
        actual = _json_type(value)
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
        n = len(value)
        if isinstance(schema.get("minLength"), int) and n < schema["minLength"]:
            yield path, f"expected at least {schema['minLength']} characters, got {n}"
        if isinstance(schema.get("maxLength"), int) and n > schema["maxLength"]:
            yield path, f"expected at most {schema['maxLength']} characters, got {n}"
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            try:
                matched = re.search(pattern, value) is not None
            except re.error:
                matched = True  # a pattern Python cannot read is not checked
            if not matched:
                yield path, f"expected text matching {pattern!r}, got {_show(value)}"

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
                yield path, f"expected a number {words} {bound}, got {_show(value)}"
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and step > 0:
            q = value / step
            if not (math.isfinite(q) and abs(q - round(q)) < 1e-9):
                yield path, f"expected a multiple of {step}, got {_show(value)}"

    def _array(
        self, value: list[Any] | tuple[Any, ...], schema: Mapping[str, Any], path: str
    ) -> Iterator[tuple[str, str]]:
        n = len(value)
        if isinstance(schema.get("minItems"), int) and n < schema["minItems"]:
            yield path, f"expected at least {schema['minItems']} items, got {n}"
        if isinstance(schema.get("maxItems"), int) and n > schema["maxItems"]:
            yield path, f"expected at most {schema['maxItems']} items, got {n}"
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
                if any(_json_equal(value[i], value[j]) for j in range(i)):
                    yield f"{path}[{i}]", "expected unique items, got a repeated one"
                    break

    def _object(
        self, value: Mapping[str, Any], schema: Mapping[str, Any], path: str
    ) -> Iterator[tuple[str, str]]:
        for key in schema.get("required") or ():
            if key not in value:
                yield _key_path(path, key), "required, but missing"
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties", True)
        unknown = []
        for key, item in value.items():
            if key in properties:
                yield from self.errors(item, properties[key], _key_path(path, key))
            elif extra is False:
                unknown.append(key)
            elif extra is not True:
                yield from self.errors(item, extra, _key_path(path, key))
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
            same = [a for a in arms if _is_type(value, self._kind(a))]
            if len(same) == 1:
                yield from self.errors(value, same[0], path)
            else:
                options = " or ".join(_describe_schema(a) for a in arms)
                yield path, f"expected {options}, got {_show(value)}"
        sub = schema.get("not")
        if sub is not None and self.ok(value, sub):
            yield path, f"expected anything but {_describe_schema(sub)}"


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
    nbclaude._schema.StructuredOutputError: The value does not match the schema: at $.units: ...
    """
    schema = _as_schema(schema)
    errors = schema_errors(value, schema)
    if errors:
        raise StructuredOutputError(
            f"The value does not match the schema: {describe_errors(errors)}", errors=errors
        )


# --------------------------------------------------------------------------------------------
# JSON -> Python, Python -> JSON


def _string_format(tp: type) -> str | None:
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


def _parse_iso(cls: type, fmt: str, text: str) -> Any:
    if fmt == "uuid":
        return cls(text)
    if fmt == "date-time" and text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"  # Python 3.10 does not read "Z"
    return cls.fromisoformat(text)  # type: ignore[attr-defined]


def _convert(value: Any, tp: Any, path: str, exact: bool) -> Any:
    tp, _ = _unwrap(tp)
    if tp is Any or tp is object:
        return value
    if tp is None or tp is _NONE_TYPE:
        if value is None:
            return None
        raise _MismatchError(path, f"expected null, got {_show(value)}")
    origin = get_origin(tp)
    if origin is Literal:
        for option in get_args(tp):
            if _json_equal(value, _literal_value(option)):
                return option
        options = ", ".join(json.dumps(_literal_value(v)) for v in get_args(tp))
        raise _MismatchError(path, f"expected one of {options}; got {_show(value)}")
    if origin is Union or origin is types.UnionType:
        passes = (True, False) if not exact else (True,)
        for strict in passes:
            for arm in get_args(tp):
                try:
                    return _convert(value, arm, path, strict)
                except _MismatchError:
                    continue
        raise _MismatchError(path, f"expected {_type_name(tp)}, got {_show(value)}")
    if origin is not None:
        return _convert_generic(value, tp, origin, get_args(tp), path, exact)
    if not isinstance(tp, type):
        return value
    kind = _json_type(value)
    if issubclass(tp, enum.Enum):
        for member in tp:
            if _json_equal(value, member.value):
                return member
        options = ", ".join(json.dumps(m.value) for m in tp)
        raise _MismatchError(path, f"expected one of {options}; got {_show(value)}")
    if tp is bool:
        if kind == "boolean":
            return value
        raise _MismatchError(path, f"expected boolean, got {_show(value)}")
    if issubclass(tp, int):
        if kind == "integer" or (not exact and _is_type(value, "integer")):
            return tp(value)
        raise _MismatchError(path, f"expected integer, got {_show(value)}")
    if issubclass(tp, float):
        if kind == "number" or (not exact and kind == "integer"):
            return tp(value)
        raise _MismatchError(path, f"expected number, got {_show(value)}")
    if issubclass(tp, str):
        if kind == "string":
            return value if tp is str else tp(value)
        raise _MismatchError(path, f"expected string, got {_show(value)}")
    fmt = _string_format(tp)
    if fmt is not None:
        if kind == "string":
            try:
                return _parse_iso(tp, fmt, value)
            except ValueError:
                pass
        raise _MismatchError(path, f"expected a {fmt} string, got {_show(value)}")
    if _is_pydantic(tp):
        try:
            return tp.model_validate(value)  # type: ignore[attr-defined]
        except Exception as e:  # pydantic.ValidationError
            raise _MismatchError(path, f"not a valid {tp.__name__}: {e}") from None
    if dataclasses.is_dataclass(tp):
        return _convert_dataclass(value, tp, path)
    if _is_typeddict(tp):
        return _convert_typeddict(value, tp, path)
    if tp in _SEQUENCES or tp is dict:
        args = (Any, ...) if tp is tuple else (str, Any) if tp is dict else (Any,)
        return _convert_generic(value, tp, tp, args, path, exact)
    raise _MismatchError(path, f"cannot make a {tp.__qualname__} from JSON")


def _convert_generic(
    value: Any, tp: Any, origin: Any, args: tuple[Any, ...], path: str, exact: bool
) -> Any:
    name = getattr(origin, "__name__", "")
    kind = _json_type(value)
    if origin is dict or name in _ABC_MAPPINGS:
        if kind != "object":
            raise _MismatchError(path, f"expected object, got {_show(value)}")
        if not args:
            return dict(value)
        return {k: _convert(v, args[1], _key_path(path, k), exact) for k, v in value.items()}
    if origin in _SEQUENCES or name in _ABC_SEQUENCES | _ABC_SETS:
        if kind != "array":
            raise _MismatchError(path, f"expected array, got {_show(value)}")
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if args == ((),):
                args = ()
            if len(value) != len(args):
                raise _MismatchError(path, f"expected {len(args)} items, got {len(value)}")
            return tuple(
                _convert(v, a, f"{path}[{i}]", exact)
                for i, (v, a) in enumerate(zip(value, args, strict=True))
            )
        item = args[0] if args else Any
        items = [_convert(v, item, f"{path}[{i}]", exact) for i, v in enumerate(value)]
        if origin is tuple:
            return tuple(items)
        if origin in (set, frozenset) or name in _ABC_SETS:
            try:
                return frozenset(items) if origin is frozenset else set(items)
            except TypeError:
                raise _MismatchError(
                    path, "set items must be hashable (e.g. frozen dataclasses)"
                ) from None
        return items
    raise _MismatchError(path, f"cannot make a {_type_name(tp)} from JSON")


def _convert_dataclass(value: Any, cls: type, path: str) -> Any:
    if _json_type(value) != "object":
        raise _MismatchError(path, f"expected object ({cls.__name__}), got {_show(value)}")
    hints = _hints(cls, cls.__qualname__)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in value if k not in fields]
    if unknown:
        raise _MismatchError(path, f"unexpected key {json.dumps(unknown[0])} for {cls.__name__}")
    kwargs = {}
    for name, f in fields.items():
        if name in value:
            kwargs[name] = _convert(value[name], hints.get(name, Any), _key_path(path, name), False)
        elif f.default is _MISSING and f.default_factory is _MISSING:
            raise _MismatchError(_key_path(path, name), "required, but missing")
    try:
        return cls(**kwargs)
    except Exception as e:  # e.g. a check in __post_init__
        raise _MismatchError(path, f"{cls.__name__}(...) failed: {type(e).__name__}: {e}") from None


def _convert_typeddict(value: Any, cls: type, path: str) -> Any:
    if _json_type(value) != "object":
        raise _MismatchError(path, f"expected object ({cls.__name__}), got {_show(value)}")
    hints = _hints(cls, cls.__qualname__)
    unknown = [k for k in value if k not in hints]
    if unknown:
        raise _MismatchError(path, f"unexpected key {json.dumps(unknown[0])} for {cls.__name__}")
    for key in sorted(_typeddict_required(cls, hints) - value.keys()):
        raise _MismatchError(_key_path(path, key), "required, but missing")
    return {k: _convert(v, hints[k], _key_path(path, k), False) for k, v in value.items()}


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
    try:
        return _convert(value, tp, "$", False)
    except _MismatchError as e:
        raise StructuredOutputError(
            f"The value does not fit {_type_name(tp)}: at {e.path}: {e.problem}",
            errors=[(e.path, e.problem)],
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
    fmt = _string_format(type(value))
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


# --------------------------------------------------------------------------------------------
# Replies


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
    try:
        return _convert(value, schema, "$", False)
    except _MismatchError as e:
        raise StructuredOutputError(
            f"The reply does not fit {_type_name(schema)}: at {e.path}: {e.problem}",
            errors=[(e.path, e.problem)],
            text=text,
        ) from None
