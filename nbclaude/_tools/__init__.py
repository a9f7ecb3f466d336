"""Python functions as Claude tools, and running the tool calls of a reply.

* :func:`tool_spec` turns a function into the API's tool definition (``name``,
  ``description``, ``input_schema``) from its signature, type hints and docstring (numpy,
  Google or Sphinx style).
* :class:`Tool` wraps one function and its definition; :class:`ToolBox` holds several by name.
* :func:`run_tool_calls` runs the ``tool_use`` blocks of a reply (``stop_reason:
  "tool_use"``) and returns the ``tool_result`` blocks that open the next user turn
  (PROTOCOL.md §2.2, §10.6): one per call, in order, each call's input checked against its
  schema first, errors reported to the model as ``is_error`` results instead of raised.
* :func:`tool_result_content` turns what a function returned into that result's content.

This module re-exports; the code lives in one module per concept, each with its decisions
written down in its docstring:

* :mod:`nbclaude._tools.define`: one tool (:class:`Tool`, :func:`tool_spec`);
* :mod:`nbclaude._tools.run`: :class:`ToolBox`, :class:`ToolResult`, running the calls;
* :mod:`nbclaude._tools.content`: a return value as ``tool_result`` content.

Only the standard library is imported here; images are made by
:mod:`nbclaude._content.images.image`, imported when a tool returns one.
"""

from __future__ import annotations

from .content import MAX_RESULT_CHARS, MAX_RESULT_IMAGES, tool_result_content
from .define import Tool, tool_spec
from .run import ToolBox, ToolResult, run_tool_call, run_tool_calls

__all__ = [
    "MAX_RESULT_CHARS",
    "MAX_RESULT_IMAGES",
    "Tool",
    "ToolBox",
    "ToolResult",
    "run_tool_call",
    "run_tool_calls",
    "tool_result_content",
    "tool_spec",
]
