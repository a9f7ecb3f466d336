"""Events -> Message: every recorded stream agrees with the official SDK's accumulator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sdk_oracle import comparable, sdk_final_message, sse_fixtures

from nbclaude._api.accumulate import MessageAccumulator, accumulate, parse_partial_json
from nbclaude._api.sse import iter_sse


def events_of(body: str) -> list[dict[str, Any]]:
    return [json.loads(e.data) for e in iter_sse([body.encode()]) if e.event != "error"]


@pytest.mark.parametrize(("name", "body"), list(sse_fixtures()))
def test_fixture_matches_the_sdk(name: str, body: str) -> None:
    ours = accumulate(events_of(body))
    assert comparable(dict(ours)) == comparable(sdk_final_message(body)), name


def start(**usage: int) -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage or {"input_tokens": 10, "output_tokens": 1},
        },
    }


def block(i: int, b: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": i, "content_block": b}


def delta(i: int, d: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": i, "delta": d}


def stop(i: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": i}


def test_text_deltas_join() -> None:
    msg = accumulate(
        [
            start(),
            block(0, {"type": "text", "text": ""}),
            *[delta(0, {"type": "text_delta", "text": t}) for t in ["Hel", "lo", ", ", "world"]],
            stop(0),
        ]
    )
    assert msg["content"] == [{"type": "text", "text": "Hello, world"}]


def test_tool_input_joined_and_parsed_at_stop_empty_means_empty_dict() -> None:
    msg = accumulate(
        [
            start(),
            block(0, {"type": "tool_use", "id": "t1", "name": "f", "input": {}}),
            delta(0, {"type": "input_json_delta", "partial_json": ""}),
            delta(0, {"type": "input_json_delta", "partial_json": '{"a": [1, '}),
            delta(0, {"type": "input_json_delta", "partial_json": "2]}"}),
            stop(0),
            block(1, {"type": "tool_use", "id": "t2", "name": "g", "input": {}}),
            delta(1, {"type": "input_json_delta", "partial_json": ""}),
            stop(1),
        ]
    )
    assert [b["input"] for b in msg["content"]] == [{"a": [1, 2]}, {}]


def test_thinking_signature_and_redacted_thinking_kept_verbatim() -> None:
    msg = accumulate(
        [
            start(),
            block(0, {"type": "thinking", "thinking": "", "signature": ""}),
            delta(0, {"type": "thinking_delta", "thinking": "Let me "}),
            delta(0, {"type": "thinking_delta", "thinking": "think."}),
            delta(0, {"type": "signature_delta", "signature": "EqQBsig=="}),
            stop(0),
            block(1, {"type": "redacted_thinking", "data": "opaque=="}),
            stop(1),
        ]
    )
    assert msg["content"] == [
        {"type": "thinking", "thinking": "Let me think.", "signature": "EqQBsig=="},
        {"type": "redacted_thinking", "data": "opaque=="},
    ]


def test_citations_appended() -> None:
    cite = {"type": "char_location", "cited_text": "x", "document_index": 0}
    msg = accumulate(
        [
            start(),
            block(0, {"type": "text", "text": ""}),
            delta(0, {"type": "citations_delta", "citation": cite}),
            delta(0, {"type": "text_delta", "text": "x"}),
            stop(0),
        ]
    )
    assert msg["content"][0] == {"type": "text", "text": "x", "citations": [cite]}


def test_server_tool_blocks_kept_verbatim() -> None:
    result = {
        "type": "web_search_tool_result",
        "tool_use_id": "s1",
        "content": [{"type": "web_search_result", "url": "https://x", "title": "t"}],
    }
    msg = accumulate([start(), block(0, result), stop(0)])
    assert msg["content"] == [result]


def test_message_delta_usage_replaces_totals() -> None:
    msg = accumulate(
        [
            start(input_tokens=10, output_tokens=1, cache_read_input_tokens=0),
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 30, "cache_read_input_tokens": 5},
            },
            {
                "type": "message_delta",
                "delta": {},
                "usage": {"output_tokens": 42, "input_tokens": None},
            },
        ]
    )
    assert msg["usage"] == {"input_tokens": 10, "output_tokens": 42, "cache_read_input_tokens": 5}
    assert msg["stop_reason"] == "end_turn"


def test_truncated_last_block_on_max_tokens() -> None:
    msg = accumulate(
        [
            start(),
            block(0, {"type": "tool_use", "id": "t", "name": "f", "input": {}}),
            delta(
                0, {"type": "input_json_delta", "partial_json": '{"path": "a.txt", "text": "half'}
            ),
            {
                "type": "message_delta",
                "delta": {"stop_reason": "max_tokens"},
                "usage": {"output_tokens": 9},
            },
            {"type": "message_stop"},
        ]
    )
    assert msg["content"][0]["input"] == {"path": "a.txt"}
    assert msg["stop_reason"] == "max_tokens"


def test_unknown_events_blocks_and_deltas_are_ignored() -> None:
    msg = accumulate(
        [
            {"type": "brand_new_event", "x": 1},
            start(),
            block(0, {"type": "hologram", "payload": 1}),
            delta(0, {"type": "hologram_delta", "more": 2}),
            stop(0),
            block(1, {"type": "text", "text": ""}),
            delta(1, {"type": "text_delta", "text": "ok"}),
            delta(7, {"type": "text_delta", "text": "no such block"}),
            stop(1),
            {"type": "ping"},
        ]
    )
    assert msg["content"] == [{"type": "hologram", "payload": 1}, {"type": "text", "text": "ok"}]


def test_snapshot_is_independent_and_shows_open_blocks() -> None:
    acc = MessageAccumulator()
    for e in [
        start(),
        block(0, {"type": "text", "text": ""}),
        delta(0, {"type": "text_delta", "text": "par"}),
    ]:
        acc.feed(e)
    snap = acc.snapshot()
    snap["content"][0]["text"] = "mutated"
    acc.feed(delta(0, {"type": "text_delta", "text": "tial"}))
    assert acc.snapshot()["content"][0]["text"] == "partial"
    assert not acc.stopped


def test_snapshot_before_message_start_raises() -> None:
    with pytest.raises(ValueError, match="message_start"):
        MessageAccumulator().snapshot()


def test_many_deltas_are_linear() -> None:
    import time

    events = [start(), block(0, {"type": "text", "text": ""})]
    events += [delta(0, {"type": "text_delta", "text": "token "}) for _ in range(100_000)]
    t = time.perf_counter()
    msg = accumulate([*events, stop(0)])
    assert len(msg["content"][0]["text"]) == 600_000
    assert time.perf_counter() - t < 2.0  # quadratic concatenation would take far longer


# -- partial JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1, "b": "inc', {"a": 1}),
        ('{"a": 1, "b', {"a": 1}),
        ('{"a": 1, "b":', {"a": 1}),
        ('[1, 2, "x', [1, 2]),
        ('{"a": 12', {"a": 12}),
        ('{"a": 1.', {}),
        ('{"a": tr', {}),
        ('{"a": true', {"a": True}),
        ('{"a": [1, {"b": null', {"a": [1, {"b": None}]}),
        ("", {}),
        ('"abc', {}),
        ('{"a": "x\\', {}),
        ('{"a": [1, 2], "c": {}', {"a": [1, 2], "c": {}}),
    ],
)
def test_partial_json_cases(text: str, expected: Any) -> None:
    assert parse_partial_json(text) == expected


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(value=st.dictionaries(st.text(max_size=6), json_values, max_size=5), data=st.data())
def test_partial_json_agrees_with_the_sdks_parser(
    value: dict[str, Any], data: st.DataObject
) -> None:
    from jiter import from_json

    text = json.dumps(value)
    cut = data.draw(st.integers(min_value=1, max_value=len(text)))
    prefix = text[:cut]
    try:
        expected = from_json(prefix.encode(), partial_mode=True)
    except ValueError:
        expected = {}
    assert parse_partial_json(prefix) == expected
