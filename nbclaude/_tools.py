"""Python functions as Claude tools, and running the tool calls of a reply.

* :func:`tool_spec` turns a function into the API's tool definition (``name``,
  ``description``, ``input_schema``) from its signature, type hints and docstring (numpy,
  Google or Sphinx style).
* :class:`Tool` wraps one function and its definition; :class:`ToolBox` holds several by name.
* :func:`run_tool_calls` runs the ``tool_use`` blocks of a reply (``stop_reason:
  "tool_use"``) and returns the ``tool_result`` blocks that open the next user turn
  (PROTOCOL.md §2.2, §10.6): one per call, in order, each call's input checked against its
  schema first, errors reported to the model as ``is_error`` results instead of raised.

Decisions worth knowing:

* An unannotated parameter accepts any JSON value (``{}`` in the schema, as the official SDK's
  pydantic-based helper does), unless its default value or a numpy/Google docstring type
  (``x : int``) says more. It is never silently turned into a string.
* ``*args`` is refused (give it a name and a ``list[...]`` type); ``**kwargs`` is not shown
  to the model; positional-only parameters are passed positionally.
* Only ``Exception`` is caught around a tool: ``KeyboardInterrupt`` (a kernel interrupt)
  stops the loop, so the caller must then answer or drop the pending ``tool_use`` blocks.

Only the standard library is imported here; images are made by :mod:`nbclaude._images`,
imported when a tool returns one.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ._docstrings import Docstring, parse_docstring
from ._schema_build import Builder, jsonable_default
from ._schema_check import StructuredOutputError, describe_errors, schema_errors, show_value
from ._schema_convert import MismatchError, convert, to_jsonable
from ._schema_types import class_docstring, type_hints
from ._structured import find_cycle, for_api

__all__ = [
    "MAX_RESULT_CHARS",
    "Tool",
    "ToolBox",
    "ToolResult",
    "run_tool_call",
    "run_tool_calls",
    "tool_result_content",
    "tool_spec",
]

#: Longest text a tool result may send to the model; the rest is cut with a note.
MAX_RESULT_CHARS = 100_000
#: Most images one tool result may send.
MAX_RESULT_IMAGES = 20
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_EMPTY = inspect.Parameter.empty
_BLOCK_TYPES = frozenset({"text", "image", "document", "search_result"})
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
_DECLINED = "The user declined to run this tool."


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


class ToolResult(dict[str, Any]):
    """A ``tool_result`` block that also remembers how the call went.

    It *is* the dict the API wants (``json.dumps``, ``copy.deepcopy`` and ``pickle`` see a
    plain dict); what nbclaude knows about the call lives in attributes, never in keys.

    Attributes
    ----------
    name : str
        The tool's name as the model called it.
    input : dict
        The input the model sent.
    value : Any
        What the function returned (``None`` when it did not run or failed).
    exception : BaseException or None
        The exception the function (or the conversion of its result) raised, traceback
        included, to show the user; the model only gets ``"ExcType: message"``.
    declined : bool
        ``approve`` said no.
    seconds : float
        Time the function ran.

    Examples
    --------
    >>> r = ToolResult({"type": "tool_result", "tool_use_id": "toolu_1", "content": "4"})
    >>> r.is_error, dict(r)
    (False, {'type': 'tool_result', 'tool_use_id': 'toolu_1', 'content': '4'})
    """

    __slots__ = ("declined", "exception", "input", "name", "seconds", "value")

    def __init__(
        self,
        block: Mapping[str, Any],
        *,
        name: str = "",
        input: Mapping[str, Any] | None = None,
        value: Any = None,
        exception: BaseException | None = None,
        declined: bool = False,
        seconds: float = 0.0,
    ) -> None:
        super().__init__(block)
        self.name = name
        self.input = dict(input or {})
        self.value = value
        self.exception = exception
        self.declined = declined
        self.seconds = seconds

    @property
    def is_error(self) -> bool:
        """Whether the block tells the model the call failed."""
        return bool(self.get("is_error", False))

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self),))


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


class ToolBox:
    """Tools by name: what a session offers the model and runs when it calls them.

    Parameters
    ----------
    tools : iterable
        Functions, :class:`Tool` objects or definition dicts. Two with the same name are an
        error here; :meth:`add` replaces instead (re-running a notebook cell is normal).

    Examples
    --------
    >>> def add(a: float, b: float) -> float:
    ...     "Add two numbers."
    ...     return a + b
    >>> box = ToolBox([add])
    >>> [spec["name"] for spec in box.specs()]
    ['add']
    >>> reply = [{"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 2, "b": 3}}]
    >>> box.run(reply)
    [{'type': 'tool_result', 'tool_use_id': 'toolu_1', 'content': '5.0'}]
    """

    def __init__(self, tools: Iterable[Callable[..., Any] | Mapping[str, Any] | Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for item in tools:
            tool = item if isinstance(item, Tool) else Tool(item)
            if tool.name in self._tools:
                raise ValueError(
                    f"Two tools are named {tool.name!r}: the API needs unique names. Pass one "
                    "of them as Tool(fn, name='...')."
                )
            self._tools[tool.name] = tool

    def add(
        self, tool: Callable[..., Any] | Mapping[str, Any] | Tool, *, name: str | None = None
    ) -> Tool:
        """Add a tool (replacing one of the same name) and return it."""
        made = Tool(tool, name=name) if name is not None or not isinstance(tool, Tool) else tool
        self._tools[made.name] = made
        return made

    def remove(self, tool: str | Callable[..., Any] | Tool) -> None:
        """Remove a tool given by name, by :class:`Tool` or by its function."""
        for key, value in list(self._tools.items()):
            if tool == key or tool is value or (value.fn is not None and value.fn is tool):
                del self._tools[key]
                return
        raise KeyError(f"No tool {tool!r}; the tools are: {', '.join(self._tools) or 'none'}.")

    def get(self, name: str) -> Tool | None:
        """The tool named ``name``, or ``None``."""
        return self._tools.get(name)

    def __getitem__(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            known = ", ".join(self._tools) or "none"
            raise KeyError(f"No tool {name!r}; the tools are: {known}.") from None

    def __contains__(self, item: object) -> bool:
        return any(
            item == key or item is tool or (tool.fn is not None and tool.fn is item)
            for key, tool in self._tools.items()
        )

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))

    def __len__(self) -> int:
        return len(self._tools)

    @property
    def names(self) -> list[str]:
        """The tools' names, in the order they were added."""
        return list(self._tools)

    def specs(self) -> list[dict[str, Any]]:
        """The definitions for the request's ``tools`` list."""
        return [dict(tool.spec) for tool in self._tools.values()]

    def run(
        self,
        content: Iterable[Mapping[str, Any]] | Mapping[str, Any],
        *,
        approve: Callable[[str, dict[str, Any]], bool] | None = None,
        max_chars: int = MAX_RESULT_CHARS,
    ) -> list[ToolResult]:
        """Run the reply's tool calls: :func:`run_tool_calls` with these tools."""
        return run_tool_calls(content, self, approve=approve, max_chars=max_chars)

    def __repr__(self) -> str:
        return f"ToolBox({self.names!r})"


def _toolbox(tools: Any) -> ToolBox:
    if isinstance(tools, ToolBox):
        return tools
    if isinstance(tools, Tool) or callable(tools):
        return ToolBox([tools])
    if isinstance(tools, Mapping):
        if "name" in tools and not callable(tools.get("name")):
            return ToolBox([tools])  # one definition dict
        return ToolBox(Tool(fn, name=key) for key, fn in tools.items())
    if tools is None:
        return ToolBox()
    return ToolBox(tools)


# --------------------------------------------------------------------------------------------
# Results -> content


def _is_block(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("type") in _BLOCK_TYPES


def _is_image(value: Any) -> bool:
    from ._images import is_image_like

    return is_image_like(value) and not isinstance(value, Mapping)


def _repr_markdown(value: Any) -> str | None:
    method = getattr(value, "_repr_markdown_", None)
    if isinstance(value, type) or not callable(method):
        return None
    try:
        out = method()
    except Exception:
        return None
    if isinstance(out, tuple) and out:
        out = out[0]
    return out if isinstance(out, str) else None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return f"<{len(data):,} bytes of binary data>"
    if type(value).__module__ == "numpy" and getattr(value, "size", 0) > 1000:
        return f"array of shape {value.shape}, dtype {value.dtype}:\n{value}"
    markdown = _repr_markdown(value)
    if markdown is not None:
        return markdown
    plain = (bool, int, float, list, tuple, set, frozenset, Mapping, enum.Enum)
    structured = (
        isinstance(value, plain)
        or (dataclasses.is_dataclass(value) and not isinstance(value, type))
        or callable(getattr(value, "model_dump", None))
        or type(value).__module__ == "numpy"
    )
    if structured:
        try:
            return json.dumps(to_jsonable(value, default=str), ensure_ascii=False)
        except (TypeError, ValueError):
            pass
    return str(value)


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return (
        f"{text[:limit]}\n\n[... truncated: the result has {len(text):,} characters; only the "
        f"first {limit:,} are shown]"
    )


def tool_result_content(
    value: Any, *, max_chars: int = MAX_RESULT_CHARS
) -> str | list[dict[str, Any]]:
    """What a tool returned, as ``tool_result`` content for the model.

    * ``str`` as it is (an empty one as a short note); ``None`` as a short note;
    * numbers, bools, dicts, lists, tuples, sets, dataclasses, enums, pydantic models and
      numpy values as JSON (arrays over 1,000 elements as numpy prints them, summarized);
    * images (PIL images, numpy arrays shaped like pictures, matplotlib figures,
      ``IPython.display.Image``, image bytes) as image blocks made by ``nbclaude.image``;
      content block dicts (``text``/``image``/``document``/``search_result``) as they are;
      a list or tuple holding any of these as a list of blocks (other items as text);
    * other objects by their ``_repr_markdown_``, else ``str()``;
    * text over ``max_chars`` characters cut with a note; at most 20 images.

    Examples
    --------
    >>> tool_result_content({"temperature": 20, "units": "c"})
    '{"temperature": 20, "units": "c"}'
    >>> tool_result_content(None)
    '(no result: the function returned None)'
    """
    if isinstance(value, str):
        return _truncate(value, max_chars) if value else "(an empty string)"
    if value is None:
        return "(no result: the function returned None)"
    items: list[Any]
    if _is_block(value) or _is_image(value):
        items = [value]
    elif isinstance(value, (list, tuple)) and any(_is_block(v) or _is_image(v) for v in value):
        items = list(value)
    else:
        return _truncate(_text(value), max_chars)
    from ._images import image

    blocks: list[dict[str, Any]] = []
    budget = max_chars
    images = skipped = 0
    for item in items:
        if _is_image(item) or (_is_block(item) and item.get("type") == "image"):
            if images >= MAX_RESULT_IMAGES:
                skipped += 1
                continue
            images += 1
            blocks.append(image(item) if _is_image(item) else item)  # keeps an ImageBlock
        elif _is_block(item) and item.get("type") != "text":
            blocks.append(item)  # a document or search_result block, as it is
        else:
            text = item.get("text", "") if _is_block(item) else _text(item)
            if budget <= 0:
                continue
            cut = _truncate(text, budget)
            budget -= len(text)
            if cut.strip():
                blocks.append({**item, "text": cut} if _is_block(item) else _text_block(cut))
    if skipped:
        blocks.append(_text_block(f"[{skipped} more images were not sent]"))
    return blocks or "(no content)"


def _text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


# --------------------------------------------------------------------------------------------
# Running tool calls


def _error_text(exc: BaseException) -> str:
    message = str(exc).strip()
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text if len(text) <= 2000 else text[:2000] + " [...]"


def run_tool_call(
    block: Mapping[str, Any],
    tools: Any,
    *,
    approve: Callable[[str, dict[str, Any]], bool] | None = None,
    max_chars: int = MAX_RESULT_CHARS,
) -> ToolResult:
    """Run one ``tool_use`` block and return its ``tool_result`` block.

    Never raises for the tool's sake: an unknown tool, an input that breaks the schema, a
    declined approval, an exception in the function or a result that cannot be sent all
    become ``is_error: true`` results whose text tells the model what happened. Only
    ``BaseException``\\ s that are not ``Exception`` (``KeyboardInterrupt``) and exceptions
    from ``approve`` itself propagate.

    Parameters
    ----------
    block : dict
        ``{"type": "tool_use", "id", "name", "input"}`` from the reply.
    tools : ToolBox or iterable or dict
        A :class:`ToolBox`; or functions / :class:`Tool` objects / definition dicts; or a
        ``{name: function}`` dict.
    approve : callable, optional
        ``approve(name, input) -> bool``, asked after the input was checked and before the
        function runs; a false answer sends "The user declined to run this tool.".
    max_chars : int
        Longest text result sent (see :func:`tool_result_content`).

    Examples
    --------
    >>> def divide(a: float, b: float) -> float:
    ...     return a / b
    >>> call = {"type": "tool_use", "id": "toolu_1", "name": "divide", "input": {"a": 1, "b": 0}}
    >>> run_tool_call(call, [divide])
    {'type': 'tool_result', 'tool_use_id': 'toolu_1', 'content': 'ZeroDivisionError: float division by zero', 'is_error': True}
    """  # noqa: E501
    box = _toolbox(tools)
    use_id = str(block.get("id", ""))
    name = str(block.get("name", ""))
    raw = block.get("input")
    payload = dict(raw) if isinstance(raw, Mapping) else {}

    def result(content: Any, *, error: bool = False, **info: Any) -> ToolResult:
        out: dict[str, Any] = {"type": "tool_result", "tool_use_id": use_id, "content": content}
        if error:
            out["is_error"] = True
        return ToolResult(out, name=name, input=payload, **info)

    tool = box.get(name)
    if tool is None or tool.fn is None:
        known = ", ".join(t.name for t in box if t.fn is not None) or "none"
        why = "is not available" if tool is None else "cannot be run here"
        return result(f"The tool {name!r} {why}. Available tools: {known}.", error=True)
    try:
        args, kwargs = tool.arguments(raw if isinstance(raw, Mapping) else raw or {})
    except StructuredOutputError as e:
        problems = describe_errors(e.errors) if e.errors else e.message
        return result(
            f"Invalid input for {name}: {problems}. Call {name} again with corrected input.",
            error=True,
            exception=e,
        )
    except Exception as e:  # a conversion the schema did not foresee
        return result(f"Could not prepare the call: {_error_text(e)}", error=True, exception=e)
    if approve is not None and not approve(name, payload):
        return result(_DECLINED, error=True, declined=True)
    start = time.perf_counter()
    try:
        value = tool.invoke(args, kwargs)
    except Exception as e:
        seconds = time.perf_counter() - start
        return result(_error_text(e), error=True, exception=e, seconds=seconds)
    seconds = time.perf_counter() - start
    try:
        content = tool_result_content(value, max_chars=max_chars)
    except Exception as e:
        return result(
            f"The tool ran, but its result could not be sent: {_error_text(e)}",
            error=True,
            exception=e,
            value=value,
            seconds=seconds,
        )
    return result(content, value=value, seconds=seconds)


def run_tool_calls(
    content: Iterable[Mapping[str, Any]] | Mapping[str, Any],
    tools: Any,
    *,
    approve: Callable[[str, dict[str, Any]], bool] | None = None,
    max_chars: int = MAX_RESULT_CHARS,
) -> list[ToolResult]:
    """Run every ``tool_use`` block of a reply, in order; return the ``tool_result`` blocks.

    The result list goes first in the next user message (PROTOCOL.md §2.2): one result per
    call, in the order of the calls, so parallel calls are all answered.

    Parameters
    ----------
    content : list of dict or dict
        The reply's content blocks, or the whole Message dict. Blocks other than
        ``tool_use`` (text, thinking, ``server_tool_use``, ...) are skipped.
    tools, approve, max_chars
        See :func:`run_tool_call`.

    Returns
    -------
    list of ToolResult
        ``tool_result`` dicts (with attributes for display; see :class:`ToolResult`).

    Examples
    --------
    >>> def get_weather(location: str) -> dict:
    ...     return {"location": location, "temperature": "20°C"}
    >>> calls = [{"type": "tool_use", "id": "toolu_1", "name": "get_weather",
    ...           "input": {"location": "SF"}}]
    >>> run_tool_calls(calls, [get_weather])[0]["content"]
    '{"location": "SF", "temperature": "20°C"}'
    """
    if isinstance(content, Mapping):
        blocks = content.get("content") or []
    else:
        blocks = content
    box = _toolbox(tools)
    return [
        run_tool_call(block, box, approve=approve, max_chars=max_chars)
        for block in blocks
        if isinstance(block, Mapping) and block.get("type") == "tool_use"
    ]
