"""Garbage SSE from a server of our own: every malformed event ends the stream with one
StreamError (never an AttributeError or a TypeError), and the text the caller was given is
exactly the text of the partial Message (nothing shown, then dropped)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from client.hostile import (
    Hostile,
    message_start,
    sse,
    sse_events,
    stream_end,
    text_delta,
    text_start,
)
from client.reach import assert_unreachable
from client.support import BODY
from conftest import KEY

import nbclaude
from nbclaude import Client

HEAD = sse(message_start(), text_start(), text_delta("Hello "))
TAIL = sse(text_delta("world"), *stream_end())


def raw_event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


MALFORMED = {
    "a list": (raw_event("content_block_delta", "[1, 2]"), "not a JSON object"),
    "a string delta": (
        raw_event(
            "content_block_delta",
            json.dumps({"type": "content_block_delta", "index": 0, "delta": "oops"}),
        ),
        "malformed content_block_delta",
    ),
    "an untyped block": (
        sse({"type": "content_block_start", "index": 1, "content_block": "x"}),
        "not a typed object",
    ),
    "a number as text": (sse(text_delta(5)), "not a string"),  # type: ignore[arg-type]
    "a delta for a block that never started": (
        sse(text_delta("ghost text", index=7)),
        "block 7, which never started",
    ),
    "a text delta for a tool": (
        sse(
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
            },
            text_delta("not a tool input", index=1),
        ),
        "text_delta for a tool_use block",
    ),
    "a second message_start": (sse(message_start()), "a second message_start"),
    "a bad message_delta": (
        sse({"type": "message_delta", "delta": "x", "usage": {}}),
        "message_delta whose delta",
    ),
    "an index that is a list": (
        raw_event(
            "content_block_delta",
            json.dumps({"type": "content_block_delta", "index": [0], "delta": {}}),
        ),
        "malformed content_block_delta",
    ),
    "invalid JSON": (raw_event("content_block_delta", "{nope"), "invalid JSON"),
    "an error event that is not an object": (raw_event("error", '"down"'), "error event"),
    "a line that never ends": (b"data: " + b"x" * (17 * 1024 * 1024), "longer than 16 MiB"),
}


def run(body: bytes) -> tuple[list[str], nbclaude.StreamError]:
    got: list[str] = []
    with Hostile(sse_events(body)) as api:
        c = Client(api_key=KEY, base_url=api.url, max_retries=0)
        with pytest.raises(nbclaude.StreamError) as info, c.stream(**BODY) as st:
            for text in st.text_stream:
                got.append(text)
        assert api.count == 1
    return got, info.value


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_event_is_a_stream_error_and_nothing_shown_is_lost(name: str) -> None:
    bad, says = MALFORMED[name]
    got, err = run(HEAD + bad + TAIL)
    assert says in str(err), str(err)
    assert got == ["Hello "]
    partial: Any = err.partial
    assert "".join(b.get("text", "") for b in partial["content"]) == "".join(got)
    assert "cut off" not in str(err)  # it says what is wrong, not "try again"
    assert_unreachable(err, KEY)


def test_an_event_before_message_start_is_malformed() -> None:
    got, err = run(sse(text_start(), text_delta("early")) + HEAD + TAIL)
    assert got == [] and "before message_start" in str(err)


def test_bytes_that_hold_no_event_say_so() -> None:
    got, err = run(b"hello world\n\nthis is not an event stream\n")
    assert got == [] and err.partial is None
    assert "before any event" in str(err) and "text/event-stream" in str(err)


def test_a_good_stream_still_streams() -> None:
    with (
        Hostile(sse_events(HEAD + TAIL)) as api,
        Client(api_key=KEY, base_url=api.url).stream(**BODY) as st,
    ):
        assert "".join(st.text_stream) == "Hello world"
