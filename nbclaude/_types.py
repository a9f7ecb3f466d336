"""TypedDicts of the Messages API wire format (requests, responses, stream events).

Wire data stays plain JSON dicts throughout nbclaude; these types only document and check it.
They are deliberately *open*: the API adds block types, delta types and usage fields over time
(docs/api.md §10.11), so code must never treat the ``type`` literals below as a closed set.
Optional keys are modelled with ``total=False`` subclasses (Python 3.10 has no ``NotRequired``).
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

__all__ = [
    "Base64Source",
    "CacheControl",
    "ContentBlock",
    "DocumentBlock",
    "ErrorBody",
    "ErrorEvent",
    "ImageBlock",
    "ImageSource",
    "Message",
    "MessageBatch",
    "MessageParam",
    "ModelInfo",
    "StreamEvent",
    "TextBlock",
    "ThinkingBlock",
    "ToolResultBlock",
    "ToolUseBlock",
    "URLSource",
    "Usage",
]

Role = Literal["user", "assistant"]


class CacheControl(TypedDict, total=False):
    type: Literal["ephemeral"]
    ttl: Literal["5m", "1h"]


class _TextBlockBase(TypedDict):
    type: Literal["text"]
    text: str


class TextBlock(_TextBlockBase, total=False):
    citations: list[dict[str, Any]] | None
    cache_control: CacheControl


class Base64Source(TypedDict):
    type: Literal["base64"]
    media_type: str
    data: str


class URLSource(TypedDict):
    type: Literal["url"]
    url: str


ImageSource = Base64Source | URLSource


class _ImageBlockBase(TypedDict):
    type: Literal["image"]
    source: ImageSource


class ImageBlock(_ImageBlockBase, total=False):
    cache_control: CacheControl


class _DocumentBlockBase(TypedDict):
    type: Literal["document"]
    source: dict[str, Any]


class DocumentBlock(_DocumentBlockBase, total=False):
    title: str
    context: str
    citations: dict[str, bool]
    cache_control: CacheControl


class _ToolUseBlockBase(TypedDict):
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any]


class ToolUseBlock(_ToolUseBlockBase, total=False):
    caller: dict[str, Any]


class _ToolResultBlockBase(TypedDict):
    type: Literal["tool_result"]
    tool_use_id: str


class ToolResultBlock(_ToolResultBlockBase, total=False):
    content: str | list[dict[str, Any]]
    is_error: bool
    cache_control: CacheControl


class ThinkingBlock(TypedDict):
    type: Literal["thinking"]
    thinking: str
    signature: str


#: Any content block. Unknown block types arrive as plain dicts, so this stays open.
ContentBlock = dict[str, Any]


class MessageParam(TypedDict):
    """One entry of the request's ``messages`` list."""

    role: Role
    content: str | list[dict[str, Any]]


class _UsageBase(TypedDict):
    input_tokens: int
    output_tokens: int


class Usage(_UsageBase, total=False):
    cache_creation_input_tokens: int | None
    cache_read_input_tokens: int | None
    cache_creation: dict[str, int] | None
    server_tool_use: dict[str, int] | None
    service_tier: str | None
    inference_geo: str | None
    output_tokens_details: dict[str, int] | None


class _MessageBase(TypedDict):
    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    model: str
    content: list[dict[str, Any]]
    stop_reason: str | None
    stop_sequence: str | None
    usage: Usage


class Message(_MessageBase, total=False):
    """The API's Message object (the result of ``POST /v1/messages``)."""

    stop_details: dict[str, Any] | None
    container: dict[str, Any] | None


#: A decoded SSE event's data (``{"type": "content_block_delta", ...}``). Open by design.
StreamEvent = dict[str, Any]


class ErrorBody(TypedDict):
    type: str
    message: str


class ErrorEvent(TypedDict):
    type: Literal["error"]
    error: ErrorBody


class _ModelInfoBase(TypedDict):
    type: Literal["model"]
    id: str
    display_name: str
    created_at: str


class ModelInfo(_ModelInfoBase, total=False):
    """One entry of ``GET /v1/models``."""

    max_input_tokens: int
    max_tokens: int
    capabilities: dict[str, Any]


class _MessageBatchBase(TypedDict):
    id: str
    type: Literal["message_batch"]
    processing_status: str  # "in_progress" | "canceling" | "ended"
    request_counts: dict[str, int]  # processing, succeeded, errored, canceled, expired
    created_at: str
    expires_at: str


class MessageBatch(_MessageBatchBase, total=False):
    """A Message Batch (``POST /v1/messages/batches`` and friends; docs/api.md §7)."""

    ended_at: str | None
    cancel_initiated_at: str | None
    archived_at: str | None
    results_url: str | None
