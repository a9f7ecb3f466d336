"""Validation of a request's options: sampling, thinking, the system prompt, tools,
``tool_choice``, ``output_config`` and the small fields (``metadata``, ``service_tier``).

A mixin of the request parser (``_validate.py``). Texts quoted in docs/api.md §5 are used
verbatim; ``# real (issues)`` texts were read off real API answers pasted in public GitHub
issues; ``# CONSTRUCTED`` ones are our best guess in the API's style.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from nbclaude._api.models import THINKING_TYPES

from ._messages import BLOCK_KEYS, THINKING_DOCS
from ._models import ModelEntry
from ._request import ParserState, bad, cache_control, check_keys, is_int, is_number

__all__ = ["OptionChecks"]

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")


class OptionChecks(ParserState):
    """Checks of the top-level options (mixed into the request parser)."""

    def check_sampling_types(self, body: Mapping[str, Any]) -> None:
        for key, hi in (("temperature", 1.0), ("top_p", 1.0)):
            if key in body and body[key] is not None:
                v = body[key]
                if not is_number(v):
                    raise bad(f"{key}: Input should be a valid number")  # CONSTRUCTED
                if v < 0:
                    raise bad(f"{key}: Input should be greater than or equal to 0")  # CONSTRUCTED
                if v > hi:
                    raise bad(f"{key}: Input should be less than or equal to 1")  # CONSTRUCTED
        if "top_k" in body and body["top_k"] is not None and not is_int(body["top_k"]):
            raise bad("top_k: Input should be a valid integer")  # CONSTRUCTED

    def check_small_fields(self, body: Mapping[str, Any]) -> None:
        meta = body.get("metadata")
        if meta is not None:
            if not isinstance(meta, Mapping):
                raise bad("metadata: Input should be a valid dictionary")  # CONSTRUCTED
            check_keys(meta, frozenset({"user_id"}), "metadata.")
            if meta.get("user_id") is not None and not isinstance(meta["user_id"], str):
                raise bad("metadata.user_id: Input should be a valid string")  # CONSTRUCTED
        tier = body.get("service_tier")
        if tier is not None and tier not in ("auto", "standard_only"):
            # CONSTRUCTED
            raise bad("service_tier: Input should be 'auto' or 'standard_only'")

    def check_thinking(
        self, body: Mapping[str, Any], entry: ModelEntry, max_tokens: int
    ) -> dict[str, Any] | None:
        """The thinking config when thinking is on (``enabled`` / ``adaptive``), else ``None``;
        which ``thinking.type`` values a model takes comes from the model table."""
        t = body.get("thinking")
        if t is None:
            return None
        if not isinstance(t, Mapping) or t.get("type") not in THINKING_TYPES:
            # CONSTRUCTED (pydantic discriminated-union style)
            raise bad(
                "thinking: Input tag found using 'type' does not match any of the expected tags: "
                "'enabled', 'disabled', 'between_tools', 'adaptive'"
            )
        kind = t["type"]
        self.thinking_type = kind
        keys = {"enabled": {"budget_tokens", "display"}, "adaptive": {"display"}}.get(kind, set())
        check_keys(t, frozenset({"type"} | keys), f"thinking.{kind}.")
        if kind not in entry.thinking_types:
            raise bad(_refused_thinking(kind, entry))
        effort = (body.get("output_config") or {}).get("effort")
        off = kind in ("disabled", "between_tools")
        if off and effort in ("xhigh", "max") and (entry.generation or 5.0) >= 5.0:
            # CONSTRUCTED: the docs say thinking can be turned off only at effort high or
            # below on these models.
            raise bad(
                f'"thinking.type.{kind}" is not supported with "output_config.effort" '
                f'"{effort}" on this model. Use effort "high" or below, or "thinking.type.'
                'adaptive".'
            )
        if kind in ("disabled", "between_tools"):
            return None
        if kind == "enabled":
            budget = t.get("budget_tokens")
            if budget is None:
                raise bad("thinking.enabled.budget_tokens: Field required")  # CONSTRUCTED
            if not is_int(budget):
                # CONSTRUCTED
                raise bad("thinking.enabled.budget_tokens: Input should be a valid integer")
            if budget < 1024:
                # CONSTRUCTED
                raise bad(
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
                )
            if self.endpoint == "messages" and budget >= max_tokens:
                # real (issues)
                raise bad(
                    "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult "
                    f"our documentation at {THINKING_DOCS}#max-tokens-and-context-window-size"
                )
        display = t.get("display")
        if display is not None and display not in ("summarized", "omitted"):
            # CONSTRUCTED
            raise bad(f"thinking.{kind}.display: Input should be 'summarized' or 'omitted'")
        return dict(t)

    def check_sampling(
        self, body: Mapping[str, Any], entry: ModelEntry, thinking: dict[str, Any] | None
    ) -> None:
        temperature = body.get("temperature")
        if not entry.sampling:
            # real (issues): Opus 4.7+ answer "`temperature` is deprecated for this model."
            if temperature is not None and temperature != 1:
                raise bad("`temperature` is deprecated for this model.")
            if body.get("top_p") is not None and body["top_p"] != 1:
                raise bad("`top_p` is deprecated for this model.")
            if body.get("top_k") is not None:
                raise bad("`top_k` is deprecated for this model.")
        if thinking is not None and temperature is not None and temperature != 1:
            # docs/api.md §5 (the anchor after "#" is CONSTRUCTED)
            raise bad(
                "`temperature` may only be set to 1 when thinking is enabled. Please consult our "
                f"documentation at {THINKING_DOCS}#feature-compatibility"
            )

    def check_system(self, system: Any) -> str:
        if system is None:
            return ""
        if isinstance(system, str):
            self.texts.append(system)
            return system
        if not isinstance(system, list):
            raise bad("system: Input should be a valid string or list")  # CONSTRUCTED
        parts = []
        for j, block in enumerate(system):
            path = f"system.{j}."
            if not isinstance(block, Mapping) or block.get("type") != "text":
                raise bad(f"system.{j}.type: Input should be 'text'")  # CONSTRUCTED
            check_keys(block, BLOCK_KEYS["text"], path)
            text = block.get("text")
            if not isinstance(text, str):
                raise bad(f"{path}text: Input should be a valid string")  # CONSTRUCTED
            if not text:
                raise bad("system: text content blocks must be non-empty")  # CONSTRUCTED
            if not text.strip():
                # CONSTRUCTED (the messages variant is real)
                raise bad("system: text content blocks must contain non-whitespace text")
            self.cache_blocks += cache_control(block, path)
            self.texts.append(text)
            parts.append(text)
        return "\n\n".join(parts)

    def check_tools(self, tools: Any) -> list[dict[str, Any]]:
        if tools is None:
            return []
        if not isinstance(tools, list):
            raise bad("tools: Input should be a valid list")  # CONSTRUCTED
        names: set[str] = set()
        out = []
        for i, tool in enumerate(tools):
            path = f"tools.{i}."
            if not isinstance(tool, Mapping):
                raise bad(f"tools.{i}: Input should be a valid dictionary")  # CONSTRUCTED
            name = tool.get("name")
            if not isinstance(name, str):
                raise bad(f"{path}name: Field required")  # CONSTRUCTED
            kind = tool.get("type")
            if kind in (None, "custom"):
                if not _TOOL_NAME.match(name):
                    # CONSTRUCTED (pydantic style)
                    raise bad(
                        f"{path}custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
                    )
                schema = tool.get("input_schema")
                if schema is None:
                    raise bad(f"{path}custom.input_schema: Field required")  # CONSTRUCTED
                if not isinstance(schema, Mapping) or schema.get("type") != "object":
                    # CONSTRUCTED
                    raise bad(f"{path}custom.input_schema.type: Input should be 'object'")
            if name in names:
                raise bad("tools: Tool names must be unique.")  # CONSTRUCTED
            names.add(name)
            self.cache_blocks += cache_control(tool, path)
            self.texts.append(json.dumps(tool, sort_keys=True))
            out.append(dict(tool))
        return out

    def check_tool_choice(
        self,
        choice: Any,
        tools: list[dict[str, Any]],
        thinking: dict[str, Any] | None,
        entry: ModelEntry,
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
            raise bad(
                "tool_choice: Input tag found using 'type' does not match any of the expected "
                "tags: 'auto', 'any', 'tool', 'none'"
            )
        kind = choice["type"]
        keys = {"type"} | ({"disable_parallel_tool_use"} if kind != "none" else set())
        check_keys(
            choice,
            frozenset(keys | ({"name"} if kind == "tool" else set())),
            f"tool_choice.{kind}.",
        )
        if kind == "tool":
            name = choice.get("name")
            if not isinstance(name, str):
                raise bad("tool_choice.tool.name: Field required")  # CONSTRUCTED
            if name not in {t.get("name") for t in tools}:
                # CONSTRUCTED
                raise bad(f"tool_choice.tool.name: Tool '{name}' not found in provided tools")
        if kind in ("any", "tool") and not entry.forced_tool_choice:
            # CONSTRUCTED in the style of the thinking-type errors: the docs say forced tool use
            # returns a 400 invalid_request_error on these models (docs/api.md §9).
            raise bad(
                f'"tool_choice.type.{kind}" is not supported for this model. Use '
                '"tool_choice.type.auto" (and say in the prompt which tool to use) or '
                '"tool_choice.type.none".'
            )
        if kind in ("any", "tool") and not tools:
            # CONSTRUCTED
            raise bad(f"tool_choice: tool_choice.type '{kind}' requires `tools` to be provided")
        if kind in ("any", "tool") and thinking is not None:
            raise bad("Thinking may not be enabled when tool_choice forces tool use.")  # real
        return dict(choice)

    def check_output_schema(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        oc = body.get("output_config")
        fmt: Any = None
        if oc is not None:
            if not isinstance(oc, Mapping):
                raise bad("output_config: Input should be a valid dictionary")  # CONSTRUCTED
            check_keys(oc, frozenset({"effort", "format"}), "output_config.")
            effort = oc.get("effort")
            if effort is not None and effort not in ("low", "medium", "high", "xhigh", "max"):
                # CONSTRUCTED
                raise bad(
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
            raise bad(f"{where}.type: Input should be 'json_schema'")  # CONSTRUCTED
        schema = fmt.get("schema")
        if not isinstance(schema, Mapping):
            raise bad(f"{where}.json_schema.schema: Field required")  # CONSTRUCTED
        self.texts.append(json.dumps(schema, sort_keys=True))
        return dict(schema)


def _refused_thinking(kind: str, entry: ModelEntry) -> str:
    """The 400 text for a ``thinking.type`` the model does not take."""
    if kind in ("enabled", "disabled") and "between_tools" not in entry.thinking_types:
        # docs/api.md §5 ("enabled" on Opus 4.7+; "disabled" on Opus 5.5 / Fable 5.1: the
        # models' "what's new" pages quote both texts)
        return (
            f'"thinking.type.{kind}" is not supported for this model. Use '
            '"thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'
        )
    if kind == "disabled":
        # CONSTRUCTED: Sonnet 5.5's page says the message points to between_tools.
        return (
            '"thinking.type.disabled" is not supported for this model. Use '
            '"thinking.type.between_tools" to turn off up-front thinking, or '
            '"thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'
        )
    if kind == "adaptive":
        # CONSTRUCTED: older models know only budget-based thinking.
        return (
            '"thinking.type.adaptive" is not supported for this model. Use '
            '"thinking.type.enabled" with "budget_tokens".'
        )
    # CONSTRUCTED
    return (
        f'"thinking.type.{kind}" is not supported for this model. Use '
        '"thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'
    )
