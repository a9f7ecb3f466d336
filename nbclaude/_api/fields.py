"""What a request may carry, written once: the body fields each endpoint accepts (the
official SDK 2.17's ``MessageCreateParams`` and ``MessageCountTokensParams``, GA and beta), the
``anthropic-version`` values and the image media types (docs/api.md §1.1, §2, §7, §12).

The client sends only these fields (``count_tokens`` gets the ones it accepts); the fake
refuses any other with ``<field>: Extra inputs are not permitted``, as the API does.

Examples
--------
>>> "max_tokens" in MESSAGES_FIELDS, "max_tokens" in COUNT_TOKENS_FIELDS
(True, False)
>>> COUNT_TOKENS_FIELDS <= MESSAGES_FIELDS
True
"""

from __future__ import annotations

__all__ = [
    "API_VERSION",
    "API_VERSIONS",
    "BETA_FIELDS",
    "COUNT_TOKENS_FIELDS",
    "IMAGE_MEDIA_TYPES",
    "MESSAGES_FIELDS",
    "THREADS_BETA",
]

#: The ``anthropic-version`` header the guide documents, and that nbclaude sends.
API_VERSION = "2023-06-01"
#: Every ``anthropic-version`` the API accepts (the official SDK sends the newer one).
API_VERSIONS = (API_VERSION, "2026-10-21")

#: The body fields of ``POST /v1/messages`` (the SDK's ``MessageCreateParams``).
MESSAGES_FIELDS = frozenset(
    {
        "model",
        "max_tokens",
        "messages",
        "system",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "stream",
        "metadata",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "service_tier",
        "cache_control",
        "container",
        "inference_geo",
        "image_transformations",
        "speed",
        "diagnostics",
    }
)
#: The body fields of ``POST /v1/messages/count_tokens`` (the SDK's
#: ``MessageCountTokensParams``): no ``max_tokens``, no ``stream``, no sampling.
COUNT_TOKENS_FIELDS = frozenset(
    {
        "model",
        "messages",
        "system",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "cache_control",
        "speed",
    }
)
#: Body fields accepted only by the beta API (``?beta=true`` or an ``anthropic-beta`` header).
#: The beta ``count_tokens`` accepts ``context_management``, ``mcp_servers``, ``compaction``,
#: ``billing_policy`` and ``output_format`` of them. ``thread`` (server-held conversation
#: state) is what the SDKs' tool runners send by default, with :data:`THREADS_BETA`.
BETA_FIELDS = frozenset(
    {
        "context_management",
        "mcp_servers",
        "fallbacks",
        "fallback_credit_token",
        "output_format",
        "thread",
        "compaction",
        "billing_policy",
    }
)
#: The ``anthropic-beta`` value of server-held threads (``thread: {"type": "create"}``).
THREADS_BETA = "message-threads-2026-08-12"

#: The media types of base64 images the API accepts.
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
