"""What a validated request is, and the helpers every validation module shares.

Texts quoted in docs/api.md §5/§10 are used verbatim. Texts marked ``# real (issues)`` were
read off real API responses pasted in public GitHub issues; texts marked ``# CONSTRUCTED``
are our best guess in the API's style (pydantic-like ``<path>: <problem>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._imageinfo import ImageInfo
from ._models import ModelEntry, ModelRegistry

__all__ = [
    "DocumentRef",
    "FakeAPIError",
    "ImageRef",
    "ParsedRequest",
    "ParserState",
    "SearchResultRef",
    "bad",
    "cache_control",
    "check_keys",
    "is_int",
    "is_number",
]


class FakeAPIError(Exception):
    """An error answer: HTTP status, ``error.type``, ``error.message`` and, for the errors the
    SDK 2.17 types by code, ``error.details`` (``{"error_code": "thread_not_found", ...}``)."""

    def __init__(
        self, status: int, type: str, message: str, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.details = details


def bad(message: str) -> FakeAPIError:
    return FakeAPIError(400, "invalid_request_error", message)


@dataclass
class ImageRef:
    """One image of the request, as the fake understood it."""

    path: str
    source_type: str  # "base64", "url", "file"
    media_type: str | None = None
    base64_chars: int = 0
    info: ImageInfo | None = None
    url: str | None = None


@dataclass
class DocumentRef:
    """One document of the request."""

    path: str
    source_type: str
    media_type: str | None = None
    chars: int = 0
    pages: int = 0
    text: str = ""
    title: str | None = None
    citations: bool = False  # citations: {"enabled": true}
    blocks: list[str] = field(default_factory=list)  # custom content: the text of each block
    raw: bytes = b""  # a PDF's bytes


@dataclass
class SearchResultRef:
    """One ``search_result`` block of the request (in a user turn or a tool result)."""

    source: str
    title: str
    blocks: list[str]
    citations: bool = False


@dataclass
class ParsedRequest:
    """A validated request, with what the fake's replies and token counts need."""

    endpoint: str  # "messages" or "count_tokens"
    body: dict[str, Any]
    model: str
    entry: ModelEntry
    messages: list[dict[str, Any]]  # merged: {"role": ..., "content": [blocks]}
    max_tokens: int = 0
    stream: bool = False
    stop_sequences: list[str] = field(default_factory=list)
    system: str = ""
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None  # None when off
    output_schema: dict[str, Any] | None = None
    images: list[ImageRef] = field(default_factory=list)
    documents: list[DocumentRef] = field(default_factory=list)
    search_results: list[SearchResultRef] = field(default_factory=list)
    input_tokens: int = 0  # the whole prompt, cached parts included
    cache_read: int = 0  # of input_tokens: read from the prompt cache
    cache_write_5m: int = 0  # of input_tokens: written to the cache, 5-minute TTL
    cache_write_1h: int = 0  # ... 1-hour TTL
    thinking_type: str | None = None  # "thinking.type" as sent (None when absent)

    @property
    def prefill(self) -> str | None:
        """The text of the final assistant message, or ``None`` when the last turn is a user's."""
        if not self.messages or self.messages[-1]["role"] != "assistant":
            return None
        return "".join(
            b.get("text", "") for b in self.messages[-1]["content"] if b.get("type") == "text"
        )


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_keys(obj: Mapping[str, Any], allowed: frozenset[str], path: str) -> None:
    for key in obj:
        if key not in allowed:
            raise bad(f"{path}{key}: Extra inputs are not permitted")  # docs/api.md §2 [ISSUE]


def cache_control(obj: Mapping[str, Any], path: str) -> int:
    cc = obj.get("cache_control")
    if cc is None:
        return 0
    if not isinstance(cc, Mapping) or cc.get("type") != "ephemeral":
        # CONSTRUCTED (pydantic style)
        raise bad(f"{path}cache_control.type: Input should be 'ephemeral'")
    check_keys(cc, frozenset({"type", "ttl"}), f"{path}cache_control.ephemeral.")
    if "ttl" in cc and cc["ttl"] not in ("5m", "1h"):
        raise bad(f"{path}cache_control.ephemeral.ttl: Input should be '5m' or '1h'")  # CONSTRUCTED
    return 1


class ParserState:
    """What the validation passes collect while they walk a request."""

    def __init__(self, endpoint: str, registry: ModelRegistry, *, beta: bool) -> None:
        self.endpoint = endpoint
        self.registry = registry
        self.beta = beta
        self.cache_blocks = 0
        self.images: list[ImageRef] = []
        self.documents: list[DocumentRef] = []
        self.search_results: list[SearchResultRef] = []
        self.thinking_type: str | None = None
        self.texts: list[str] = []  # every text that counts as input, for token counting
