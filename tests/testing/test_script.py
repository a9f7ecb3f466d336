"""Each script item, streamed and not, over raw httpx (in process and over loopback)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from nbclaude.testing import (
    Cut,
    Delay,
    FakeAnthropic,
    HTTPError,
    Message,
    RedactedThinking,
    Reply,
    StreamErrorEvent,
    Text,
    Thinking,
    ToolUse,
)

HEADERS = {"x-api-key": "sk-ant-test-fake-0123456789", "anthropic-version": "2023-06-01"}


def body(text: str = "Hi", **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 500,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def parse_sse(raw: str) -> list[dict[str, Any]]:
    assert raw.endswith("\n\n"), raw[-50:]
    out = []
    for chunk in raw[:-2].split("\n\n"):
        name, data = chunk.split("\n")
        assert name.startswith("event: ") and data.startswith("data: ")
        event = json.loads(data[6:])
        assert event["type"] == name[7:]
        out.append(event)
    return out


def stream(http: httpx.Client, **extra: Any) -> list[dict[str, Any]]:
    with http.stream("POST", "/v1/messages", json=body(stream=True, **extra)) as r:
        assert r.status_code == 200, r.read()
        return parse_sse(r.read().decode())


def create(http: httpx.Client, **extra: Any) -> dict[str, Any]:
    r = http.post("/v1/messages", json=body(**extra))
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def deltas(events: list[dict[str, Any]], kind: str = "text_delta") -> list[Any]:
    key = {
        "text_delta": "text",
        "thinking_delta": "thinking",
        "input_json_delta": "partial_json",
        "signature_delta": "signature",
        "citations_delta": "citation",
    }[kind]
    return [
        e["delta"][key]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == kind
    ]


def check_order(events: list[dict[str, Any]], *, closed: bool = True) -> None:
    """message_start, blocks in index order (start, deltas, stop), message_delta, message_stop."""
    kinds = [e["type"] for e in events if e["type"] != "ping"]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    open_index = None
    next_index = 0
    for e in events[1:-2]:
        if e["type"] == "content_block_start":
            assert open_index is None or not closed
            assert e["index"] == next_index
            open_index, next_index = e["index"], next_index + 1
        elif e["type"] == "content_block_delta":
            assert e["index"] == open_index
        elif e["type"] == "content_block_stop":
            assert e["index"] == open_index
            open_index = None


# -- Text ------------------------------------------------------------------------------------


def test_text_chunk_size(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Text("abcdefg", chunk_size=3))
    events = stream(http)
    check_order(events)
    assert deltas(events) == ["abc", "def", "g"]


def test_text_max_tokens_truncates(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Text("one two three four"), Text("one two three four"))
    msg = create(http, max_tokens=2)
    assert msg["content"] == [{"type": "text", "text": "one two"}]
    assert msg["stop_reason"] == "max_tokens"
    assert msg["usage"]["output_tokens"] == 2
    events = stream(http, max_tokens=2)
    assert "".join(deltas(events)) == "one two"
    assert events[-2]["delta"]["stop_reason"] == "max_tokens"
    assert events[-2]["usage"]["output_tokens"] == 2


def test_text_stop_sequences(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Text("Paris. END of answer"), Text("Paris. END of answer"))
    msg = create(http, stop_sequences=["never", "END"])
    assert msg["content"][0]["text"] == "Paris. "
    assert (msg["stop_reason"], msg["stop_sequence"]) == ("stop_sequence", "END")
    events = stream(http, stop_sequences=["END"])
    assert "".join(deltas(events)) == "Paris. "
    assert events[-2]["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "END"}


def test_text_overrides(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(
        Text(
            "hi",
            model="claude-other",
            usage={"output_tokens": 99, "cache_read_input_tokens": 7},
            headers={"X-Extra": "1"},
            stop_reason="refusal",
        )
    )
    r = http.post("/v1/messages", json=body())
    msg = r.json()
    assert msg["model"] == "claude-other"
    assert msg["usage"]["output_tokens"] == 99 and msg["usage"]["cache_read_input_tokens"] == 7
    assert msg["stop_reason"] == "refusal"
    assert r.headers["x-extra"] == "1"


def test_text_citations(http: httpx.Client, fake: FakeAnthropic) -> None:
    citation = {
        "type": "char_location",
        "cited_text": "The grass is green.",
        "document_index": 0,
        "document_title": "Doc",
        "start_char_index": 0,
        "end_char_index": 20,
    }
    fake.add(Text("Green.", citations=[citation]), Text("Green.", citations=[citation]))
    assert create(http)["content"][0]["citations"] == [citation]
    events = stream(http)
    assert deltas(events, "citations_delta") == [citation]
    assert events[1]["content_block"] == {"type": "text", "text": "", "citations": []}


# -- tool calls ------------------------------------------------------------------------------


def test_tool_use(http: httpx.Client, fake: FakeAnthropic) -> None:
    args = {"location": "San Francisco, CA", "units": "f"}
    fake.add(ToolUse("get_weather", args, text="Let me check."), ToolUse("get_weather", args))
    msg = create(http)
    assert msg["stop_reason"] == "tool_use"
    text, call = msg["content"]
    assert text == {"type": "text", "text": "Let me check."}
    assert call["type"] == "tool_use" and call["name"] == "get_weather"
    assert call["input"] == args and call["id"].startswith("toolu_")
    assert call["caller"] == {"type": "direct"}
    events = stream(http)
    check_order(events)
    start = next(e for e in events if e["type"] == "content_block_start")
    assert start["content_block"]["input"] == {} and start["content_block"]["name"] == "get_weather"
    pieces = deltas(events, "input_json_delta")
    assert pieces[0] == "" and len(pieces) > 2  # the first chunk is "" as in real streams
    assert json.loads("".join(pieces)) == args
    assert events[-2]["delta"]["stop_reason"] == "tool_use"


def test_parallel_tool_calls_with_reply(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(
        Reply(
            [
                Text("Checking both."),
                ToolUse("get_weather", {"city": "Paris"}),
                ToolUse("get_time", {"tz": "CET"}, id="toolu_fixed"),
            ]
        )
    )
    msg = create(http)
    kinds = [b["type"] for b in msg["content"]]
    assert kinds == ["text", "tool_use", "tool_use"]
    ids = [b["id"] for b in msg["content"][1:]]
    assert ids[1] == "toolu_fixed" and ids[0] != ids[1]
    assert msg["stop_reason"] == "tool_use"


def test_tool_use_cut_by_max_tokens(http: httpx.Client, fake: FakeAnthropic) -> None:
    args = {"text": "a long input " * 20}
    fake.add(ToolUse("write", args), ToolUse("write", args))
    events = stream(http, max_tokens=5)
    assert events[-2]["delta"]["stop_reason"] == "max_tokens"
    assert not [e for e in events if e["type"] == "content_block_stop"]  # as recorded
    partial = "".join(deltas(events, "input_json_delta"))
    assert partial and json.dumps(args).startswith(partial) and partial != json.dumps(args)
    msg = create(http, max_tokens=5)
    assert msg["stop_reason"] == "max_tokens" and msg["content"][0]["type"] == "tool_use"


# -- thinking --------------------------------------------------------------------------------


def test_thinking(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Thinking("Two plus two is four.", "4"), Thinking("Two plus two is four.", "4"))
    msg = create(http)
    thinking, text = msg["content"]
    assert thinking["type"] == "thinking" and thinking["thinking"] == "Two plus two is four."
    assert thinking["signature"]
    assert text == {"type": "text", "text": "4"}
    events = stream(http)
    check_order(events)
    assert events[1]["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}
    assert "".join(deltas(events, "thinking_delta")) == "Two plus two is four."
    block0 = [e for e in events if e.get("index") == 0]
    assert block0[-2]["delta"] == {"type": "signature_delta", "signature": thinking["signature"]}
    assert block0[-1]["type"] == "content_block_stop"


def test_thinking_signature_is_deterministic_and_overridable(fake: FakeAnthropic) -> None:
    with httpx.Client(transport=fake, base_url="https://x", headers=HEADERS) as c:
        fake.add(Thinking("same"), Thinking("same"), Thinking("same", signature="SIG"))
        sigs = [
            c.post("/v1/messages", json=body()).json()["content"][0]["signature"] for _ in "abc"
        ]
    assert sigs[0] == sigs[1] != "SIG" and sigs[2] == "SIG"


def test_redacted_thinking(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(RedactedThinking("EmwKAhgB", "Done."), RedactedThinking("EmwKAhgB", "Done."))
    assert create(http)["content"][0] == {"type": "redacted_thinking", "data": "EmwKAhgB"}
    events = stream(http)
    assert events[1]["content_block"] == {"type": "redacted_thinking", "data": "EmwKAhgB"}
    assert [e for e in events if e.get("index") == 0 and e["type"] == "content_block_delta"] == []


# -- whole messages --------------------------------------------------------------------------

WHOLE = {
    "id": "msg_01XYZ",
    "type": "message",
    "role": "assistant",
    "model": "claude-haiku-4-5-20251001",
    "content": [
        {"type": "text", "text": "Searching."},
        {
            "type": "server_tool_use",
            "id": "srvtoolu_1",
            "name": "web_search",
            "input": {"query": "q"},
        },
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
        {"type": "text", "text": "Found nothing."},
    ],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "container": {"id": "c1", "expires_at": "2026-01-01T00:00:00Z"},
    "usage": {"input_tokens": 10, "output_tokens": 20},
}


def test_message_verbatim(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Message(WHOLE))
    assert create(http, max_tokens=1) == WHOLE  # sent as given: nothing truncated


def test_message_as_a_stream(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Message(WHOLE))
    events = stream(http)
    check_order(events)
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    assert starts[1] == {**WHOLE["content"][1], "input": {}}
    assert starts[2] == WHOLE["content"][2]  # delivered whole
    assert json.loads("".join(deltas(events, "input_json_delta"))) == {"query": "q"}
    assert "".join(deltas(events)) == "Searching.Found nothing."
    assert events[-2]["delta"]["container"] == WHOLE["container"]
    assert events[-2]["usage"]["output_tokens"] == 20


def test_message_fills_in_missing_fields(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Message({"content": [{"type": "text", "text": "x"}]}))
    msg = create(http)
    assert msg["id"].startswith("msg_") and msg["model"] == "claude-haiku-4-5-20251001"
    assert msg["stop_reason"] == "end_turn" and msg["usage"]["output_tokens"] >= 1


def test_reply_with_stop_details(http: httpx.Client, fake: FakeAnthropic) -> None:
    details = {"type": "refusal", "category": "cyber", "explanation": "No."}
    fake.add(Reply([Text("")], stop_reason="refusal", stop_details=details))
    events = stream(http)
    assert deltas(events) == []  # an empty text block: start and stop only
    assert events[0]["message"]["stop_details"] is None
    assert events[-2]["delta"]["stop_details"] == details


# -- failures --------------------------------------------------------------------------------


def test_stream_error_event(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(StreamErrorEvent(after=2, reply=Text("a b c d e")))
    events = stream(http)
    assert deltas(events) == ["a", " b"]
    assert events[-1] == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    assert "message_stop" not in [e["type"] for e in events]


def test_stream_error_event_with_text(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(StreamErrorEvent("api_error", "Internal server error", after="Partial answ"))
    events = stream(http)
    assert "".join(deltas(events)) == "Partial answ"
    assert events[-1]["error"] == {"type": "api_error", "message": "Internal server error"}


def test_stream_error_event_without_stream_is_an_http_error(
    http: httpx.Client, fake: FakeAnthropic
) -> None:
    fake.add(StreamErrorEvent(), StreamErrorEvent("api_error", "boom"))
    r = http.post("/v1/messages", json=body())
    assert r.status_code == 529 and r.json()["error"]["type"] == "overloaded_error"
    assert r.headers["x-should-retry"] == "true"
    r = http.post("/v1/messages", json=body())
    assert r.status_code == 500 and r.json()["error"]["message"] == "boom"


def test_cut_raises_in_httpx(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Cut(after=2, reply=Text("a b c d e")))
    received = b""
    with (
        pytest.raises(httpx.RemoteProtocolError),
        http.stream("POST", "/v1/messages", json=body(stream=True)) as r,
    ):
        assert r.status_code == 200
        for chunk in r.iter_bytes():
            received += chunk
    events = parse_sse(received.decode())
    assert deltas(events) == ["a", " b"]
    assert events[-1]["type"] == "content_block_delta"


def test_cut_without_stream(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Cut())
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/v1/messages", json=body())


def test_cut_after_zero(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Cut(after=0))
    received = b""
    with (
        pytest.raises(httpx.RemoteProtocolError),
        http.stream("POST", "/v1/messages", json=body(stream=True)) as r,
    ):
        for chunk in r.iter_bytes():
            received += chunk
    assert [e["type"] for e in parse_sse(received.decode())] == ["message_start"]


def test_delay_then_reply(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Delay(0.05, Text("late")))
    assert create(http)["content"][0]["text"] == "late"


def test_delay_then_an_error(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Delay(0.05, HTTPError(529)))
    r = http.post("/v1/messages", json=body())
    assert r.status_code == 529 and r.json()["error"]["type"] == "overloaded_error"


def test_bad_items_are_refused() -> None:
    with pytest.raises(TypeError, match="not a script item"):
        FakeAnthropic(["hello"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="either delay= or rate="):
        Text("x", delay=1, rate=2)
    with pytest.raises(ValueError, match="not both"):
        Cut(after="text", reply=Text("x"))
    with pytest.raises(ValueError, match="after must be"):
        StreamErrorEvent(after=-1)
