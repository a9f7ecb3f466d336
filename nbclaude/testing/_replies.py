"""Reply items: what the model "says" (text, tool calls, thinking, whole Messages).

The fake turns them into a JSON Message or a real SSE stream depending on the request's
``stream`` flag, and applies the request's ``max_tokens`` and ``stop_sequences`` (except
:class:`Message`, which is sent verbatim).

Timing options shared by the reply items:

``latency``
    seconds before the response headers are sent;
``delay`` / ``rate``
    seconds between two ``content_block_delta`` events, or deltas per second;
``chunk_size``
    characters per text (thinking, tool input) delta; default: word-ish pieces.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

__all__ = [
    "SIGNATURE_PREFIX",
    "BlockItem",
    "Message",
    "RedactedThinking",
    "Reply",
    "ReplyItem",
    "Text",
    "Thinking",
    "ToolUse",
    "check_timing",
    "fake_signature",
]

#: The first bytes of the fake's thinking signatures (so it can check the ones sent back).
SIGNATURE_PREFIX = b"nbclaude-fake-signature:"


def fake_signature(thinking: str) -> str:
    """A deterministic stand-in for a thinking block's signature.

    Examples
    --------
    >>> fake_signature("x") == fake_signature("x") != fake_signature("y")
    True
    """
    digest = hashlib.sha256(thinking.encode("utf-8")).digest()
    return base64.b64encode(SIGNATURE_PREFIX + digest).decode("ascii")


def check_timing(
    name: str, *, delay: float, rate: float | None, latency: float, chunk_size: int | None
) -> None:
    if delay < 0 or latency < 0:
        raise ValueError(f"{name}: delay and latency must be >= 0 seconds")
    if rate is not None and rate <= 0:
        raise ValueError(f"{name}: rate must be > 0 deltas per second (or None)")
    if rate is not None and delay:
        raise ValueError(f"{name}: give either delay= or rate=, not both")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"{name}: chunk_size must be >= 1 (or None for word-ish pieces)")


@dataclass(frozen=True)
class _Timing:
    """Timing options shared by every reply item (see the module docstring)."""

    _: KW_ONLY
    chunk_size: int | None = None
    delay: float = 0.0
    rate: float | None = None
    latency: float = 0.0
    model: str | None = None
    usage: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        check_timing(
            type(self).__name__,
            delay=self.delay,
            rate=self.rate,
            latency=self.latency,
            chunk_size=self.chunk_size,
        )

    @property
    def pause(self) -> float:
        """Seconds between two deltas."""
        return 1.0 / self.rate if self.rate else self.delay


@dataclass(frozen=True)
class Text(_Timing):
    """A text reply (one ``text`` block).

    Parameters
    ----------
    text : str
        What the model says. Truncated by the request's ``max_tokens`` (``stop_reason``
        ``"max_tokens"``) and cut at the first of its ``stop_sequences``.
    citations : sequence of dict, optional
        Citation objects, sent as ``citations_delta`` events when streaming.
    stop_reason : str
        ``"end_turn"`` unless truncated.
    chunk_size, delay, rate, latency, model, usage, headers
        See the module docstring; ``model`` replaces the response's ``model``, ``usage``
        entries replace the computed ones, ``headers`` are added to the response.

    Examples
    --------
    >>> Text("Hello!", chunk_size=2, rate=50).pause
    0.02
    """

    text: str
    _: KW_ONLY
    citations: Sequence[Mapping[str, Any]] | None = None
    stop_reason: str = "end_turn"


@dataclass(frozen=True)
class ToolUse(_Timing):
    """A tool call (``tool_use`` block), optionally preceded by a text block.

    For parallel calls put several in a :class:`Reply`:
    ``Reply([Text("Checking both."), ToolUse("a", {}), ToolUse("b", {})])``.

    Parameters
    ----------
    name : str
        The tool's name.
    input : dict
        The tool input (streamed as ``input_json_delta`` pieces, the first one ``""``).
    id : str, optional
        The ``toolu_…`` id; default: counter based, deterministic per fake.
    text : str, optional
        A text block before the call (as models often write).
    caller : dict or None
        Sent as the block's ``caller`` (real responses carry ``{"type": "direct"}``).

    Examples
    --------
    >>> ToolUse("get_weather", {"location": "Paris"}).stop_reason
    'tool_use'
    """

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    _: KW_ONLY
    id: str | None = None
    text: str | None = None
    caller: Mapping[str, Any] | None = field(default_factory=lambda: {"type": "direct"})
    stop_reason: str = "tool_use"


@dataclass(frozen=True)
class Thinking(_Timing):
    """A ``thinking`` block (``thinking_delta`` events, then a ``signature_delta``).

    Parameters
    ----------
    thinking : str
        The thinking text (``""`` is how models with ``display: "omitted"`` send it).
    text : str, optional
        The text block that follows.
    signature : str, optional
        Default: a deterministic fake signature derived from ``thinking``.

    Examples
    --------
    >>> Thinking("Two plus two is four.", "4").text
    '4'
    """

    thinking: str
    text: str | None = None
    _: KW_ONLY
    signature: str | None = None
    stop_reason: str = "end_turn"


@dataclass(frozen=True)
class RedactedThinking(_Timing):
    """A ``redacted_thinking`` block (sent whole in ``content_block_start``).

    Examples
    --------
    >>> RedactedThinking("EmwKAhgBEgy3va3pzix/LafPsn4a", "Done.").data[:4]
    'EmwK'
    """

    data: str
    text: str | None = None
    _: KW_ONLY
    stop_reason: str = "end_turn"


#: What a :class:`Reply` may contain: the block items above, or raw content-block dicts.
BlockItem = Text | ToolUse | Thinking | RedactedThinking | Mapping[str, Any]


@dataclass(frozen=True)
class Reply(_Timing):
    """A reply made of several blocks (thinking, text, parallel tool calls, raw dicts).

    The timing options of the nested items are ignored; this item's own apply.

    Parameters
    ----------
    blocks : sequence
        :class:`Text`, :class:`ToolUse`, :class:`Thinking`, :class:`RedactedThinking` or raw
        content-block dicts (``{"type": "server_tool_use", ...}``), in order.
    stop_reason : str, optional
        Default: ``"tool_use"`` when a block is a tool call, else ``"end_turn"``.
    stop_details : dict, optional
        Sent in the Message (and ``message_delta``), e.g. for a refusal.

    Examples
    --------
    >>> r = Reply([Text("Checking."), ToolUse("a", {}), ToolUse("b", {"x": 1})])
    >>> r.stop_reason is None, len(r.blocks)
    (True, 3)
    """

    blocks: Sequence[BlockItem]
    _: KW_ONLY
    stop_reason: str | None = None
    stop_details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Message(_Timing):
    """A whole Message dict, sent verbatim as JSON, or converted into a stream.

    Missing keys (``id``, ``type``, ``role``, ``model``, ``stop_reason``, ``stop_sequence``,
    ``usage``) are filled in; nothing is truncated.

    Examples
    --------
    >>> Message({"content": [{"type": "text", "text": "Hi"}]}).message["content"][0]["text"]
    'Hi'
    """

    message: Mapping[str, Any]


#: Items that produce a successful reply.
ReplyItem = Text | ToolUse | Thinking | RedactedThinking | Reply | Message
