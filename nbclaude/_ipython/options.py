"""The ``%%claude`` options that name notebook variables: ``-i``, ``--tools``, ``--schema``.

Each takes the option's words and the user namespace and returns what the turn is given, or
raises a ``UsageError`` that names the option (one clean line in the cell).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from IPython.core.error import UsageError

__all__ = ["image_option", "schema_option", "tools_option"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def image_option(src: str, ns: Mapping[str, Any]) -> Any:
    """``-i SRC``: a variable holding an image (or a path), else a path or a URL.

    Examples
    --------
    >>> image_option("https://example.com/cat.png", {})["source"]["type"]
    'url'
    """
    from nbclaude._content.images import image, is_image_like

    if _IDENT.match(src) and src in ns:
        value = ns[src]
        if is_image_like(value):
            return value
        if isinstance(value, (str, os.PathLike)):
            return image(value)
        kind = type(value).__name__
        raise UsageError(f"-i {src}: the variable holds a {kind}, not an image")
    return image(src)


def tools_option(names: str | None, ns: Mapping[str, Any]) -> list[Any] | None:
    """``--tools NAME[,NAME]``: the notebook's functions (or tool dicts) of those names.

    Examples
    --------
    >>> def add(a: int, b: int) -> int:
    ...     "Add two numbers."
    ...     return a + b
    >>> [t.name for t in tools_option("add", {"add": add})]
    ['add']
    """
    if not names:
        return None
    from nbclaude._tools import Tool

    tools: list[Any] = []
    for name in (n.strip() for n in names.split(",")):
        value = ns.get(name)
        if not name or value is None or not (callable(value) or isinstance(value, dict)):
            raise UsageError(f"--tools {name}: no function of that name in the notebook")
        # A function is offered under the name the cell used (a lambda has no name).
        tools.append(value if isinstance(value, (dict, Tool)) else Tool(value, name=name))
    return tools


def schema_option(name: str | None, ns: Mapping[str, Any]) -> Any:
    """``--schema VAR``: the variable, checked now (a type it cannot describe is one line).

    Examples
    --------
    >>> schema_option("shape", {"shape": {"type": "object", "properties": {}}})["type"]
    'object'
    """
    if name is None:
        return None
    if name not in ns:
        raise UsageError(f"--schema {name}: no variable of that name in the notebook")
    value = ns[name]
    from nbclaude._schema import output_format

    try:
        output_format(value)
    except TypeError as exc:
        problem = " ".join(str(exc).split())
    else:
        return value
    raise UsageError(f"--schema {name}: {problem}")
