"""Python types -> JSON Schema: :func:`json_schema`.

A :class:`Builder` builds one schema; classes (dataclasses, ``TypedDict``, pydantic models)
go to ``$defs`` under their names and are referenced with ``$ref``, which is what makes
recursive types possible. Descriptions come from ``Annotated`` metadata and from class
docstrings (:mod:`nbclaude._schema.docstrings`); defaults are recorded. ``Literal`` and ``Enum``
schemas, and which defaults can be written, come from :mod:`nbclaude._schema.values`.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin

from nbclaude._exceptions import SchemaError

from .docstrings import parse_docstring
from .hints import (
    ABC_MAPPINGS,
    ABC_SEQUENCES,
    ABC_SETS,
    NONE_TYPE,
    class_docstring,
    is_named,
    is_pydantic,
    is_typeddict,
    string_format,
    type_hints,
    type_name,
    typeddict_required,
    unwrap,
)
from .values import enum_schema, jsonable_default, literal_schema

__all__ = ["Builder", "JSONSchema", "escape_pointer", "json_schema"]

JSONSchema = dict[str, Any]
_MISSING = dataclasses.MISSING


class Builder:
    """Builds one schema; named classes go to ``$defs`` (needed for recursive types)."""

    def __init__(self) -> None:
        self.defs: dict[str, JSONSchema] = {}
        self.names: dict[Any, str] = {}
        self.uses: dict[str, int] = {}

    def build(self, tp: Any, where: str) -> JSONSchema:
        core, meta = unwrap(tp)
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
        if tp is None or tp is NONE_TYPE:
            return {"type": "null"}
        origin = get_origin(tp)
        if origin is Literal:
            return literal_schema(get_args(tp), where)
        if origin is Union or origin is types.UnionType:
            return self._union(get_args(tp), where)
        if origin is not None:
            return self._generic(tp, origin, get_args(tp), where)
        if isinstance(tp, type):
            if issubclass(tp, enum.Enum):
                return enum_schema(tp, where)
            if tp is bool:
                return {"type": "boolean"}
            if issubclass(tp, int):
                return {"type": "integer"}
            if issubclass(tp, float):
                return {"type": "number"}
            if issubclass(tp, str):
                return {"type": "string"}
            fmt = string_format(tp)
            if fmt is not None:
                return {"type": "string", "format": fmt}
            if is_named(tp):
                return self._named(tp, where)
            if tp in (list, tuple, set, frozenset):
                return self._generic(tp, tp, (Any, ...) if tp is tuple else (Any,), where)
            if tp is dict:
                return {"type": "object"}
        if isinstance(tp, (str, typing.ForwardRef)):
            raise SchemaError(
                f"Cannot resolve the type {tp!r} at {where}: define it at the top level of the "
                "notebook or module before using it."
            )
        raise SchemaError(
            f"Cannot describe {type_name(tp)} as JSON Schema (at {where}). Use str, int, "
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
        if origin in (list, set, frozenset) or (abc and name in ABC_SEQUENCES | ABC_SETS):
            out: JSONSchema = {"type": "array"}
            items = self.build(args[0], f"{where}[]") if args else {}
            if items != {}:
                out["items"] = items
            if origin in (set, frozenset) or name in ABC_SETS:
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
        if origin is dict or (abc and name in ABC_MAPPINGS):
            if args:
                key, _ = unwrap(args[0])
                if key not in (str, Any) and not (isinstance(key, type) and issubclass(key, str)):
                    raise SchemaError(
                        f"JSON object keys are strings: {type_name(tp)} at {where} has "
                        f"{type_name(args[0])} keys. Use dict[str, ...]."
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
        if isinstance(origin, type) and (dataclasses.is_dataclass(origin) or is_typeddict(origin)):
            raise SchemaError(
                f"Generic classes like {type_name(tp)} (at {where}) are not supported: use a "
                "plain dataclass or TypedDict."
            )
        raise SchemaError(f"Cannot describe {type_name(tp)} as JSON Schema (at {where}).")

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
            if is_pydantic(cls):
                self.defs[name] = self._pydantic(cls)
            elif dataclasses.is_dataclass(cls):
                self.defs[name] = self._dataclass(cls, where)
            else:
                self.defs[name] = self._typeddict(cls, where)
        self.uses[name] = self.uses.get(name, 0) + 1
        return {"$ref": f"#/$defs/{escape_pointer(name)}"}

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
        hints = type_hints(cls, cls.__qualname__)
        doc = parse_docstring(class_docstring(cls))
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
                ok, value = jsonable_default(f.default)
                if ok:
                    schema = {**schema, "default": value}
            elif f.default_factory is _MISSING:
                required.append(f.name)
            properties[f.name] = schema
        return self._object(cls, properties, required, doc.description)

    def _typeddict(self, cls: type, where: str) -> JSONSchema:
        hints = type_hints(cls, cls.__qualname__)
        doc = parse_docstring(class_docstring(cls))
        required_keys = typeddict_required(cls, hints)
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


def escape_pointer(name: str) -> str:
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
            out[key] = f"#/$defs/{escape_pointer(renames.get(target, target))}"
        else:
            out[key] = _rename_refs(value, renames)
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
    builder = Builder()
    schema = builder.build(tp, type_name(unwrap(tp)[0]))
    return _finish(schema, builder)


def _finish(schema: JSONSchema, builder: Builder) -> JSONSchema:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = next(n for n in builder.defs if f"#/$defs/{escape_pointer(n)}" == ref)
        body = builder.defs[name]
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        if builder.uses.get(name, 0) <= 1:
            del builder.defs[name]
        schema = {**body, **extra}
    if builder.defs:
        schema = {"$defs": builder.defs, **schema}
    return schema
