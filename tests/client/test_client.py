"""The client against the fake API (in-process and over loopback): requests, the recorded error
exchanges, retries (the schedule itself is in test_retry.py)."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from client.support import BODY, assert_no_key, fast
from conftest import KEY
from sdk_oracle import exchange_fixtures

import nbclaude
from nbclaude import Client
from nbclaude.testing import Delay, FakeAnthropic, HTTPError, RawResponse, Text

# -- basics -----------------------------------------------------------------------------------


def test_create_returns_the_message(client: Client, fake: FakeAnthropic) -> None:
    fake.add(Text("Hello! How can I help?"))
    msg = client.create(**BODY)
    assert msg["content"] == [{"type": "text", "text": "Hello! How can I help?"}]
    assert msg["stop_reason"] == "end_turn"
    assert fake.requests[-1].json == BODY


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


def test_request_sends_extra_headers(client: Client, fake: FakeAnthropic) -> None:
    client.request("GET", "/v1/models", headers={"Accept": "application/binary"})
    assert fake.requests[-1].headers["accept"] == "application/binary"
    assert fake.requests[-1].headers["x-api-key"] == KEY


# -- the recorded error exchanges, against the SDK's ------------------------------------------


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
    fake = FakeAnthropic(api_key=KEY, today="2026-02-25")  # the day these were recorded
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
