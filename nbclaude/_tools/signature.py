"""A Python callable read as a tool: its name, docstring and parameters, and the input schema
they make (:func:`read_signature`); the model's input bound back to those parameters
(:meth:`Signature.bind`).

Decisions worth knowing:

* An unannotated parameter accepts any JSON value (``{}`` in the schema, as the official SDK's
  pydantic-based helper does), unless its default value or a numpy/Google docstring type
  (``x : int``) says more. It is never silently turned into a string.
* ``*args`` is refused (give it a name and a ``list[...]`` type); ``**kwargs`` is not shown
  to the model; positional-only parameters are passed positionally.
* What describes a callable is the function behind it: ``functools.partial`` and bound
  methods are looked through, a callable object is described by its ``__call__`` (and its
  class's docstring), a class by its ``__init__`` (and its own docstring).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any

from nbclaude._schema.build import Builder
from nbclaude._schema.check import StructuredOutputError
from nbclaude._schema.convert import MismatchError, convert
from nbclaude._schema.docstrings import Docstring
from nbclaude._schema.hints import class_docstring, type_hints
from nbclaude._schema.values import jsonable_default

__all__ = [
    "NO_PARAMETERS",
    "PASS_THROUGH",
    "Param",
    "Signature",
    "base_function",
    "default_name",
    "docstring",
    "read_signature",
]

_EMPTY = inspect.Parameter.empty
_GUESS = {
    "int": int,
    "integer": int,
    "float": float,
    "number": float,
    "str": str,
    "string": str,
    "bool": bool,
    "boolean": bool,
    "list": list,
    "dict": dict,
}


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter the model fills: its name, kind, type and default."""

    name: str
    kind: Any  # inspect._ParameterKind
    hint: Any
    default: Any


@dataclasses.dataclass(frozen=True)
class Signature:
    """What a tool's function takes: its parameters and the input schema they make.

    Attributes
    ----------
    params : tuple of Param
        The parameters the model fills, in order.
    var_keyword : bool
        The function takes ``**kwargs``: input keys that are no parameter are passed on.
    schema : dict
        The input schema made from the parameters (``{}`` for :data:`PASS_THROUGH`).

    Examples
    --------
    >>> from nbclaude._schema.docstrings import parse_docstring
    >>> def area(w: float, h: float = 1.0) -> float: ...
    >>> sig = read_signature(area, area, parse_docstring(area.__doc__), "area")
    >>> sig.schema["required"], sig.bind({"w": 2}, "area")
    (['w'], ([], {'w': 2.0}))
    """

    params: tuple[Param, ...]
    var_keyword: bool
    schema: dict[str, Any]

    def bind(self, input: Mapping[str, Any], tool: str) -> tuple[list[Any], dict[str, Any]]:
        """Convert the model's input (already checked against the schema) to ``(args, kwargs)``.

        Raises
        ------
        StructuredOutputError
            A value that cannot be converted, a missing positional-only value, or an
            unexpected key (with JSON paths); ``tool`` names the tool in the message.
        """
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        known = set()
        for p in self.params:
            known.add(p.name)
            if p.name in input:
                try:
                    value = convert(input[p.name], p.hint, f"$.{p.name}", False)
                except MismatchError as e:
                    raise StructuredOutputError(
                        f"Invalid input for {tool}: at {e.path}: {e.problem}",
                        errors=[(e.path, e.problem)],
                    ) from None
            elif p.default is not _EMPTY:
                if p.kind is not inspect.Parameter.POSITIONAL_ONLY:
                    continue
                value = p.default
            else:
                problem = "required, but missing"
                raise StructuredOutputError(
                    f"Invalid input for {tool}: at $.{p.name}: {problem}",
                    errors=[(f"$.{p.name}", problem)],
                )
            if p.kind is inspect.Parameter.POSITIONAL_ONLY:
                args.append(value)
            else:
                kwargs[p.name] = value
        extra = [k for k in input if k not in known]
        if extra and self.var_keyword:
            kwargs.update({k: input[k] for k in extra})
        elif extra:
            problem = f"unexpected key {json.dumps(extra[0])}"
            raise StructuredOutputError(
                f"Invalid input for {tool}: at $: {problem}", errors=[("$", problem)]
            )
        return args, kwargs


#: The signature of a function that cannot be read: its input is passed on as keywords.
PASS_THROUGH = Signature((), True, {})
#: No parameters at all: any input key is unexpected.
NO_PARAMETERS = Signature((), False, {})


def base_function(fn: Any) -> Any:
    """The function whose name, docstring and type hints describe ``fn``."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.ismethod(fn):
        fn = fn.__func__
    if not (inspect.isfunction(fn) or inspect.isbuiltin(fn) or isinstance(fn, type)):
        call = inspect.getattr_static(type(fn), "__call__", None)  # a callable object
        if call is not None and not inspect.isbuiltin(call):
            return call
    return inspect.unwrap(fn)


def default_name(fn: Any) -> str:
    """A tool's name when none is given: the function's ``__name__`` (or its type's)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) else type(fn).__name__


def docstring(fn: Any, base: Any) -> str | None:
    """The docstring that describes ``fn`` (``base`` is :func:`base_function` of it)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if isinstance(base, type):
        return class_docstring(base)
    doc = getattr(base, "__doc__", None)
    if not doc and not inspect.isfunction(fn) and not inspect.ismethod(fn):
        doc = type(fn).__doc__  # a callable object: its class's docstring
    return doc if isinstance(doc, str) else None


def _type_hints(base: Any, where: str) -> dict[str, Any]:
    target = base
    if isinstance(base, type) and not dataclasses.is_dataclass(base):
        target = inspect.getattr_static(base, "__init__")
    if not getattr(target, "__annotations__", None):
        return {}
    return type_hints(target, where)


def _guess(param: inspect.Parameter, doc_type: str | None) -> Any:
    """A type for an unannotated parameter: from its default, else its docstring type."""
    default = param.default
    if isinstance(default, (bool, int, float, str)):
        return type(default)
    if doc_type:
        word = doc_type.split(",")[0].strip().lower()
        return _GUESS.get(word, Any)
    return Any


def read_signature(fn: Callable[..., Any], base: Any, doc: Docstring, tool: str) -> Signature:
    """Read ``fn``'s parameters (``base``: :func:`base_function`, ``doc``: its parsed docstring).

    Raises
    ------
    TypeError
        ``*args``, a parameter type JSON cannot carry, or a signature that cannot be read;
        ``tool`` names the tool in the message.
    """
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        raise TypeError(
            f"Cannot read the signature of {tool}: wrap it in a def with named, "
            "annotated parameters."
        ) from None
    hints = _type_hints(base, tool)
    builder = Builder()
    properties: dict[str, Any] = {}
    required: list[str] = []
    params: list[Param] = []
    var_keyword = False
    for p in signature.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            raise TypeError(
                f"Tool {tool}: *{p.name} cannot be filled from JSON. Give it a name and "
                f"a list type instead, e.g. {p.name}: list[float]."
            )
        if p.kind is p.VAR_KEYWORD:
            var_keyword = True
            continue
        if p.name in hints:
            hint = hints[p.name]
        elif p.annotation is not _EMPTY and not isinstance(p.annotation, str):
            hint = p.annotation
        else:
            hint = _guess(p, doc.types.get(p.name))
        schema = builder.build(hint, f"{tool}({p.name})")
        desc = doc.params.get(p.name)
        if desc and "description" not in schema:
            schema = {**schema, "description": desc}
        if p.default is _EMPTY:
            required.append(p.name)
        else:
            ok, value = jsonable_default(p.default)
            if ok:
                schema = {**schema, "default": value}
        properties[p.name] = schema
        params.append(Param(p.name, p.kind, hint, p.default))
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    out["additionalProperties"] = False
    if builder.defs:
        out = {"$defs": builder.defs, **out}
    return Signature(tuple(params), var_keyword, out)
