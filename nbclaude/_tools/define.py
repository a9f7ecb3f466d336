"""One tool: :class:`Tool` (a function, its API definition, checked calls) and :func:`tool_spec`.

The definition (``name``, ``description``, ``input_schema``) comes from the function's
signature, type hints and docstring (numpy, Google or Sphinx style). Decisions worth knowing:

* An unannotated parameter accepts any JSON value (``{}`` in the schema, as the official SDK's
  pydantic-based helper does), unless its default value or a numpy/Google docstring type
  (``x : int``) says more. It is never silently turned into a string.
* ``*args`` is refused (give it a name and a ``list[...]`` type); ``**kwargs`` is not shown
  to the model; positional-only parameters are passed positionally.
* An async function is awaited: in a thread of its own when this thread already runs an
  event loop (a Jupyter kernel does).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from nbclaude._schema.build import Builder, jsonable_default
from nbclaude._schema.check import StructuredOutputError, describe_errors, schema_errors, show_value
from nbclaude._schema.convert import MismatchError, convert
from nbclaude._schema.docstrings import Docstring, parse_docstring
from nbclaude._schema.hints import class_docstring, type_hints
from nbclaude._schema.structured import find_cycle, for_api

__all__ = ["Tool", "tool_spec"]

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
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
class _Param:
    name: str
    kind: Any  # inspect._ParameterKind
    hint: Any
    default: Any


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"Tool names must be 1-64 letters, digits, '_' or '-': {name!r} is not. "
            "Pass name='...'."
        )
    return name


def _base(fn: Any) -> Any:
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


def _default_name(fn: Any) -> str:
    while isinstance(fn, functools.partial):
        fn = fn.func
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) else type(fn).__name__


def _docstring(fn: Any, base: Any) -> str | None:
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


class Tool:
    """A Python function the model may call, with its API definition.

    Parameters
    ----------
    fn : callable or dict or Tool
        A function, bound method, ``functools.partial``, callable object or async function;
        or an already-made tool definition dict (used as it is; such a tool has no Python
        function and cannot run here: server tools like ``web_search_20250305``).
    name : str, optional
        The tool's name (default: the function's ``__name__``); 1-64 of ``[a-zA-Z0-9_-]``.
    description : str, optional
        Default: the docstring's summary and description, plus its Returns section.
    input_schema : dict, optional
        A hand-written JSON Schema for the input, instead of the one made from the signature.
    strict : bool
        Send ``strict: true`` (the API then guarantees the input matches), with the schema
        reduced to the subset strict tools accept (see :func:`nbclaude._schema.for_api`).

    Attributes
    ----------
    name, description : str
    spec : dict
        The definition for the request's ``tools`` list.
    input_schema : dict
        The full schema each call's input is checked against before the function runs.
    fn : callable or None

    Examples
    --------
    >>> from typing import Literal
    >>> def get_weather(location: str, units: Literal["c", "f"] = "c") -> str:
    ...     '''Current weather.
    ...
    ...     Args:
    ...         location: City and country, e.g. "Paris, France".
    ...     '''
    ...     return f"20 degrees {units} in {location}"
    >>> t = Tool(get_weather)
    >>> t.spec["input_schema"]["required"]
    ['location']
    >>> t.call({"location": "Paris"})
    '20 degrees c in Paris'
    """

    def __init__(
        self,
        fn: Callable[..., Any] | Mapping[str, Any] | Tool,
        *,
        name: str | None = None,
        description: str | None = None,
        input_schema: Mapping[str, Any] | None = None,
        strict: bool = False,
    ) -> None:
        self.fn: Callable[..., Any] | None
        self.spec: dict[str, Any]
        self._params: list[_Param] = []
        self._var_keyword = False
        if isinstance(fn, Tool):
            self.__dict__.update(fn.__dict__)
            self.spec = dict(fn.spec)
            if name is not None:
                self.name = self.spec["name"] = _check_name(name)
            if description is not None:
                self.description = self.spec["description"] = description
            return
        if isinstance(fn, Mapping):
            self._from_spec(fn)
            return
        if not callable(fn):
            raise TypeError(
                f"A tool must be a function or a tool definition dict, not {type(fn).__name__}."
            )
        self.fn = fn
        self.name = _check_name(name if name is not None else _default_name(fn))
        base = _base(fn)
        doc = parse_docstring(_docstring(fn, base))
        if description is None:
            description = doc.description
            if doc.returns:
                description = f"{description}\n\nReturns: {doc.returns}".strip()
        self.description = description
        if input_schema is None:
            full = self._schema_from_signature(fn, base, doc)
        else:
            full = dict(input_schema)
            try:
                self._schema_from_signature(fn, base, doc)  # for converting the input
            except TypeError:
                self._params, self._var_keyword = [], True  # pass the input as it is
        self.input_schema = full
        sent = full
        if strict:
            cycle = find_cycle(full)
            if cycle is not None:
                raise TypeError(
                    f"Tool {self.name}: strict tools cannot have recursive schemas ({cycle} "
                    "refers to itself)."
                )
            sent = for_api(full, self.name)
        self.spec = {
            "name": self.name,
            "description": self.description,
            "input_schema": sent,
        }
        if strict:
            self.spec["strict"] = True

    def _from_spec(self, spec: Mapping[str, Any]) -> None:
        if "name" not in spec:
            raise ValueError("A tool definition dict needs a 'name'.")
        self.fn = None
        self.spec = dict(spec)
        self.name = _check_name(spec["name"])
        self.description = str(spec.get("description") or "")
        schema = spec.get("input_schema")
        self.input_schema = dict(schema) if isinstance(schema, Mapping) else {}

    def _schema_from_signature(
        self, fn: Callable[..., Any], base: Any, doc: Docstring
    ) -> dict[str, Any]:
        try:
            signature = inspect.signature(fn)
        except (TypeError, ValueError):
            raise TypeError(
                f"Cannot read the signature of {self.name}: wrap it in a def with named, "
                "annotated parameters."
            ) from None
        hints = _type_hints(base, self.name)
        builder = Builder()
        properties: dict[str, Any] = {}
        required: list[str] = []
        for p in signature.parameters.values():
            if p.kind is p.VAR_POSITIONAL:
                raise TypeError(
                    f"Tool {self.name}: *{p.name} cannot be filled from JSON. Give it a name and "
                    f"a list type instead, e.g. {p.name}: list[float]."
                )
            if p.kind is p.VAR_KEYWORD:
                self._var_keyword = True
                continue
            if p.name in hints:
                hint = hints[p.name]
            elif p.annotation is not _EMPTY and not isinstance(p.annotation, str):
                hint = p.annotation
            else:
                hint = _guess(p, doc.types.get(p.name))
            schema = builder.build(hint, f"{self.name}({p.name})")
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
            self._params.append(_Param(p.name, p.kind, hint, p.default))
        out: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            out["required"] = required
        out["additionalProperties"] = False
        if builder.defs:
            out = {"$defs": builder.defs, **out}
        return out

    # -- running ----------------------------------------------------------------------------
    def arguments(self, input: Any) -> tuple[list[Any], dict[str, Any]]:
        """Check the model's input and turn it into ``(args, kwargs)`` for the function.

        Raises
        ------
        StructuredOutputError
            The input does not match the schema or cannot be converted (with JSON paths).
        """
        if not isinstance(input, Mapping):
            problem = f"expected object, got {show_value(input)}"
            raise StructuredOutputError(
                f"Invalid input for {self.name}: at $: {problem}", errors=[("$", problem)]
            )
        errors = schema_errors(dict(input), self.input_schema)
        if errors:
            raise StructuredOutputError(
                f"Invalid input for {self.name}: {describe_errors(errors)}",
                errors=errors,
            )
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        known = set()
        for p in self._params:
            known.add(p.name)
            if p.name in input:
                try:
                    value = convert(input[p.name], p.hint, f"$.{p.name}", False)
                except MismatchError as e:
                    raise StructuredOutputError(
                        f"Invalid input for {self.name}: at {e.path}: {e.problem}",
                        errors=[(e.path, e.problem)],
                    ) from None
            elif p.default is not _EMPTY:
                if p.kind is not inspect.Parameter.POSITIONAL_ONLY:
                    continue
                value = p.default
            else:
                problem = "required, but missing"
                raise StructuredOutputError(
                    f"Invalid input for {self.name}: at $.{p.name}: {problem}",
                    errors=[(f"$.{p.name}", problem)],
                )
            if p.kind is inspect.Parameter.POSITIONAL_ONLY:
                args.append(value)
            else:
                kwargs[p.name] = value
        extra = [k for k in input if k not in known]
        if extra and self._var_keyword:
            kwargs.update({k: input[k] for k in extra})
        elif extra:
            problem = f"unexpected key {json.dumps(extra[0])}"
            raise StructuredOutputError(
                f"Invalid input for {self.name}: at $: {problem}", errors=[("$", problem)]
            )
        return args, kwargs

    def invoke(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Call the function (awaiting it when it is async) and return its result."""
        if self.fn is None:
            raise TypeError(f"The tool {self.name} has no Python function to run here.")
        result = self.fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = _run_awaitable(result)
        return result

    def call(self, input: Mapping[str, Any]) -> Any:
        """Check ``input`` against the schema, convert it, and call the function.

        Raises
        ------
        StructuredOutputError
            Invalid input. Exceptions of the function itself propagate.
        """
        args, kwargs = self.arguments(input)
        return self.invoke(args, kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped function directly (so ``Tool`` works as a decorator)."""
        if self.fn is None:
            raise TypeError(f"The tool {self.name} has no Python function to run here.")
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        params = ", ".join(self.input_schema.get("properties", {}))
        return f"<Tool {self.name}({params})>"


def _run_awaitable(awaitable: Any) -> Any:
    import asyncio

    async def main() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    # This thread already runs an event loop (a Jupyter kernel does): use a helper thread.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nbclaude-tool") as pool:
        return pool.submit(asyncio.run, main()).result()


def tool_spec(
    fn: Callable[..., Any] | Mapping[str, Any] | Tool,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """The API's tool definition for a function (or a definition dict, checked and kept).

    Parameters
    ----------
    fn : callable or dict or Tool
        See :class:`Tool`.
    name, description, strict
        See :class:`Tool`.

    Returns
    -------
    dict
        ``{"name", "description", "input_schema"}`` (plus ``"strict": True``).

    Raises
    ------
    TypeError
        A parameter type JSON cannot carry, ``*args``, or an unreadable signature.
    ValueError
        A name the API refuses (a lambda, for instance: pass ``name=``).

    Examples
    --------
    >>> from typing import Literal
    >>> def get_weather(location: str, units: Literal["c", "f"]) -> str: ...
    >>> tool_spec(get_weather)["input_schema"]["properties"]
    {'location': {'type': 'string'}, 'units': {'type': 'string', 'enum': ['c', 'f']}}
    """
    return Tool(fn, name=name, description=description, strict=strict).spec
