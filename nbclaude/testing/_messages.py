"""Validation of ``messages``: block schemas, the same-role merge, and the rules the API
checks on the merged conversation (empty content, prefill, tool pairing, thinking blocks)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from ._media import IMAGE_MEDIA_TYPES, MediaChecks
from ._models import ModelEntry
from ._request import bad, cache_control, check_keys
from ._script import SIGNATURE_PREFIX, fake_signature

__all__ = ["BLOCK_KEYS", "THINKING_DOCS", "MessageChecks"]

THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
BLOCK_KEYS: dict[str, frozenset[str]] = {
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


class MessageChecks(MediaChecks):
    """Checks of the ``messages`` list (mixed into the request parser)."""

    def check_message_schema(self, msg: Any, i: int) -> None:
        if not isinstance(msg, Mapping):
            raise bad(f"messages.{i}: Input should be a valid dictionary")  # CONSTRUCTED
        check_keys(msg, frozenset({"role", "content"}), f"messages.{i}.")
        if "role" not in msg:
            raise bad(f"messages.{i}.role: Field required")  # CONSTRUCTED
        if msg["role"] not in ("user", "assistant"):
            # CONSTRUCTED (pydantic style)
            raise bad(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if "content" not in msg:
            raise bad(f"messages.{i}.content: Field required")  # CONSTRUCTED
        content = msg["content"]
        if isinstance(content, str):
            return
        if not isinstance(content, list):
            # CONSTRUCTED
            raise bad(f"messages.{i}.content: Input should be a valid string or list")
        for j, block in enumerate(content):
            self._block_schema(block, f"messages.{i}.content.{j}", msg["role"])

    def _block_schema(self, block: Any, path: str, role: str) -> None:
        if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
            raise bad(f"{path}.type: Field required")  # CONSTRUCTED
        kind = block["type"]
        keys = BLOCK_KEYS.get(kind)
        if keys is None:
            if kind in _OTHER_BLOCKS:
                return
            # CONSTRUCTED (pydantic discriminated-union style)
            raise bad(
                f"{path}: Input tag '{kind}' found using 'type' does not match any of the "
                "expected tags"
            )
        check_keys(block, keys, f"{path}.{kind}.")  # real (issues): "...tool_use.text: Extra..."
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
                raise bad(f"{path}.{kind}.{key}: Field required")  # CONSTRUCTED
        if kind == "text" and not isinstance(block["text"], str):
            raise bad(f"{path}.text.text: Input should be a valid string")  # CONSTRUCTED
        if kind == "tool_use" and not isinstance(block["input"], Mapping):
            raise bad(f"{path}.tool_use.input: Input should be a valid dictionary")  # CONSTRUCTED
        if kind in ("image", "document"):
            src = block["source"]
            if not isinstance(src, Mapping) or not isinstance(src.get("type"), str):
                raise bad(f"{path}.{kind}.source.type: Field required")  # CONSTRUCTED
        if kind == "image" and block["source"].get("type") == "base64":
            media = block["source"].get("media_type")
            if media not in IMAGE_MEDIA_TYPES:
                # real (issues)
                raise bad(
                    f"{path}.image.source.base64.media_type: Input should be 'image/jpeg', "
                    "'image/png', 'image/gif' or 'image/webp'"
                )
        if kind == "tool_result" and isinstance(block.get("content"), list):
            for k, inner in enumerate(block["content"]):
                self._block_schema(inner, f"{path}.tool_result.content.{k}", role)

    # -- merge ----------------------------------------------------------------------------
    @staticmethod
    def merge_turns(raw: list[Any]) -> list[dict[str, Any]]:
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

    # -- semantics (merged indices) -------------------------------------------------------
    def check_conversation(
        self, msgs: list[dict[str, Any]], entry: ModelEntry, thinking: dict[str, Any] | None
    ) -> None:
        last = len(msgs) - 1
        final_assistant = msgs[last]["role"] == "assistant"
        if final_assistant and self.endpoint == "messages" and not entry.prefill:
            # docs/api.md §2.1 / §5
            raise bad(
                "This model does not support assistant message prefill. "
                "The conversation must end with a user message."
            )
        for i, msg in enumerate(msgs):
            content = msg["content"]
            if not content and not (i == last and msg["role"] == "assistant"):
                raise bad(  # docs/api.md §5, §10.3
                    f"messages.{i}: all messages must have non-empty content except for the "
                    "optional final assistant message"
                )
            for j, block in enumerate(content):
                self.check_block(block, f"messages.{i}.content.{j}")
        for i, msg in enumerate(msgs):
            if msg["role"] == "user":
                prev = msgs[i - 1] if i > 0 else None
                used = _tool_use_ids(prev) if prev and prev["role"] == "assistant" else []
                for j, block in enumerate(msg["content"]):
                    if block.get("type") == "tool_result" and block["tool_use_id"] not in used:
                        raise bad(  # docs/api.md §5 [REC]
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
                    raise bad(  # docs/api.md §5
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
                    raise bad(  # docs/api.md §5
                        f"messages.{i + 1}: Did not find {len(ids)} tool_result block(s) at the "
                        "beginning of this message. Messages following tool_use blocks must "
                        "begin with a matching number of tool_result blocks."
                    )
            if content_types(msg) and content_types(msg)[-1] == "thinking":
                # docs/api.md §5
                raise bad(
                    f"messages.{i}: The final block in an assistant message cannot be `thinking`."
                )
        if final_assistant:
            blocks = msgs[last]["content"]
            if thinking is None:
                for j, b in enumerate(blocks):
                    if b.get("type") in ("thinking", "redacted_thinking"):
                        raise bad(  # docs/api.md §5 (the API's text goes on after this)
                            f"messages.{last}.content.{j}: When thinking is disabled, an "
                            "`assistant` message in the final position cannot contain `thinking`."
                        )
            if blocks and blocks[-1].get("type") == "text":
                text = blocks[-1]["text"]
                if text != text.rstrip():
                    # docs/api.md §5
                    raise bad(
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
                    raise bad(  # docs/api.md §5; the text after "blocks)." is CONSTRUCTED
                        f"messages.{last - 1}.content.0.type: Expected `thinking` or "
                        f"`redacted_thinking`, but found `{first}`. When `thinking` is enabled, "
                        "a final `assistant` message must start with a thinking block "
                        "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). "
                        "We recommend you include thinking blocks from previous turns. To avoid "
                        "this requirement, disable `thinking`. Please consult our documentation "
                        f"at {THINKING_DOCS}"
                    )

    def check_block(self, block: Mapping[str, Any], path: str) -> None:
        kind = block["type"]
        self.cache_blocks += cache_control(block, f"{path}.{kind}.") if kind in BLOCK_KEYS else 0
        if kind == "text":
            text = block["text"]
            if not text:
                raise bad("messages: text content blocks must be non-empty")  # docs/api.md §5
            if not text.strip():
                # docs/api.md §5
                raise bad("messages: text content blocks must contain non-whitespace text")
            self.texts.append(text)
        elif kind == "image":
            self.check_image(block, f"{path}.image")
        elif kind == "document":
            self.check_document(block, f"{path}.document")
        elif kind == "tool_use":
            self.texts.append(block["name"])
            self.texts.append(json.dumps(block["input"], sort_keys=True))
        elif kind == "tool_result":
            content = block.get("content")
            if isinstance(content, str):
                self.texts.append(content)
            elif isinstance(content, list):
                for k, inner in enumerate(content):
                    self.check_block(inner, f"{path}.tool_result.content.{k}")
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
                raise bad(f"{path}: Invalid `signature` in `thinking` block")
            self.texts.append(thinking)
        elif kind == "search_result":
            self.check_search_result(block, path)
        elif kind in _OTHER_BLOCKS:
            self.texts.append(json.dumps(block, sort_keys=True, default=str))


def content_types(msg: Mapping[str, Any]) -> list[str]:
    """The block types of a merged assistant message."""
    return [str(b.get("type")) for b in msg["content"]] if msg["role"] == "assistant" else []


def _tool_use_ids(msg: Mapping[str, Any]) -> list[str]:
    return [str(b.get("id")) for b in msg["content"] if b.get("type") == "tool_use"]
