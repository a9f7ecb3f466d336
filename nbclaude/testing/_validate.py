"""Validate request bodies like the real Messages API, with its error texts.

Texts quoted in PROTOCOL.md §5/§10 are used verbatim. Texts marked ``# real (issues)`` were
read off real API responses pasted in public GitHub issues; texts marked ``# CONSTRUCTED``
are our best guess in the API's style (pydantic-like ``<path>: <problem>``).

Schema errors (types, unknown keys) use the request's own message indices; the semantic checks
run after consecutive same-role turns are merged, so their paths use merged indices, as the
API's do (PROTOCOL.md §10.1).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._imageinfo import ImageInfo, sniff_image
from ._models import ModelEntry, ModelRegistry
from ._script import SIGNATURE_PREFIX, fake_signature
from ._tokens import count_tokens, image_tokens

__all__ = ["DocumentRef", "FakeAPIError", "ImageRef", "ParsedRequest", "parse_request"]

MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_IMAGE_BASE64 = 5_242_880
MAX_MEDIA = 100  # images (+ document pages) per request; the brief's limit, see report
MANY_IMAGES = 20
MANY_IMAGES_EDGE = 2000
MAX_IMAGE_EDGE = 8000
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")

_MESSAGES_KEYS = frozenset(
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
    }
)
_COUNT_KEYS = frozenset(
    {
        "model",
        "messages",
        "system",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "cache_control",
    }
)
# Accepted only with ``?beta=true`` or an ``anthropic-beta`` header (PROTOCOL.md §2).
_BETA_KEYS = frozenset(
    {
        "context_management",
        "mcp_servers",
        "speed",
        "fallbacks",
        "fallback_credit_token",
        "diagnostics",
        "output_format",
    }
)
_BLOCK_KEYS: dict[str, frozenset[str]] = {
    "text": frozenset({"type", "text", "cache_control", "citations"}),
    "image": frozenset({"type", "source", "cache_control"}),
    "document": frozenset({"type", "source", "title", "context", "citations", "cache_control"}),
    "tool_use": frozenset({"type", "id", "name", "input", "cache_control", "caller"}),
    "tool_result": frozenset({"type", "tool_use_id", "content", "is_error", "cache_control"}),
    "thinking": frozenset({"type", "thinking", "signature"}),
    "redacted_thinking": frozenset({"type", "data"}),
}
# Block types accepted in messages without a closer look (echoes of server tools, ...).
_OTHER_BLOCKS = frozenset(
    {
        "search_result",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "container_upload",
        "mid_conv_system",
        "tool_reference",
        "mcp_tool_use",
        "mcp_tool_result",
        "compaction",
        "fallback",
    }
)
_OUR_SIGNATURES = base64.b64encode(SIGNATURE_PREFIX)[:32].decode("ascii")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"


class FakeAPIError(Exception):
    """An error answer: HTTP status, ``error.type`` and ``error.message``."""

    def __init__(self, status: int, type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message


def _bad(message: str) -> FakeAPIError:
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
    input_tokens: int = 0

    @property
    def prefill(self) -> str | None:
        """The text of the final assistant message, or ``None`` when the last turn is a user's."""
        if not self.messages or self.messages[-1]["role"] != "assistant":
            return None
        return "".join(
            b.get("text", "") for b in self.messages[-1]["content"] if b.get("type") == "text"
        )


def _type_name(value: Any) -> str:
    return type(value).__name__


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_keys(obj: Mapping[str, Any], allowed: frozenset[str], path: str) -> None:
    for key in obj:
        if key not in allowed:
            raise _bad(f"{path}{key}: Extra inputs are not permitted")


def _cache_control(obj: Mapping[str, Any], path: str) -> int:
    cc = obj.get("cache_control")
    if cc is None:
        return 0
    if not isinstance(cc, Mapping) or cc.get("type") != "ephemeral":
        # CONSTRUCTED (pydantic style)
        raise _bad(f"{path}cache_control.type: Input should be 'ephemeral'")
    _check_keys(cc, frozenset({"type", "ttl"}), f"{path}cache_control.ephemeral.")
    if "ttl" in cc and cc["ttl"] not in ("5m", "1h"):
        raise _bad(
            f"{path}cache_control.ephemeral.ttl: Input should be '5m' or '1h'"
        )  # CONSTRUCTED
    return 1


class _Parser:
    def __init__(self, endpoint: str, registry: ModelRegistry, *, beta: bool) -> None:
        self.endpoint = endpoint
        self.registry = registry
        self.beta = beta
        self.cache_blocks = 0
        self.images: list[ImageRef] = []
        self.documents: list[DocumentRef] = []
        self.texts: list[str] = []  # every text that counts as input, for token counting

    # -- top level -----------------------------------------------------------------------
    def parse(self, raw: bytes) -> ParsedRequest:
        if len(raw) > MAX_BODY_BYTES:
            # Message from the docs' errors page; the real 413 comes from the edge.
            raise FakeAPIError(
                413, "request_too_large", "Request exceeds the maximum allowed number of bytes."
            )
        try:
            body = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise _bad(f"The request body is not valid JSON: {exc}") from None  # real prefix
        except json.JSONDecodeError as exc:
            # real (issues): "The request body is not valid JSON: <Python json error>"
            raise _bad(f"The request body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise _bad("body: Input should be a valid dictionary")  # CONSTRUCTED
        allowed = _MESSAGES_KEYS if self.endpoint == "messages" else _COUNT_KEYS
        if self.beta:
            allowed = allowed | _BETA_KEYS
        _check_keys(body, allowed, "")
        required = (
            ("model", "max_tokens", "messages")
            if self.endpoint == "messages"
            else (
                "model",
                "messages",
            )
        )
        for key in required:
            if key not in body:
                raise _bad(f"{key}: Field required")  # CONSTRUCTED (pydantic style)
        model = body["model"]
        if not isinstance(model, str):
            raise _bad("model: Input should be a valid string")  # CONSTRUCTED
        max_tokens = 0
        if self.endpoint == "messages":
            max_tokens = body["max_tokens"]
            if not _is_int(max_tokens):
                raise _bad("max_tokens: Input should be a valid integer")  # CONSTRUCTED
            if max_tokens < 0:
                # CONSTRUCTED
                raise _bad("max_tokens: Input should be greater than or equal to 0")
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise _bad("stream: Input should be a valid boolean")  # CONSTRUCTED
        raw_messages = body["messages"]
        if not isinstance(raw_messages, list):
            raise _bad("messages: Input should be a valid list")  # CONSTRUCTED
        stops = body.get("stop_sequences") or []
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise _bad("stop_sequences: Input should be a valid list of strings")  # CONSTRUCTED
        self._check_sampling_types(body)
        self._check_small_fields(body)

        entry = self.registry.get(model)
        if entry is None:
            raise FakeAPIError(404, "not_found_error", f"model: {model}")
        if self.endpoint == "messages" and max_tokens > entry.max_tokens:
            raise _bad(
                f"max_tokens: {max_tokens} > {entry.max_tokens}, which is the maximum allowed "
                f"number of output tokens for {entry.id}"
            )
        thinking = self._thinking(body, entry, max_tokens)
        self._sampling(body, entry, thinking)
        system = self._system(body.get("system"))
        tools = self._tools(body.get("tools"))
        tool_choice = self._tool_choice(body.get("tool_choice"), tools, thinking)
        output_schema = self._output_schema(body)
        if "cache_control" in body:
            self.cache_blocks += _cache_control(body, "")

        if not raw_messages:
            raise _bad("messages: at least one message is required")  # real (issues)
        for i, msg in enumerate(raw_messages):
            self._message_schema(msg, i)
        merged = self._merge(raw_messages)
        self._semantics(merged, entry, thinking)
        self._media_limits()
        if self.cache_blocks > 4:
            raise _bad(
                "A maximum of 4 blocks with cache_control may be provided. "
                f"Found {self.cache_blocks}."
            )
        parsed = ParsedRequest(
            endpoint=self.endpoint,
            body=body,
            model=model,
            entry=entry,
            messages=merged,
            max_tokens=max_tokens,
            stream=stream,
            stop_sequences=list(stops),
            system=system,
            tools=tools,
            tool_choice=tool_choice,
            thinking=thinking,
            output_schema=output_schema,
            images=self.images,
            documents=self.documents,
        )
        parsed.input_tokens = self._count(parsed)
        if parsed.input_tokens > entry.context:
            raise _bad(
                f"prompt is too long: {parsed.input_tokens} tokens > {entry.context} maximum"
            )
        return parsed

    def _check_sampling_types(self, body: Mapping[str, Any]) -> None:
        for key, hi in (("temperature", 1.0), ("top_p", 1.0)):
            if key in body and body[key] is not None:
                v = body[key]
                if not _is_number(v):
                    raise _bad(f"{key}: Input should be a valid number")  # CONSTRUCTED
                if v < 0:
                    raise _bad(f"{key}: Input should be greater than or equal to 0")  # CONSTRUCTED
                if v > hi:
                    raise _bad(f"{key}: Input should be less than or equal to 1")  # CONSTRUCTED
        if "top_k" in body and body["top_k"] is not None and not _is_int(body["top_k"]):
            raise _bad("top_k: Input should be a valid integer")  # CONSTRUCTED

    def _check_small_fields(self, body: Mapping[str, Any]) -> None:
        meta = body.get("metadata")
        if meta is not None:
            if not isinstance(meta, Mapping):
                raise _bad("metadata: Input should be a valid dictionary")  # CONSTRUCTED
            _check_keys(meta, frozenset({"user_id"}), "metadata.")
            if meta.get("user_id") is not None and not isinstance(meta["user_id"], str):
                raise _bad("metadata.user_id: Input should be a valid string")  # CONSTRUCTED
        tier = body.get("service_tier")
        if tier is not None and tier not in ("auto", "standard_only"):
            # CONSTRUCTED
            raise _bad("service_tier: Input should be 'auto' or 'standard_only'")

    def _thinking(
        self, body: Mapping[str, Any], entry: ModelEntry, max_tokens: int
    ) -> dict[str, Any] | None:
        t = body.get("thinking")
        if t is None:
            return None
        if not isinstance(t, Mapping) or t.get("type") not in ("enabled", "adaptive", "disabled"):
            # CONSTRUCTED (pydantic discriminated-union style)
            raise _bad(
                "thinking: Input tag found using 'type' does not match any of the expected tags: "
                "'enabled', 'disabled', 'adaptive'"
            )
        kind = t["type"]
        if kind == "disabled":
            _check_keys(t, frozenset({"type"}), "thinking.disabled.")
            return None
        if kind == "enabled":
            _check_keys(t, frozenset({"type", "budget_tokens", "display"}), "thinking.enabled.")
            if not entry.enabled_thinking:
                # PROTOCOL.md §5
                raise _bad(
                    '"thinking.type.enabled" is not supported for this model. Use '
                    '"thinking.type.adaptive" and "output_config.effort" to control thinking '
                    "behavior."
                )
            budget = t.get("budget_tokens")
            if budget is None:
                raise _bad("thinking.enabled.budget_tokens: Field required")  # CONSTRUCTED
            if not _is_int(budget):
                # CONSTRUCTED
                raise _bad("thinking.enabled.budget_tokens: Input should be a valid integer")
            if budget < 1024:
                # CONSTRUCTED
                raise _bad(
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
                )
            if self.endpoint == "messages" and budget >= max_tokens:
                # real (issues)
                raise _bad(
                    "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult "
                    f"our documentation at {_THINKING_DOCS}#max-tokens-and-context-window-size"
                )
        else:
            _check_keys(t, frozenset({"type", "display"}), "thinking.adaptive.")
            if entry.thinking != "adaptive":
                # CONSTRUCTED: older models know only budget-based thinking.
                raise _bad(
                    '"thinking.type.adaptive" is not supported for this model. Use '
                    '"thinking.type.enabled" with "budget_tokens".'
                )
        display = t.get("display")
        if display is not None and display not in ("summarized", "omitted"):
            # CONSTRUCTED
            raise _bad(f"thinking.{kind}.display: Input should be 'summarized' or 'omitted'")
        return dict(t)

    def _sampling(
        self, body: Mapping[str, Any], entry: ModelEntry, thinking: dict[str, Any] | None
    ) -> None:
        temperature = body.get("temperature")
        if not entry.sampling:
            # real (issues): Opus 4.7+ answer "`temperature` is deprecated for this model."
            if temperature is not None and temperature != 1:
                raise _bad("`temperature` is deprecated for this model.")
            if body.get("top_p") is not None and body["top_p"] != 1:
                raise _bad("`top_p` is deprecated for this model.")
            if body.get("top_k") is not None:
                raise _bad("`top_k` is deprecated for this model.")
        if thinking is not None and temperature is not None and temperature != 1:
            # PROTOCOL.md §5 (the anchor after "#" is CONSTRUCTED)
            raise _bad(
                "`temperature` may only be set to 1 when thinking is enabled. Please consult our "
                f"documentation at {_THINKING_DOCS}#feature-compatibility"
            )

    def _system(self, system: Any) -> str:
        if system is None:
            return ""
        if isinstance(system, str):
            self.texts.append(system)
            return system
        if not isinstance(system, list):
            raise _bad("system: Input should be a valid string or list")  # CONSTRUCTED
        parts = []
        for j, block in enumerate(system):
            path = f"system.{j}."
            if not isinstance(block, Mapping) or block.get("type") != "text":
                raise _bad(f"system.{j}.type: Input should be 'text'")  # CONSTRUCTED
            _check_keys(block, _BLOCK_KEYS["text"], path)
            text = block.get("text")
            if not isinstance(text, str):
                raise _bad(f"{path}text: Input should be a valid string")  # CONSTRUCTED
            if not text:
                raise _bad("system: text content blocks must be non-empty")  # CONSTRUCTED
            if not text.strip():
                # CONSTRUCTED (the messages variant is real)
                raise _bad("system: text content blocks must contain non-whitespace text")
            self.cache_blocks += _cache_control(block, path)
            self.texts.append(text)
            parts.append(text)
        return "\n\n".join(parts)

    def _tools(self, tools: Any) -> list[dict[str, Any]]:
        if tools is None:
            return []
        if not isinstance(tools, list):
            raise _bad("tools: Input should be a valid list")  # CONSTRUCTED
        names: set[str] = set()
        out = []
        for i, tool in enumerate(tools):
            path = f"tools.{i}."
            if not isinstance(tool, Mapping):
                raise _bad(f"tools.{i}: Input should be a valid dictionary")  # CONSTRUCTED
            name = tool.get("name")
            if not isinstance(name, str):
                raise _bad(f"{path}name: Field required")  # CONSTRUCTED
            kind = tool.get("type")
            if kind in (None, "custom"):
                if not _TOOL_NAME.match(name):
                    # CONSTRUCTED (pydantic style)
                    raise _bad(
                        f"{path}custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
                    )
                schema = tool.get("input_schema")
                if schema is None:
                    raise _bad(f"{path}custom.input_schema: Field required")  # CONSTRUCTED
                if not isinstance(schema, Mapping) or schema.get("type") != "object":
                    # CONSTRUCTED
                    raise _bad(f"{path}custom.input_schema.type: Input should be 'object'")
            if name in names:
                raise _bad("tools: Tool names must be unique.")  # CONSTRUCTED
            names.add(name)
            self.cache_blocks += _cache_control(tool, path)
            self.texts.append(json.dumps(tool, sort_keys=True))
            out.append(dict(tool))
        return out

    def _tool_choice(
        self, choice: Any, tools: list[dict[str, Any]], thinking: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        if choice is None:
            return None
        if not isinstance(choice, Mapping) or choice.get("type") not in (
            "auto",
            "any",
            "tool",
            "none",
        ):
            # CONSTRUCTED
            raise _bad(
                "tool_choice: Input tag found using 'type' does not match any of the expected "
                "tags: 'auto', 'any', 'tool', 'none'"
            )
        kind = choice["type"]
        keys = {"type"} | ({"disable_parallel_tool_use"} if kind != "none" else set())
        _check_keys(
            choice,
            frozenset(keys | ({"name"} if kind == "tool" else set())),
            f"tool_choice.{kind}.",
        )
        if kind == "tool":
            name = choice.get("name")
            if not isinstance(name, str):
                raise _bad("tool_choice.tool.name: Field required")  # CONSTRUCTED
            if name not in {t.get("name") for t in tools}:
                # CONSTRUCTED
                raise _bad(f"tool_choice.tool.name: Tool '{name}' not found in provided tools")
        if kind in ("any", "tool") and not tools:
            # CONSTRUCTED
            raise _bad(f"tool_choice: tool_choice.type '{kind}' requires `tools` to be provided")
        if kind in ("any", "tool") and thinking is not None:
            raise _bad("Thinking may not be enabled when tool_choice forces tool use.")  # real
        return dict(choice)

    def _output_schema(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        oc = body.get("output_config")
        fmt: Any = None
        if oc is not None:
            if not isinstance(oc, Mapping):
                raise _bad("output_config: Input should be a valid dictionary")  # CONSTRUCTED
            _check_keys(oc, frozenset({"effort", "format"}), "output_config.")
            effort = oc.get("effort")
            if effort is not None and effort not in ("low", "medium", "high", "xhigh", "max"):
                # CONSTRUCTED
                raise _bad(
                    "output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' "
                    "or 'max'"
                )
            fmt = oc.get("format")
            where = "output_config.format"
        if fmt is None and body.get("output_format") is not None:
            fmt = body["output_format"]
            where = "output_format"
        if fmt is None:
            return None
        if not isinstance(fmt, Mapping) or fmt.get("type") != "json_schema":
            raise _bad(f"{where}.type: Input should be 'json_schema'")  # CONSTRUCTED
        schema = fmt.get("schema")
        if not isinstance(schema, Mapping):
            raise _bad(f"{where}.json_schema.schema: Field required")  # CONSTRUCTED
        self.texts.append(json.dumps(schema, sort_keys=True))
        return dict(schema)

    # -- messages: schema (request indices) -------------------------------------------------
    def _message_schema(self, msg: Any, i: int) -> None:
        if not isinstance(msg, Mapping):
            raise _bad(f"messages.{i}: Input should be a valid dictionary")  # CONSTRUCTED
        _check_keys(msg, frozenset({"role", "content"}), f"messages.{i}.")
        if "role" not in msg:
            raise _bad(f"messages.{i}.role: Field required")  # CONSTRUCTED
        if msg["role"] not in ("user", "assistant"):
            # CONSTRUCTED (pydantic style)
            raise _bad(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if "content" not in msg:
            raise _bad(f"messages.{i}.content: Field required")  # CONSTRUCTED
        content = msg["content"]
        if isinstance(content, str):
            return
        if not isinstance(content, list):
            # CONSTRUCTED
            raise _bad(f"messages.{i}.content: Input should be a valid string or list")
        for j, block in enumerate(content):
            self._block_schema(block, f"messages.{i}.content.{j}", msg["role"])

    def _block_schema(self, block: Any, path: str, role: str) -> None:
        if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
            raise _bad(f"{path}.type: Field required")  # CONSTRUCTED
        kind = block["type"]
        keys = _BLOCK_KEYS.get(kind)
        if keys is None:
            if kind in _OTHER_BLOCKS:
                return
            # CONSTRUCTED (pydantic discriminated-union style)
            raise _bad(
                f"{path}: Input tag '{kind}' found using 'type' does not match any of the "
                "expected tags"
            )
        _check_keys(block, keys, f"{path}.{kind}.")  # real (issues): "...tool_use.text: Extra..."
        required = {
            "text": ("text",),
            "image": ("source",),
            "document": ("source",),
            "tool_use": ("id", "name", "input"),
            "tool_result": ("tool_use_id",),
            "thinking": ("thinking", "signature"),
            "redacted_thinking": ("data",),
        }[kind]
        for key in required:
            if key not in block:
                raise _bad(f"{path}.{kind}.{key}: Field required")  # CONSTRUCTED
        if kind == "text" and not isinstance(block["text"], str):
            raise _bad(f"{path}.text.text: Input should be a valid string")  # CONSTRUCTED
        if kind == "tool_use" and not isinstance(block["input"], Mapping):
            raise _bad(f"{path}.tool_use.input: Input should be a valid dictionary")  # CONSTRUCTED
        if kind in ("image", "document"):
            src = block["source"]
            if not isinstance(src, Mapping) or not isinstance(src.get("type"), str):
                raise _bad(f"{path}.{kind}.source.type: Field required")  # CONSTRUCTED
        if kind == "image" and block["source"].get("type") == "base64":
            media = block["source"].get("media_type")
            if media not in IMAGE_MEDIA_TYPES:
                # real (issues)
                raise _bad(
                    f"{path}.image.source.base64.media_type: Input should be 'image/jpeg', "
                    "'image/png', 'image/gif' or 'image/webp'"
                )
        if kind == "tool_result" and isinstance(block.get("content"), list):
            for k, inner in enumerate(block["content"]):
                self._block_schema(inner, f"{path}.tool_result.content.{k}", role)

    # -- merge ----------------------------------------------------------------------------
    @staticmethod
    def _merge(raw: list[Any]) -> list[dict[str, Any]]:
        merged: list[dict[str, Any]] = []
        for msg in raw:
            content = msg["content"]
            if isinstance(content, str):
                blocks = [{"type": "text", "text": content}] if content else []
            else:
                blocks = list(content)
            if merged and merged[-1]["role"] == msg["role"]:
                merged[-1]["content"].extend(blocks)
            else:
                merged.append({"role": msg["role"], "content": blocks})
        return merged

    # -- messages: semantics (merged indices) ---------------------------------------------
    def _semantics(
        self, msgs: list[dict[str, Any]], entry: ModelEntry, thinking: dict[str, Any] | None
    ) -> None:
        last = len(msgs) - 1
        final_assistant = msgs[last]["role"] == "assistant"
        if final_assistant and self.endpoint == "messages" and not entry.prefill:
            # PROTOCOL.md §2.1 / §5
            raise _bad(
                "This model does not support assistant message prefill. "
                "The conversation must end with a user message."
            )
        for i, msg in enumerate(msgs):
            content = msg["content"]
            if not content and not (i == last and msg["role"] == "assistant"):
                raise _bad(
                    f"messages.{i}: all messages must have non-empty content except for the "
                    "optional final assistant message"
                )
            for j, block in enumerate(content):
                self._block(block, f"messages.{i}.content.{j}")
        for i, msg in enumerate(msgs):
            if msg["role"] == "user":
                prev = msgs[i - 1] if i > 0 else None
                used = _tool_use_ids(prev) if prev and prev["role"] == "assistant" else []
                for j, block in enumerate(msg["content"]):
                    if block.get("type") == "tool_result" and block["tool_use_id"] not in used:
                        raise _bad(  # PROTOCOL.md §5 [REC]
                            f"messages.{i}.content.{j}: unexpected `tool_use_id` found in "
                            f"`tool_result` blocks: {block['tool_use_id']}. Each `tool_result` "
                            "block must have a corresponding `tool_use` block in the previous "
                            "message."
                        )
                continue
            ids = _tool_use_ids(msg)
            if ids:
                nxt = msgs[i + 1] if i < last else None
                results = [
                    b for b in (nxt["content"] if nxt else []) if b.get("type") == "tool_result"
                ]
                answered = {b["tool_use_id"] for b in results}
                missing = [t for t in ids if t not in answered]
                if missing:
                    raise _bad(  # PROTOCOL.md §5
                        f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                        f"immediately after: {', '.join(missing)}. Each `tool_use` block must "
                        "have a corresponding `tool_result` block in the next message."
                    )
                leading = 0
                for b in nxt["content"] if nxt else []:
                    if b.get("type") != "tool_result":
                        break
                    leading += 1
                if leading < len(ids):
                    raise _bad(  # PROTOCOL.md §5
                        f"messages.{i + 1}: Did not find {len(ids)} tool_result block(s) at the "
                        "beginning of this message. Messages following tool_use blocks must "
                        "begin with a matching number of tool_result blocks."
                    )
            if content_types(msg) and content_types(msg)[-1] == "thinking":
                # PROTOCOL.md §5
                raise _bad(
                    f"messages.{i}: The final block in an assistant message cannot be `thinking`."
                )
        if final_assistant:
            blocks = msgs[last]["content"]
            if thinking is None:
                for j, b in enumerate(blocks):
                    if b.get("type") in ("thinking", "redacted_thinking"):
                        raise _bad(  # PROTOCOL.md §5 (the API's text goes on after this)
                            f"messages.{last}.content.{j}: When thinking is disabled, an "
                            "`assistant` message in the final position cannot contain `thinking`."
                        )
            if blocks and blocks[-1].get("type") == "text":
                text = blocks[-1]["text"]
                if text != text.rstrip():
                    # PROTOCOL.md §5
                    raise _bad(
                        "messages: final assistant content cannot end with trailing whitespace"
                    )
        if thinking is not None and thinking.get("type") == "enabled" and last >= 1:
            final = msgs[last]
            prev = msgs[last - 1]
            if (
                final["role"] == "user"
                and final["content"]
                and final["content"][0].get("type") == "tool_result"
                and prev["role"] == "assistant"
                and prev["content"]
            ):
                first = prev["content"][0].get("type")
                if first not in ("thinking", "redacted_thinking"):
                    raise _bad(  # PROTOCOL.md §5; the text after "blocks)." is CONSTRUCTED
                        f"messages.{last - 1}.content.0.type: Expected `thinking` or "
                        f"`redacted_thinking`, but found `{first}`. When `thinking` is enabled, "
                        "a final `assistant` message must start with a thinking block "
                        "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). "
                        "We recommend you include thinking blocks from previous turns. To avoid "
                        "this requirement, disable `thinking`. Please consult our documentation "
                        f"at {_THINKING_DOCS}"
                    )

    def _block(self, block: Mapping[str, Any], path: str) -> None:
        kind = block["type"]
        self.cache_blocks += _cache_control(block, f"{path}.{kind}.") if kind in _BLOCK_KEYS else 0
        if kind == "text":
            text = block["text"]
            if not text:
                raise _bad("messages: text content blocks must be non-empty")  # PROTOCOL.md §5
            if not text.strip():
                # PROTOCOL.md §5
                raise _bad("messages: text content blocks must contain non-whitespace text")
            self.texts.append(text)
        elif kind == "image":
            self._image(block, f"{path}.image")
        elif kind == "document":
            self._document(block, f"{path}.document")
        elif kind == "tool_use":
            self.texts.append(block["name"])
            self.texts.append(json.dumps(block["input"], sort_keys=True))
        elif kind == "tool_result":
            content = block.get("content")
            if isinstance(content, str):
                self.texts.append(content)
            elif isinstance(content, list):
                for k, inner in enumerate(content):
                    self._block(inner, f"{path}.tool_result.content.{k}")
        elif kind == "thinking":
            thinking = block.get("thinking")
            signature = block.get("signature")
            ours = isinstance(signature, str) and signature.startswith(_OUR_SIGNATURES)
            if (
                not isinstance(thinking, str)
                or not isinstance(signature, str)
                or not signature
                or (ours and signature != fake_signature(thinking))
            ):
                # real (issues); the fake can check only the signatures it made itself
                raise _bad(f"{path}: Invalid `signature` in `thinking` block")
            self.texts.append(thinking)
        elif kind in _OTHER_BLOCKS:
            self.texts.append(json.dumps(block, sort_keys=True, default=str))

    def _image(self, block: Mapping[str, Any], path: str) -> None:
        src = block["source"]
        kind = src["type"]
        ref = ImageRef(path=path, source_type=kind)
        self.images.append(ref)
        if kind == "url":
            if not isinstance(src.get("url"), str):
                raise _bad(f"{path}.source.url.url: Field required")  # CONSTRUCTED
            ref.url = src["url"]
            return
        if kind == "file":
            return
        if kind != "base64":
            # CONSTRUCTED
            raise _bad(
                f"{path}.source: Input tag '{kind}' found using 'type' does not match any of the "
                "expected tags: 'base64', 'url', 'file'"
            )
        media = src["media_type"]
        data = src.get("data")
        ref.media_type = media
        if not isinstance(data, str):
            raise _bad(f"{path}.source.base64.data: Field required")  # CONSTRUCTED
        ref.base64_chars = len(data)
        if len(data) > MAX_IMAGE_BASE64:
            # PROTOCOL.md §5 (the API says "bytes" of the base64 text)
            raise _bad(
                f"{path}.source.base64: image exceeds 5 MB maximum: {len(data)} bytes > "
                f"{MAX_IMAGE_BASE64} bytes"
            )
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            # CONSTRUCTED
            raise _bad(f"{path}.source.base64.data: The image data is not valid base64.") from None
        info = sniff_image(raw)
        if info is None or info.width is None:
            raise _bad(f"{path}.source.base64.data: Could not process image")  # CONSTRUCTED
        if info.media_type != media:
            # real (issues, 2026): newer form of "…data: Image does not match the provided
            # media type image/png"
            raise _bad(
                f"{path}.source.base64: The image was specified using the {media} media type, "
                f"but the image appears to be a {info.media_type} image"
            )
        ref.info = info

    def _document(self, block: Mapping[str, Any], path: str) -> None:
        src = block["source"]
        kind = src["type"]
        ref = DocumentRef(path=path, source_type=kind, title=block.get("title"))
        self.documents.append(ref)
        if kind == "base64":
            media = src.get("media_type")
            ref.media_type = media
            if media != "application/pdf":
                # CONSTRUCTED
                raise _bad(f"{path}.source.base64.media_type: Input should be 'application/pdf'")
            data = src.get("data")
            if not isinstance(data, str):
                raise _bad(f"{path}.source.base64.data: Field required")  # CONSTRUCTED
            ref.chars = len(data)
            try:
                raw = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                # CONSTRUCTED
                raise _bad(f"{path}.source.base64.data: The PDF specified was not valid.") from None
            if not raw.startswith(b"%PDF-"):
                raise _bad(
                    f"{path}.source.base64.data: The PDF specified was not valid."
                )  # CONSTRUCTED
            ref.pages = max(1, len(_PDF_PAGE.findall(raw)))
        elif kind == "text":
            data = src.get("data")
            if not isinstance(data, str):
                raise _bad(f"{path}.source.text.data: Field required")  # CONSTRUCTED
            ref.media_type = src.get("media_type", "text/plain")
            ref.chars = len(data)
            ref.text = data
            ref.pages = 1
            self.texts.append(data)
        elif kind == "content":
            content = src.get("content")
            ref.pages = 1
            if isinstance(content, str):
                ref.text = content
                self.texts.append(content)
            elif isinstance(content, list):
                for k, inner in enumerate(content):
                    if isinstance(inner, Mapping) and inner.get("type") in ("text", "image"):
                        self._block(inner, f"{path}.source.content.content.{k}")
        elif kind == "url":
            ref.pages = 1

    def _media_limits(self) -> None:
        n_images = len(self.images)
        n_docs = len(self.documents)
        if n_images + n_docs > MAX_MEDIA:
            # real (issues)
            raise _bad(f"too many images and documents: {n_images} + {n_docs} > {MAX_MEDIA}")
        pages = sum(d.pages for d in self.documents if d.media_type == "application/pdf")
        if pages + n_images > MAX_MEDIA:
            # real (issues)
            raise _bad(f"Too much media: {pages} document pages + {n_images} images > {MAX_MEDIA}")
        many = n_images > MANY_IMAGES
        for ref in self.images:
            info = ref.info
            if info is None or info.width is None or info.height is None:
                continue
            edge = max(info.width, info.height)
            if edge > MAX_IMAGE_EDGE:
                raise _bad(  # PROTOCOL.md §5
                    f"{ref.path}.source.base64.data: At least one of the image dimensions exceed "
                    f"max allowed size: {MAX_IMAGE_EDGE} pixels"
                )
            if many and edge > MANY_IMAGES_EDGE:
                raise _bad(  # PROTOCOL.md §5
                    f"{ref.path}.source.base64.data: At least one of the image dimensions exceed "
                    f"max allowed size for many-image requests: {MANY_IMAGES_EDGE} pixels"
                )

    def _count(self, parsed: ParsedRequest) -> int:
        total = 4 + 3 * len(parsed.messages)
        total += sum(count_tokens(t) for t in self.texts)
        if parsed.tools:
            total += 300  # the tool-use system prompt the API adds
        for ref in self.images:
            w = ref.info.width if ref.info else None
            h = ref.info.height if ref.info else None
            total += image_tokens(w, h)
        for doc in self.documents:
            if doc.media_type == "application/pdf" or doc.source_type == "url":
                total += 1500 * max(doc.pages, 1)
        return total


def content_types(msg: Mapping[str, Any]) -> list[str]:
    """The block types of a merged assistant message."""
    return [str(b.get("type")) for b in msg["content"]] if msg["role"] == "assistant" else []


def _tool_use_ids(msg: Mapping[str, Any]) -> list[str]:
    return [str(b.get("id")) for b in msg["content"] if b.get("type") == "tool_use"]


def parse_request(
    endpoint: str, raw: bytes, registry: ModelRegistry, *, beta: bool = False
) -> ParsedRequest:
    """Validate a ``/v1/messages`` (``endpoint="messages"``) or ``count_tokens`` body.

    Raises
    ------
    FakeAPIError
        With the status, error type and message the real API would answer.
    """
    return _Parser(endpoint, registry, beta=beta).parse(raw)
