"""The client against the fake API (in-process and over loopback), and the SDK as an oracle."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import KEY
from sdk_oracle import comparable, exchange_fixtures, sse_fixtures

import nbclaude
from nbclaude import Client
from nbclaude._client.client import retry_delay
from nbclaude.testing import (
    SSE,
    Cut,
    Delay,
    FakeAnthropic,
    HTTPError,
    RawResponse,
    StreamErrorEvent,
    Text,
)

BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 256,
    "messages": [{"role": "user", "content": "Hello, Claude"}],
}


def fast(client: Client) -> Client:
    """Shorten the backoff (the schedule itself is tested on retry_delay)."""
    client._initial_retry_delay = 0.001
    return client


@pytest.fixture
def fake() -> FakeAnthropic:
    return FakeAnthropic(api_key=KEY)


@pytest.fixture
def server(fake: FakeAnthropic) -> Iterator[Any]:
    with fake.serve(port=0) as srv:
        yield srv


@pytest.fixture(params=["in-process", "loopback"])
def client(request: pytest.FixtureRequest, fake: FakeAnthropic) -> Iterator[Client]:
    if request.param == "in-process":
        yield fast(Client(api_key=KEY, transport=fake))
    else:
        with fake.serve(port=0) as srv:
            c = fast(Client(api_key=KEY, base_url=srv.url))
            yield c
            c.close()


def assert_no_key(exc: BaseException) -> None:
    assert KEY not in str(exc)
    assert KEY not in repr(exc)
    for value in vars(exc).values():
        assert KEY not in repr(value)


# -- basics -----------------------------------------------------------------------------------


def test_create_returns_the_message(client: Client, fake: FakeAnthropic) -> None:
    fake.add(Text("Hello! How can I help?"))
    msg = client.create(**BODY)
    assert msg["content"] == [{"type": "text", "text": "Hello! How can I help?"}]
    assert msg["stop_reason"] == "end_turn"
    assert fake.requests[-1].json == BODY


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


def test_headers(fake: FakeAnthropic) -> None:
    fake.add(Text("x"))
    Client(api_key=KEY, transport=fake).create(**BODY)
    h = fake.requests[-1].headers
    assert h["x-api-key"] == KEY
    assert h["anthropic-version"] == "2023-06-01"
    assert h["user-agent"].startswith(f"nbclaude/{nbclaude.__version__}")
    assert h["content-type"] == "application/json"
    assert "authorization" not in h


def test_environment_and_auth_token(monkeypatch: pytest.MonkeyPatch, server: Any) -> None:
    fake = FakeAnthropic()
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "tok-123")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://example.invalid/")
    c = Client(transport=fake, api_version="2026-10-21")
    assert c.base_url == "http://example.invalid"
    fake.add(Text("x"))
    c.create(**BODY)
    h = fake.requests[-1].headers
    assert h["authorization"] == "Bearer tok-123"
    assert "x-api-key" not in h
    assert h["anthropic-version"] == "2026-10-21"
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    Client(transport=fake).create(**BODY)
    both = fake.requests[-1].headers
    assert both["x-api-key"] == KEY and both["authorization"] == "Bearer tok-123"


def test_missing_key_is_reported_at_request_time() -> None:
    c = Client(transport=FakeAnthropic())  # building it is fine
    with pytest.raises(nbclaude.MissingAPIKeyError) as info:
        c.create(**BODY)
    text = str(info.value)
    assert "ANTHROPIC_API_KEY" in text and "offline" in text.lower()


def test_repr_hides_the_key() -> None:
    c = Client(api_key=KEY)
    assert KEY not in repr(c) and "<set>" in repr(c)


def test_count_tokens(client: Client) -> None:
    n = client.count_tokens(model="claude-haiku-4-5", messages=BODY["messages"], max_tokens=9)
    assert isinstance(n, int) and n > 0


def test_models_follow_pagination(fake: FakeAnthropic) -> None:
    extra = [f"claude-test-{i:04d}" for i in range(1500)]
    fake = FakeAnthropic(models=extra)
    models = Client(api_key=KEY, transport=fake).models()
    ids = [m["id"] for m in models]
    assert set(extra) <= set(ids) and len(ids) == len(set(ids))
    pages = [r for r in fake.requests if r.path == "/v1/models"]
    assert len(pages) >= 2
    assert "after_id" in pages[1].query


# -- the recorded fixtures, through the loopback fake, against the SDK ------------------------


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


def _replay(exchange: list[dict[str, Any]]) -> list[Any]:
    items: list[Any] = []
    for step in exchange:
        resp = step["response"]
        headers = {k: v for k, v in resp["headers"].items() if k != "content-length"}
        items.append(RawResponse(resp["status_code"], resp["body"], headers=headers))
    return items


ERROR_EXCHANGES = [
    (name, ex)
    for name, ex in exchange_fixtures()
    if any(s["response"]["status_code"] >= 400 for s in ex)
]


def test_there_are_recorded_errors() -> None:
    assert {name[:8] for name, _ in ERROR_EXCHANGES} >= {"a8b7dbb8", "d743d628", "f59a9391"}


@pytest.mark.parametrize(("name", "exchange"), ERROR_EXCHANGES)
def test_recorded_error_exchanges(name: str, exchange: list[dict[str, Any]]) -> None:
    fake = FakeAnthropic(api_key=KEY)
    fake.add(*_replay(exchange))
    client = fast(Client(api_key=KEY, transport=fake))
    first = exchange[0]["request"]["body"]
    statuses = [s["response"]["status_code"] for s in exchange]
    if statuses[:3] == [429, 429, 200]:
        # the recorded 429, 429, 200 sequence succeeds on the third attempt
        if first.get("stream"):
            with client.stream(**{k: v for k, v in first.items() if k != "stream"}) as st:
                msg = st.get_final_message()
        else:
            msg = client.create(**first)
        assert len(fake.requests) == 3
        assert msg["content"]
    else:
        bad = statuses.index(400)
        with pytest.raises(nbclaude.BadRequestError) as info:
            for step in exchange[: bad + 1]:
                client.create(**{k: v for k, v in step["request"]["body"].items() if k != "stream"})
        err = info.value
        assert err.status_code == 400 and err.type == "invalid_request_error"
        assert "tool_use_id" in err.message
        assert err.request_id and err.request_id.startswith("req_")


# -- retries ----------------------------------------------------------------------------------


def test_retry_delay_schedule_matches_the_sdk() -> None:
    assert [retry_delay(n, rand=0.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert retry_delay(0, rand=1.0) == 0.375  # up to -25 % jitter
    assert retry_delay(3, {"retry-after-ms": "250"}) == 0.25
    assert retry_delay(3, {"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_delay(3, {"retry-after": "9"}) == 9.0
    assert retry_delay(0, {"retry-after": "61"}, rand=0.0) == 0.5  # over 60 s: ignored
    assert retry_delay(0, {"retry-after": "0"}, rand=0.0) == 0.5  # 0 is not > 0
    assert retry_delay(0, {"retry-after": "soon"}, rand=0.0) == 0.5
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < retry_delay(0, {"retry-after": date}) <= 30


RETRYABLE = [408, 409, 429, 500, 502, 503, 504, 529]
EXPECTED_CLASS = {
    408: nbclaude.APIStatusError,
    409: nbclaude.APIStatusError,
    429: nbclaude.RateLimitError,
    500: nbclaude.InternalServerError,
    502: nbclaude.InternalServerError,
    503: nbclaude.InternalServerError,
    504: nbclaude.InternalServerError,
    529: nbclaude.OverloadedError,
}


@pytest.mark.parametrize("status", RETRYABLE)
@pytest.mark.parametrize("retry_after", [None, "0.05"])
def test_retryable_statuses_are_retried_twice(
    client: Client, fake: FakeAnthropic, status: int, retry_after: str | None
) -> None:
    headers = {"retry-after": retry_after} if retry_after else None
    fake.add(*[HTTPError(status, headers=headers) for _ in range(3)])
    t = time.perf_counter()
    with pytest.raises(EXPECTED_CLASS[status]) as info:
        client.create(**BODY)
    elapsed = time.perf_counter() - t
    assert len(fake.requests) == 3
    assert info.value.status_code == status
    assert info.value.request_id
    if retry_after:
        assert elapsed >= 0.1  # two waits of 0.05 s, as the server asked
    assert_no_key(info.value)


@pytest.mark.parametrize("status", RETRYABLE)
def test_retry_then_success(client: Client, fake: FakeAnthropic, status: int) -> None:
    fake.add(HTTPError(status), Text("finally"))
    with client.stream(**BODY) as st:
        assert "".join(st.text_stream) == "finally"
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, nbclaude.BadRequestError),
        (401, nbclaude.AuthenticationError),
        (403, nbclaude.PermissionDeniedError),
        (404, nbclaude.NotFoundError),
        (413, nbclaude.RequestTooLargeError),
        (422, nbclaude.APIStatusError),
        (402, nbclaude.APIStatusError),
    ],
)
def test_client_errors_are_not_retried(
    client: Client, fake: FakeAnthropic, status: int, cls: type
) -> None:
    fake.add(HTTPError(status), Text("never reached"))
    with pytest.raises(cls) as info:
        client.create(**BODY)
    assert len(fake.requests) == 1
    assert type(info.value) is cls
    assert info.value.hint or cls is nbclaude.APIStatusError
    assert_no_key(info.value)


def test_x_should_retry_overrides_the_status(client: Client, fake: FakeAnthropic) -> None:
    fake.add(HTTPError(500, headers={"x-should-retry": "false"}))
    with pytest.raises(nbclaude.InternalServerError):
        client.create(**BODY)
    assert len(fake.requests) == 1
    fake.clear()
    fake.add(HTTPError(400, headers={"x-should-retry": "true"}), Text("yes"))
    assert client.create(**BODY)["content"][0]["text"] == "yes"
    assert len(fake.requests) == 2


def test_max_retries_zero(fake: FakeAnthropic) -> None:
    fake.add(HTTPError(529), Text("x"))
    with pytest.raises(nbclaude.OverloadedError):
        Client(api_key=KEY, transport=fake, max_retries=0).create(**BODY)
    assert len(fake.requests) == 1


def test_error_text_from_the_server_never_shows_the_key(
    client: Client, fake: FakeAnthropic
) -> None:
    fake.add(HTTPError(401, message=f"invalid x-api-key: {KEY}"))
    with pytest.raises(nbclaude.AuthenticationError) as info:
        client.create(**BODY)
    assert_no_key(info.value)
    assert "invalid x-api-key" in str(info.value)


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


def test_read_timeout_is_retried_then_raised(fake: FakeAnthropic) -> None:
    fake.add(Delay(5), Delay(5), Delay(5))
    with fake.serve(port=0) as srv:
        c = fast(Client(api_key=KEY, base_url=srv.url, timeout=0.2))
        t = time.perf_counter()
        with pytest.raises(nbclaude.APITimeoutError) as info:
            c.create(**BODY)
        assert time.perf_counter() - t < 3
        c.close()
    assert len(fake.requests) == 3
    assert_no_key(info.value)


def test_connection_refused_is_retried_then_raised() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = fast(Client(api_key=KEY, base_url=f"http://127.0.0.1:{port}"))
    with pytest.raises(nbclaude.APIConnectionError) as info:
        c.create(**BODY)
    assert not isinstance(info.value, nbclaude.APITimeoutError)
    assert "3 attempt" in str(info.value)
    assert_no_key(info.value)


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


def test_request_sends_extra_headers(client: Client, fake: FakeAnthropic) -> None:
    client.request("GET", "/v1/models", headers={"Accept": "application/binary"})
    assert fake.requests[-1].headers["accept"] == "application/binary"
    assert fake.requests[-1].headers["x-api-key"] == KEY
