"""Validate request bodies like the real Messages API, with its error texts.

:func:`parse_request` checks the body's shape and fields; the checks of each part live in
mixins: ``_options.py`` (sampling, thinking, system, tools, tool_choice, output_config),
``_messages.py`` (messages, the same-role merge, the conversation rules) and ``_media.py``
(images, documents, media limits), on the shared state of ``_request.py``.

Texts quoted in docs/api.md §5/§10 are used verbatim. Texts marked ``# real (issues)`` were
read off real API responses pasted in public GitHub issues; texts marked ``# CONSTRUCTED``
are our best guess in the API's style (pydantic-like ``<path>: <problem>``).

Schema errors (types, unknown keys) use the request's own message indices; the semantic checks
run after consecutive same-role turns are merged, so their paths use merged indices, as the
API's do (docs/api.md §10.1).
"""

from __future__ import annotations

import json

from nbclaude._api.fields import BETA_FIELDS, COUNT_TOKENS_FIELDS, MESSAGES_FIELDS
from nbclaude._api.limits import MAX_BODY_BYTES, MAX_CACHE_BREAKPOINTS

from ._messages import MessageChecks
from ._models import ModelRegistry
from ._options import OptionChecks
from ._request import FakeAPIError, ParsedRequest, bad, cache_control, check_keys, is_int
from ._tokens import count_tokens, image_tokens

__all__ = ["FakeAPIError", "ParsedRequest", "parse_request"]


class _Parser(MessageChecks, OptionChecks):
    """The request parser: the body's shape here, its parts in the mixins."""

    def parse(self, raw: bytes) -> ParsedRequest:
        if len(raw) > MAX_BODY_BYTES:
            # Message from the docs' errors page; the real 413 comes from the edge.
            raise FakeAPIError(
                413, "request_too_large", "Request exceeds the maximum allowed number of bytes."
            )
        try:
            body = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise bad(f"The request body is not valid JSON: {exc}") from None  # real prefix
        except json.JSONDecodeError as exc:
            # real (issues): "The request body is not valid JSON: <Python json error>"
            raise bad(f"The request body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise bad("body: Input should be a valid dictionary")  # CONSTRUCTED
        allowed = MESSAGES_FIELDS if self.endpoint == "messages" else COUNT_TOKENS_FIELDS
        if self.beta:  # the beta fields, on both endpoints (docs/api.md §2)
            allowed = allowed | BETA_FIELDS
        check_keys(body, allowed, "")
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
                raise bad(f"{key}: Field required")  # CONSTRUCTED (pydantic style)
        model = body["model"]
        if not isinstance(model, str):
            raise bad("model: Input should be a valid string")  # CONSTRUCTED
        max_tokens = 0
        if self.endpoint == "messages":
            max_tokens = body["max_tokens"]
            if not is_int(max_tokens):
                raise bad("max_tokens: Input should be a valid integer")  # CONSTRUCTED
            if max_tokens < 0:
                # CONSTRUCTED
                raise bad("max_tokens: Input should be greater than or equal to 0")
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise bad("stream: Input should be a valid boolean")  # CONSTRUCTED
        raw_messages = body["messages"]
        if not isinstance(raw_messages, list):
            raise bad("messages: Input should be a valid list")  # CONSTRUCTED
        stops = body.get("stop_sequences") or []
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise bad("stop_sequences: Input should be a valid list of strings")  # CONSTRUCTED
        self.check_sampling_types(body)
        self.check_small_fields(body)

        entry = self.registry.get(model)
        if entry is None or entry.lifecycle(self.registry.today()) == "retired":
            # docs/api.md §5: a retired model answers like an unknown one [ISSUE]
            raise FakeAPIError(404, "not_found_error", f"model: {model}")
        if self.endpoint == "messages" and max_tokens > entry.max_tokens:
            raise bad(
                f"max_tokens: {max_tokens} > {entry.max_tokens}, which is the maximum allowed "
                f"number of output tokens for {entry.id}"
            )
        thinking = self.check_thinking(body, entry, max_tokens)
        self.check_sampling(body, entry, thinking)
        system = self.check_system(body.get("system"))
        tools = self.check_tools(body.get("tools"))
        tool_choice = self.check_tool_choice(body.get("tool_choice"), tools, thinking, entry)
        output_schema = self.check_output_schema(body)
        if "cache_control" in body:
            self.cache_blocks += cache_control(body, "")

        if not raw_messages:
            raise bad("messages: at least one message is required")  # real (issues)
        for i, msg in enumerate(raw_messages):
            self.check_message_schema(msg, i)
        merged = self.merge_turns(raw_messages)
        self.check_conversation(merged, entry, thinking)
        self.check_media_limits()
        if self.cache_blocks > MAX_CACHE_BREAKPOINTS:
            raise bad(  # docs/api.md §5 [ISSUE]
                f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be "
                f"provided. Found {self.cache_blocks}."
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
            search_results=self.search_results,
            thinking_type=self.thinking_type,
        )
        parsed.input_tokens = self._count(parsed)
        if parsed.input_tokens > entry.context:
            # docs/api.md §5
            raise bad(f"prompt is too long: {parsed.input_tokens} tokens > {entry.context} maximum")
        return parsed

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
