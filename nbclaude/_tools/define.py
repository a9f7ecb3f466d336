"""One tool: :class:`Tool` (a function, its API definition, checked calls) and :func:`tool_spec`.

The definition (``name``, ``description``, ``input_schema``) comes from the function's
signature, type hints and docstring (numpy, Google or Sphinx style), read by
:mod:`nbclaude._tools.signature` (where the decisions about parameters are written down).
Decisions worth knowing here:

* The description is the docstring's summary and description, plus its Returns section.
* A strict tool sends its schema reduced to what strict tools accept, and cannot be recursive.
* An async function is awaited: in a thread of its own when this thread already runs an
  event loop (a Jupyter kernel does).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

from nbclaude._schema.check import StructuredOutputError, describe_errors, schema_errors, show_value
from nbclaude._schema.docstrings import parse_docstring
from nbclaude._schema.structured import find_cycle, for_api

from .signature import (
    NO_PARAMETERS,
    PASS_THROUGH,
    base_function,
    default_name,
    docstring,
    read_signature,
)

__all__ = ["Tool", "tool_spec"]

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"Tool names must be 1-64 letters, digits, '_' or '-': {name!r} is not. "
            "Pass name='...'."
        )
    return name


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
        self._signature = NO_PARAMETERS  # a definition dict's: no input key is expected
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
        self.name = _check_name(name if name is not None else default_name(fn))
        base = base_function(fn)
        doc = parse_docstring(docstring(fn, base))
        if description is None:
            description = doc.description
            if doc.returns:
                description = f"{description}\n\nReturns: {doc.returns}".strip()
        self.description = description
        if input_schema is None:
            self._signature = read_signature(fn, base, doc, self.name)
            full = self._signature.schema
        else:
            full = dict(input_schema)
            try:
                self._signature = read_signature(fn, base, doc, self.name)  # to convert input
            except TypeError:
                self._signature = PASS_THROUGH  # the input is passed as it is
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
        return self._signature.bind(input, self.name)

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
