"""MessageStream: events and text as they arrive, the recorded streams against the SDK, broken
streams (StreamError with the partial), close() from another thread, the JSON scanner."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
from client.support import BODY, assert_no_key
from conftest import KEY
from sdk_oracle import comparable, sse_fixtures

import nbclaude
from nbclaude import Client, MessageStream
from nbclaude.testing import SSE, Cut, FakeAnthropic, StreamErrorEvent, Text

# -- basics -----------------------------------------------------------------------------------


def test_stream_text_and_final_message(client: Client, fake: FakeAnthropic) -> None:
    fake.add(Text("one two three", chunk_size=3))
    with client.stream(**BODY) as st:
        text = "".join(st.text_stream)
        final = st.get_final_message()
    assert text == "one two three" == final["content"][0]["text"]
    assert st.request_id and st.request_id.startswith("req_")
    assert fake.requests[-1].json == {**BODY, "stream": True}


def test_stream_iterates_event_dicts_in_order(client: Client, fake: FakeAnthropic) -> None:
    fake.add(Text("hi"))
    with client.stream(**BODY) as st:
        types = [e["type"] for e in st]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    assert "content_block_delta" in types and "message_delta" in types


def test_a_stream_is_given_its_response_not_a_client(fake: FakeAnthropic) -> None:
    fake.add(Text("hi there"))
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    opened: list[threading.Event] = []

    def open_response(cancel: threading.Event) -> httpx.Response:
        opened.append(cancel)
        request = http.build_request(
            "POST", "https://api.anthropic.com/v1/messages", json={**BODY, "stream": True}
        )
        return http.send(request, stream=True)

    with httpx.Client(transport=fake, headers=headers) as http, MessageStream(open_response) as st:
        assert "".join(st.text_stream) == "hi there"
    assert len(opened) == 1 and not opened[0].is_set()
    assert st.get_final_message()["stop_reason"] == "end_turn"


def test_closed_before_it_started_opens_nothing() -> None:
    def open_response(cancel: threading.Event) -> httpx.Response:
        raise AssertionError("a closed stream must not open its response")

    st = MessageStream(open_response)
    st.close()
    with pytest.raises(nbclaude.StreamError, match="closed before it started"):
        st.__enter__()


# -- the recorded streams, through the loopback fake, against the SDK -------------------------


@pytest.mark.parametrize(("name", "body"), list(sse_fixtures()))
@pytest.mark.parametrize("chunk_size", [None, 7])
def test_recorded_stream_matches_the_sdk(name: str, body: str, chunk_size: int | None) -> None:
    import anthropic

    fake = FakeAnthropic()
    fake.add(SSE(body, chunk_size=chunk_size), SSE(body, chunk_size=chunk_size))
    with fake.serve(port=0) as srv:
        with Client(api_key=KEY, base_url=srv.url).stream(**BODY) as st:
            ours = st.get_final_message()
        sdk = anthropic.Anthropic(api_key=KEY, base_url=srv.url, max_retries=0)
        with sdk.beta.messages.stream(**BODY) as sdk_stream:
            theirs = sdk_stream.get_final_message().to_dict()
    assert comparable(dict(ours)) == comparable(theirs), name


# -- broken streams ---------------------------------------------------------------------------


def test_mid_stream_error_event_raises_stream_error_with_the_partial(
    client: Client, fake: FakeAnthropic
) -> None:
    partial = Text("Partial answer that never ends", chunk_size=4)
    fake.add(StreamErrorEvent("overloaded_error", "Overloaded", after=3, reply=partial), Text("no"))
    got: list[str] = []
    with pytest.raises(nbclaude.StreamError) as info, client.stream(**BODY) as st:
        for text in st.text_stream:
            got.append(text)
    err = info.value
    assert err.type == "overloaded_error"
    assert "".join(got) == "Partial answ"
    assert err.partial["content"][0]["text"] == "Partial answ"
    assert len(fake.requests) == 1  # never retried after the 200
    assert_no_key(err)


def test_an_error_event_never_shows_the_key(client: Client, fake: FakeAnthropic) -> None:
    fake.add(StreamErrorEvent("api_error", f"bad key {KEY}", after=1))
    with pytest.raises(nbclaude.StreamError) as info, client.stream(**BODY) as st:
        list(st)
    assert "bad key <redacted>" in str(info.value)
    assert_no_key(info.value)


def test_cut_connection_raises_stream_error(client: Client, fake: FakeAnthropic) -> None:
    fake.add(Cut(after=3, reply=Text("Half a sentence and more", chunk_size=4)))
    with pytest.raises(nbclaude.StreamError) as info, client.stream(**BODY) as st:
        st.get_final_message()
    assert info.value.partial["content"][0]["text"] == "Half a sente"  # three 4-character deltas
    assert info.value.partial["stop_reason"] is None
    assert len(fake.requests) == 1
    assert_no_key(info.value)


def test_stream_ending_before_message_stop_raises(client: Client, fake: FakeAnthropic) -> None:
    events = "".join(
        f"event: {e['type']}\ndata: {json.dumps(e)}\n\n"
        for e in [
            {
                "type": "message_start",
                "message": {
                    "id": "msg_x",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-haiku-4-5",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 1, "output_tokens": 1},
                },
            },
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "trunc"},
            },
        ]
    )
    fake.add(SSE(events))
    with (
        pytest.raises(nbclaude.StreamError, match="message_stop") as info,
        client.stream(**BODY) as st,
    ):
        list(st)
    assert info.value.partial["content"][0]["text"] == "trunc"


# -- close ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["in-process", "loopback"])
def test_close_from_another_thread_ends_the_stream_at_once(mode: str) -> None:
    fake = FakeAnthropic(api_key=KEY)
    fake.add(Text("word " * 400, chunk_size=5, delay=0.05))  # would take ~20 s
    ctx = fake.serve(port=0) if mode == "loopback" else None
    srv = ctx.__enter__() if ctx else None
    try:
        c = Client(api_key=KEY, **({"base_url": srv.url} if srv else {"transport": fake}))
        with c.stream(**BODY) as st:
            got: list[str] = []
            timer = threading.Timer(0.3, st.close)
            timer.start()
            t = time.perf_counter()
            for text in st.text_stream:
                got.append(text)
            elapsed = time.perf_counter() - t
        assert elapsed < 1.3, elapsed
        assert st.closed
        assert got and "".join(got).startswith("word")
        partial = st.get_final_message()
        assert partial["stop_reason"] is None
    finally:
        if ctx:
            ctx.__exit__(None, None, None)


def test_close_while_blocked_in_a_read_wakes_the_reader(fake: FakeAnthropic, server: Any) -> None:
    # The server sends one delta, then says nothing for 10 s: the reader is blocked in recv().
    fake.add(Text("a b", chunk_size=2, delay=10))
    c = Client(api_key=KEY, base_url=server.url)
    st = c.stream(**BODY).__enter__()
    it = st.text_stream
    assert next(it) == "a "
    threading.Timer(0.2, st.close).start()
    t = time.perf_counter()
    assert list(it) == []
    assert time.perf_counter() - t < 1.0


# -- the JSON scanner -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"type":"ping"}', {"type": "ping"}),
        ('{"type": "x"}             ', {"type": "x"}),  # the API pads with spaces
        ('  {"type": "x"}', {"type": "x"}),
        ("[1, 2]", [1, 2]),
    ],
)
def test_scan_json_accepts_what_json_loads_accepts(text: str, expected: Any) -> None:
    from nbclaude._client.stream import scan_json as _scan_json

    assert _scan_json(text) == expected == json.loads(text)


@pytest.mark.parametrize("text", ['{"a": 1} trailing', "", "   ", '{"a": ', "nope"])
def test_scan_json_rejects_what_json_loads_rejects(text: str) -> None:
    from nbclaude._client.stream import scan_json as _scan_json

    with pytest.raises(ValueError):
        _scan_json(text)
