"""Running the tool calls of a reply: :class:`ToolBox`, :func:`run_tool_calls`, ToolResult.

:func:`run_tool_calls` runs the ``tool_use`` blocks of a reply (``stop_reason:
"tool_use"``) and returns the ``tool_result`` blocks that open the next user turn
(docs/api.md §2.2, §10.6): one per call, in order, each call's input checked against its
schema first, errors reported to the model as ``is_error`` results instead of raised.

Only ``Exception`` is caught around a tool: ``KeyboardInterrupt`` (a kernel interrupt) stops
the loop, so the caller must then answer or drop the pending ``tool_use`` blocks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from nbclaude._schema.check import StructuredOutputError, describe_errors

from .content import MAX_RESULT_CHARS, tool_result_content
from .define import Tool

__all__ = ["DECLINED", "ToolBox", "ToolResult", "run_tool_call", "run_tool_calls"]

#: The result text of a call the user declined (``approve`` answered ``False``).
DECLINED = "The user declined to run this tool."


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
        return result(DECLINED, error=True, declined=True)
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

    The result list goes first in the next user message (docs/api.md §2.2): one result per
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
