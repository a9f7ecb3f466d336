"""Python functions as Claude tools, and running the tool calls of a reply.

* :func:`tool_spec` turns a function into the API's tool definition (``name``,
  ``description``, ``input_schema``) from its signature, type hints and docstring (numpy,
  Google or Sphinx style).
* :class:`Tool` wraps one function and its definition; :class:`ToolBox` holds several by name.
* :func:`run_tool_calls` runs the ``tool_use`` blocks of a reply (``stop_reason:
  "tool_use"``) and returns the ``tool_result`` blocks that open the next user turn
  (docs/api.md §2.2, §10.6): one per call, in order, each call's input checked against its
  schema first, errors reported to the model as ``is_error`` results instead of raised.
* :func:`tool_result_content` turns what a function returned into that result's content.

One module per concept, lowest first (each imports only those above it in this list), each
with its decisions written down in its docstring:

* ``content``: a return value as ``tool_result`` content (:func:`tool_result_content`);
* ``signature``: a callable read as a tool (its parameters and the input schema they make),
  and the model's input bound back to them;
* ``define``: one tool (:class:`Tool`, :func:`tool_spec`): name, description, strictness,
  checked calls;
* ``run``: :class:`ToolBox`, :class:`ToolResult`, running the calls of a reply.

Those entry points are re-exported here; no module of this folder imports this package itself.
Only the standard library is imported here; images are made by :mod:`nbclaude._content.images`,
imported when a tool returns one.

Examples
--------
>>> from nbclaude._tools import ToolBox
>>> def add(a: int, b: int) -> int:
...     "Add two numbers."
...     return a + b
>>> call = {"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 2, "b": 3}}
>>> ToolBox([add]).run([call])
[{'type': 'tool_result', 'tool_use_id': 'toolu_1', 'content': '5'}]
"""

from __future__ import annotations

from .content import MAX_RESULT_CHARS, MAX_RESULT_IMAGES, tool_result_content
from .define import Tool, tool_spec
from .run import DECLINED, ToolBox, ToolResult, run_tool_call, run_tool_calls

__all__ = [
    "DECLINED",
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
