"""Checking a conversation read from a file, before anything uses it.

A saved session (:mod:`nbclaude._session.persist`) and a notebook's machine-readable turns
(:mod:`nbclaude._session.notebook`) come from disk, where anything can happen: a hand edit, a
tool that rewrote the file, a different program. These checks say, in words, the first thing
that is wrong ("message 3, block 2 (image): "source" must be an object"); the caller adds which
file. They check the shape the Messages API needs of each message and of the block types it
documents; a block of a type they do not know passes if it has a ``"type"`` (the API adds
types over time, docs/api.md §10.11), and the API has the last word.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from nbclaude._types import MessageParam

from .builder import RESERVED
from .usage import USAGE_KEYS

__all__ = ["Invalid", "check_messages", "check_settings", "check_usage", "whole_number"]

_ROLES = ("user", "assistant")
_MESSAGE_KEYS = {"role", "content"}
_IMAGE_SOURCES = {"base64": ("media_type", "data"), "url": ("url",), "file": ("file_id",)}


class Invalid(ValueError):  # noqa: N818 (reads as "raise Invalid(what is wrong)")
    """What is wrong with the data, in words (the caller names the file)."""


def _kind(value: Any) -> str:
    names = {str: "a string", bool: "true/false", int: "a number", float: "a number",
             list: "a list", dict: "an object", type(None): "null"}  # fmt: skip
    return names.get(type(value), type(value).__name__)


def whole_number(value: Any, *, least: int = 0) -> bool:
    """Whether ``value`` is an ``int`` (not a bool) of at least ``least``.

    Examples
    --------
    >>> whole_number(3), whole_number(1.9), whole_number(True), whole_number(-1)
    (True, False, False, False)
    """
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _text(block: Mapping[str, Any], key: str, where: str) -> None:
    if not isinstance(block.get(key), str):
        got = "nothing" if key not in block else _kind(block[key])
        raise Invalid(f'{where}: "{key}" must be a string, not {got}')


def _source(block: Mapping[str, Any], where: str, *, image: bool) -> None:
    source = block.get("source")
    if not isinstance(source, Mapping):
        got = "nothing" if source is None else _kind(source)
        raise Invalid(f'{where}: "source" must be an object, not {got}')
    kind = source.get("type")
    if not isinstance(kind, str):
        raise Invalid(f'{where}: the source needs a "type"')
    if image and kind not in _IMAGE_SOURCES:
        raise Invalid(f"{where}: unknown image source type {kind!r}")
    for key in _IMAGE_SOURCES.get(kind, ("data",) if kind in ("base64", "text") else ()):
        _text(source, key, f"{where}, source")


def check_block(block: Any, where: str) -> None:
    """Refuse a content block that the API could not take.

    Examples
    --------
    >>> check_block({"type": "text", "text": "Hi"}, "block 1")
    >>> check_block({"type": "image"}, "block 1")
    Traceback (most recent call last):
    ...
    nbclaude._session.validate.Invalid: block 1 (image): "source" must be an object, not nothing
    """
    if not isinstance(block, Mapping):
        raise Invalid(f"{where} must be an object, not {_kind(block)}")
    kind = block.get("type")
    if not isinstance(kind, str) or not kind:
        raise Invalid(f'{where}: "type" must name the kind of block')
    where = f"{where} ({kind})"
    if kind == "text":
        _text(block, "text", where)
    elif kind == "image":
        _source(block, where, image=True)
    elif kind == "document":
        _source(block, where, image=False)
    elif kind in ("tool_use", "server_tool_use"):
        _text(block, "id", where)
        _text(block, "name", where)
        if not isinstance(block.get("input"), Mapping):
            raise Invalid(f'{where}: "input" must be an object, not {_kind(block.get("input"))}')
    elif kind == "tool_result":
        _text(block, "tool_use_id", where)
        content = block.get("content")
        if isinstance(content, list):
            for i, inner in enumerate(content, 1):
                check_block(inner, f"{where}, block {i}")
        elif content is not None and not isinstance(content, str):
            raise Invalid(f'{where}: "content" must be a string or a list, not {_kind(content)}')
        if "is_error" in block and not isinstance(block["is_error"], bool):
            raise Invalid(f'{where}: "is_error" must be true or false')
    elif kind == "thinking":
        _text(block, "thinking", where)
        _text(block, "signature", where)
    elif kind == "redacted_thinking":
        _text(block, "data", where)


def check_message(message: Any, where: str) -> MessageParam:
    """Refuse a message the API could not take; returns it, typed."""
    if not isinstance(message, Mapping):
        raise Invalid(f"{where} must be an object, not {_kind(message)}")
    role = message.get("role")
    if role not in _ROLES:
        raise Invalid(f'{where}: "role" must be "user" or "assistant", not {role!r}')
    if "content" not in message:
        raise Invalid(f'{where}: no "content"')
    extra = sorted(set(message) - _MESSAGE_KEYS)
    if extra:
        raise Invalid(f"{where}: unknown key {extra[0]!r}")
    content = message["content"]
    if isinstance(content, list):
        for i, block in enumerate(content, 1):
            check_block(block, f"{where}, block {i}")
    elif not isinstance(content, str):
        raise Invalid(f'{where}: "content" must be a string or a list of blocks, not '
                      f"{_kind(content)}")  # fmt: skip
    return message  # type: ignore[return-value]


def check_messages(value: Any) -> list[MessageParam]:
    """A list of messages, each checked, or :class:`Invalid` naming the first problem.

    Examples
    --------
    >>> check_messages([{"role": "user", "content": "Hi"}])
    [{'role': 'user', 'content': 'Hi'}]
    >>> check_messages("hello")
    Traceback (most recent call last):
    ...
    nbclaude._session.validate.Invalid: "messages" must be a list of messages, not a string
    """
    if not isinstance(value, list):
        raise Invalid(f'"messages" must be a list of messages, not {_kind(value)}')
    return [check_message(m, f"message {i}") for i, m in enumerate(value, 1)]


def check_settings(data: Mapping[str, Any]) -> None:
    """Refuse settings of the wrong type (``max_tokens`` 1.9 is not 1)."""
    if "model" not in data:
        raise Invalid('no "model"')
    model = data["model"]
    if not isinstance(model, str) or not model.strip():
        raise Invalid(f'"model" must be a model id such as "claude-haiku-4-5", not {model!r}')
    if not whole_number(data.get("max_tokens")):
        raise Invalid(f"max_tokens must be a whole number >= 0, not {data.get('max_tokens')!r}")
    system = data.get("system")
    if isinstance(system, list):
        for i, block in enumerate(system, 1):
            check_block(block, f'"system", block {i}')
            if block.get("type") != "text":
                raise Invalid(f'"system", block {i}: only text blocks may be a system prompt')
    elif system is not None and not isinstance(system, str):
        raise Invalid(f'"system" must be a string, a list of text blocks or null, not '
                      f"{_kind(system)}")  # fmt: skip
    params = data.get("params", {})
    if not isinstance(params, Mapping):
        raise Invalid(f'"params" must be an object, not {_kind(params)}')
    for key in params:
        if not isinstance(key, str) or key in RESERVED:
            raise Invalid(f'"params" may not set {key!r}')
    if not isinstance(data.get("cache", False), bool):
        raise Invalid('"cache" must be true or false')


def check_usage(usage: Any, cost: Any) -> tuple[dict[str, int], float | None]:
    """Token totals and cost, checked (unknown usage fields are left out).

    Examples
    --------
    >>> check_usage({"input_tokens": 3}, 0.5)[1]
    0.5
    """
    if usage is None:
        usage = {}
    if not isinstance(usage, Mapping):
        raise Invalid(f'"usage" must be an object, not {_kind(usage)}')
    totals: dict[str, int] = {}
    for key in USAGE_KEYS:
        value = usage.get(key, 0)
        if value is None:
            value = 0
        if not whole_number(value):
            raise Invalid(f'"usage": {key} must be a whole number >= 0, not {value!r}')
        totals[key] = value
    if cost is not None and (
        isinstance(cost, bool)
        or not isinstance(cost, (int, float))
        or not math.isfinite(cost)
        or cost < 0
    ):
        raise Invalid(f'"cost" must be a number >= 0 or null, not {cost!r}')
    return totals, None if cost is None else float(cost)
