"""The client against hostile servers of our own on 127.0.0.1 (tests/client/hostile.py):
redirects to another origin, transport failures that must not escape as httpx's exceptions,
gzip bombs, huge error messages, slowloris answers, stalls, HTML and JSON bodies where a
Message or a stream should be. Every error is checked for the key and the token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from client.hostile import (
    Hostile,
    bad_gzip,
    gzip_bomb,
    message_start,
    raw,
    redirect,
    respond,
    slowloris,
    sse,
    stall,
    stream_end,
    text_delta,
    text_start,
)
from client.reach import assert_unreachable
from client.support import BODY, fast
from conftest import KEY

import nbclaude
from nbclaude import Client
from nbclaude.testing import FakeAnthropic, HTTPError

TOKEN = "tok-Zq9wYx7Vb6Nm5Lk4Jh3Gf2Ds1-bearer"
CREDENTIALS: dict[str, dict[str, str]] = {
    "key": {"api_key": KEY},
    "token": {"auth_token": TOKEN},
}
MESSAGE = json.dumps(
    {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": "Hello!"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 2},
    }
).encode()
MiB = 1024 * 1024


def error_body(kind: str = "overloaded_error", message: str = "Overloaded") -> bytes:
    return json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()


def wait_for(condition: Any, limit: float = 3.0) -> bool:
    """Poll ``condition()`` until it is true or ``limit`` seconds passed (a bounded loop)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def client(url: str, *, cred: str = "key", **kwargs: Any) -> Client:
    return fast(Client(base_url=url, **CREDENTIALS[cred], **kwargs))


def call(c: Client, method: str) -> Any:
    if method == "create":
        return c.create(**BODY)
    with c.stream(**BODY) as st:
        return st.get_final_message()


# -- redirects: never to another origin with the credentials ------------------------------------


@pytest.mark.parametrize("cred", ["key", "token"])
@pytest.mark.parametrize("method", ["create", "stream"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_origin_is_never_followed(
    cred: str, method: str, status: int
) -> None:
    with Hostile(respond(200, MESSAGE)) as other:
        with Hostile(redirect(other.url + "/v1/messages", status)) as api:
            with pytest.raises(nbclaude.APIStatusError) as info:
                call(client(api.url, cred=cred), method)
            assert api.count == 1
        assert other.count == 0  # nothing reached the other origin
    err = info.value
    assert err.status_code == status
    assert f"{other.url}/v1/messages" in str(err)  # it says where the redirect pointed
    assert "another origin" in str(err)
    assert_unreachable(err, KEY, TOKEN)


def test_a_same_origin_redirect_keeping_the_body_is_followed() -> None:
    with Hostile(redirect("/gateway/v1/messages", 307), respond(200, MESSAGE)) as api:
        msg = client(api.url).create(**BODY)
    assert msg["content"][0]["text"] == "Hello!"
    assert [r.path for r in api.requests] == ["/v1/messages", "/gateway/v1/messages"]
    assert api.requests[1].headers["x-api-key"] == KEY
    assert api.requests[1].json == BODY


def test_a_redirect_loop_ends_with_one_clean_error() -> None:
    with Hostile(redirect("/v1/messages", 307)) as api:
        with pytest.raises(nbclaude.APIStatusError, match="loop") as info:
            client(api.url).create(**BODY)
        assert api.count == 6  # the request, then five redirects followed
    assert_unreachable(info.value, KEY)


# -- transport failures are nbclaude's errors, with nothing to reach the key ---------------------


@pytest.mark.parametrize("cred", ["key", "token"])
def test_a_bad_gzip_body_is_a_clean_error_and_not_retried(cred: str) -> None:
    with Hostile(bad_gzip()) as api:
        with pytest.raises(nbclaude.APIError, match="could not be decoded") as info:
            client(api.url, cred=cred).create(**BODY)
        assert api.count == 1
    assert_unreachable(info.value, KEY, TOKEN)


def test_a_bad_gzip_stream_is_a_stream_error() -> None:
    with (
        Hostile(bad_gzip(content_type="text/event-stream")) as api,
        pytest.raises(nbclaude.StreamError, match="could not be decoded") as info,
    ):
        call(client(api.url), "stream")
    assert_unreachable(info.value, KEY)


@pytest.mark.parametrize(
    ("base_url", "why"),
    [
        ("ftp://127.0.0.1:9", "scheme is 'ftp'"),
        ("api.anthropic.com", "no http:// or https://"),
        ("http://[::1", "not a valid URL"),
    ],
)
def test_a_bad_base_url_is_one_line_and_never_retried(base_url: str, why: str) -> None:
    notices: list[Any] = []
    c = fast(Client(api_key=KEY, base_url=base_url, on_retry=notices.append))
    for method in ("create", "stream"):
        with pytest.raises(nbclaude.APIConnectionError) as info:
            call(c, method)
        err = info.value
        assert why in str(err) and "Nothing was sent" in str(err)
        assert "\n" not in str(err)
        assert_unreachable(err, KEY)
    assert notices == []


def test_garbage_instead_of_http_is_a_clean_connection_error() -> None:
    with Hostile(raw(b"THIS IS NOT HTTP\r\n\r\n")) as api:
        with pytest.raises(nbclaude.APIConnectionError) as info:
            client(api.url).create(**BODY)
        assert api.count == 3  # a protocol error is retried, as the SDK does
    assert "3 attempts" in str(info.value)
    assert_unreachable(info.value, KEY)


def test_response_headers_that_echo_the_key_are_redacted() -> None:
    echo = respond(400, error_body("invalid_request_error", f"bad {KEY}"),
                   headers=[("x-echo-api-key", KEY)])  # fmt: skip
    with Hostile(echo) as api, pytest.raises(nbclaude.BadRequestError) as info:
        client(api.url).create(**BODY)
    assert info.value.headers["x-echo-api-key"] == "<redacted>"
    assert_unreachable(info.value, KEY)


# -- bounded ----------------------------------------------------------------------------------


_MEASURE = """
import resource, sys, nbclaude
from nbclaude import Client
c = Client(api_key=sys.argv[1], base_url=sys.argv[2], max_retries=0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    if sys.argv[3] == "create":
        c.create(model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    else:
        with c.stream(model="claude-haiku-4-5", max_tokens=5,
                      messages=[{"role": "user", "content": "hi"}]) as st:
            st.get_final_message()
except nbclaude.APIError as exc:
    print(type(exc).__name__, str(exc).replace("\\n", " ")[:300])
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


@pytest.mark.parametrize(
    ("method", "content_type", "error"),
    [
        ("create", "application/json", "APIConnectionError"),
        ("stream", "text/event-stream", "StreamError"),
    ],
)
def test_a_gzip_bomb_is_read_within_bounds(method: str, content_type: str, error: str) -> None:
    bomb = gzip_bomb(600 * MiB, content_type=content_type)  # ~600 KiB on the wire
    with Hostile(bomb) as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "NBCLAUDE_"))}
        out = subprocess.run(
            [sys.executable, "-c", _MEASURE, KEY, api.url, method],
            capture_output=True,
            text=True,
            timeout=240,
            env=env,
            check=False,
        )
    lines = out.stdout.strip().splitlines()
    assert out.returncode == 0 and len(lines) == 2, (out.stdout, out.stderr[-2000:])
    assert lines[0].startswith(error), lines[0]
    assert "MiB" in lines[0] or "larger" in lines[0], lines[0]
    grown_mib = int(lines[1])
    assert grown_mib < 200, f"memory grew by {grown_mib} MiB for a 600 MiB bomb"
    assert KEY not in out.stdout + out.stderr


def test_a_huge_error_message_is_cut_for_display_and_kept_whole() -> None:
    huge = "x" * (10 * MiB)
    with (
        Hostile(respond(400, error_body("invalid_request_error", huge))) as api,
        pytest.raises(nbclaude.BadRequestError) as info,
    ):
        client(api.url).create(**BODY)
    err = info.value
    assert len(str(err)) < 3000 and len(repr(err)) < 3000
    assert "more characters" in str(err)
    assert err.full_message == huge


@pytest.mark.parametrize("headers_too", [False, True])
def test_a_slowloris_answer_cannot_outlast_the_deadline(headers_too: bool) -> None:
    drip = slowloris(MESSAGE, every=0.2, headers_too=headers_too)
    with Hostile(drip) as api:
        c = client(api.url, deadline=1.0)
        t = time.monotonic()
        with pytest.raises(nbclaude.APITimeoutError, match="deadline of 1 s") as info:
            c.create(**BODY)
        elapsed = time.monotonic() - t
        assert api.count == 1  # no retry once the deadline has passed
    assert elapsed < 3.0, elapsed
    assert_unreachable(info.value, KEY)


def test_a_stream_that_trickles_bytes_but_no_event_hits_the_idle_timeout() -> None:
    body = sse(message_start(), text_start(), text_delta("never " * 50), *stream_end())
    drip = slowloris(body, every=0.2, content_type="text/event-stream")
    with Hostile(drip) as api:
        c = client(api.url, idle_timeout=1.0)
        t = time.monotonic()
        with pytest.raises(nbclaude.StreamError, match="no event arrived for 1 s") as info:
            call(c, "stream")
    assert time.monotonic() - t < 3.0
    assert_unreachable(info.value, KEY)


def test_a_stream_whose_answer_never_starts_hits_the_idle_timeout() -> None:
    with Hostile(stall(20)) as api:
        c = client(api.url, idle_timeout=1.0, max_retries=0)
        t = time.monotonic()
        with pytest.raises(nbclaude.APITimeoutError, match="within 1 s") as info:
            call(c, "stream")
        assert time.monotonic() - t < 3.0
        assert wait_for(lambda: api.hangups)  # the connection was closed, not left waiting
    assert_unreachable(info.value, KEY)


def test_limits_are_keyword_options_checked_when_set() -> None:
    c = Client(api_key=KEY, deadline=30, idle_timeout=None)
    assert (c.deadline, c.idle_timeout) == (30, None)
    for bad in ({"deadline": 0}, {"idle_timeout": -1}, {"timeout": "soon"}, {"max_retries": -1}):
        with pytest.raises(ValueError, match="must be"):
            Client(api_key=KEY, **bad)  # type: ignore[arg-type]


# -- Stop stops, and nothing is sent after it -------------------------------------------------


def _enter_in_thread(c: Client) -> tuple[Any, threading.Thread, list[BaseException], list[float]]:
    st = c.stream(**BODY)
    errors: list[BaseException] = []
    ended: list[float] = []

    def run() -> None:
        try:
            st.__enter__()
        except BaseException as exc:
            errors.append(exc)
        ended.append(time.monotonic())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return st, thread, errors, ended


def test_stop_while_waiting_for_headers_returns_within_a_second_and_closes_the_socket() -> None:
    with Hostile(stall(20), respond(200, MESSAGE)) as api:
        c = Client(api_key=KEY, base_url=api.url)  # real backoff, real retries
        st, thread, errors, ended = _enter_in_thread(c)
        time.sleep(0.5)
        assert api.count == 1
        stopped = time.monotonic()
        st.close()
        thread.join(5)
        assert ended and ended[0] - stopped < 1.0, ended
        assert errors and isinstance(errors[0], nbclaude.StreamError)
        assert "nothing more was sent" in str(errors[0])
        assert wait_for(lambda: api.hangups) and api.hangups[0] - stopped < 1.0
        time.sleep(2.5)  # longer than any backoff
        assert api.count == 1
    assert_unreachable(errors[0], KEY)


def test_stop_during_a_retry_wait_sends_nothing_more() -> None:
    overloaded = respond(529, error_body(), headers=[("retry-after", "3")])
    with Hostile(overloaded, respond(200, MESSAGE)) as api:
        notices: list[Any] = []
        c = Client(api_key=KEY, base_url=api.url, on_retry=notices.append)
        st, thread, errors, ended = _enter_in_thread(c)
        deadline = time.monotonic() + 5
        while not notices and time.monotonic() < deadline:
            time.sleep(0.02)
        assert notices and notices[0].wait == 3.0
        stopped = time.monotonic()
        st.close()
        thread.join(5)
        assert ended and ended[0] - stopped < 1.0
        time.sleep(3.5)  # past the moment the retry would have been sent
        assert api.count == 1
    assert errors and isinstance(errors[0], nbclaude.StreamError)


def test_session_stop_while_waiting_for_headers() -> None:
    with Hostile(stall(20)) as api:
        s = nbclaude.Session(model="claude-haiku-4-5", client=Client(api_key=KEY, base_url=api.url))
        result: list[Any] = []
        worker = threading.Thread(target=lambda: result.append(s.send("hi")), daemon=True)
        worker.start()
        time.sleep(0.5)
        stopped = time.monotonic()
        s.stop()
        worker.join(5)
        assert time.monotonic() - stopped < 1.5
        assert result and result[0].interrupted and result[0].text == ""
        assert s.messages == [] and not s.busy
        time.sleep(2.0)
        assert api.count == 1


# -- retry notices ----------------------------------------------------------------------------


def test_each_wait_before_a_retry_is_announced() -> None:
    script = [
        respond(429, error_body("rate_limit_error", "slow"), headers=[("retry-after", "0.05")]),
        respond(529, error_body(), headers=[("retry-after", "0.05"), ("request-id", "req_2")]),
        respond(200, MESSAGE),
    ]
    with Hostile(*script) as api:
        seen: list[Any] = []
        per_request: list[Any] = []
        c = Client(api_key=KEY, base_url=api.url, on_retry=seen.append)
        assert c.create(**BODY, on_retry=per_request.append)["content"][0]["text"] == "Hello!"
    assert seen == per_request
    assert [(n.attempt, n.attempts, n.wait, n.status) for n in seen] == [
        (2, 3, 0.05, 429),
        (3, 3, 0.05, 529),
    ]
    assert seen[1].request_id == "req_2"
    assert str(seen[0]) == "Rate limited (429) — retrying in 0.1 s (attempt 2 of 3)…"
    assert str(seen[1]).startswith("Overloaded (529) — retrying in")


def test_a_connection_retry_is_announced_too() -> None:
    with Hostile() as api:
        url = api.url  # closed when the block ends: nothing listens there any more
    seen: list[Any] = []
    with pytest.raises(nbclaude.APIConnectionError):
        call(client(url, on_retry=seen.append), "stream")
    assert [(n.attempt, n.status) for n in seen] == [(2, None), (3, None)]
    assert seen[0].reason == "Connection failed (ConnectError)"


def test_a_failing_retry_callback_does_not_break_the_request() -> None:
    def boom(notice: Any) -> None:
        raise RuntimeError("callback bug")

    fake = FakeAnthropic(api_key=KEY)
    fake.add(HTTPError(529))
    c = fast(Client(api_key=KEY, transport=fake, on_retry=boom))
    assert c.create(**BODY)["stop_reason"] == "end_turn"


# -- item 10: each error one honest line ------------------------------------------------------


def test_a_429_the_server_says_not_to_retry_does_not_claim_retries() -> None:
    fake = FakeAnthropic(api_key=KEY)
    fake.add(HTTPError(429, headers={"x-should-retry": "false"}), HTTPError(429))
    with pytest.raises(nbclaude.RateLimitError) as info:
        fast(Client(api_key=KEY, transport=fake)).create(**BODY)
    text = str(info.value)
    assert len(fake.requests) == 1 and info.value.attempts == 1
    assert "1 attempt" in text and "the server said not to retry" in text
    assert "already retried" not in text and "\n" not in text


def test_a_429_after_every_retry_says_how_many_attempts() -> None:
    fake = FakeAnthropic(api_key=KEY)
    fake.add(*[HTTPError(429) for _ in range(3)])
    with pytest.raises(nbclaude.RateLimitError) as info:
        fast(Client(api_key=KEY, transport=fake)).create(**BODY)
    assert "3 attempts" in str(info.value) and info.value.attempts == 3


def test_the_offline_client_claims_no_retry_it_never_made() -> None:
    from nbclaude._session.backend import offline_client

    c = offline_client()
    fake = c.transport
    assert isinstance(fake, FakeAnthropic)
    fake.add(HTTPError(529), HTTPError(429))
    for cls in (nbclaude.OverloadedError, nbclaude.RateLimitError):
        with pytest.raises(cls) as info:
            c.create(**BODY)
        text = str(info.value)
        assert "1 attempt" in text and "retries are off" in text
        assert "already retried" not in text


def test_a_200_html_page_instead_of_a_stream_says_what_it_was() -> None:
    page = b"<!DOCTYPE html><html><head><title>Campus Wi-Fi: sign in</title></head></html>"
    with (
        Hostile(respond(200, page, content_type="text/html; charset=utf-8")) as api,
        pytest.raises(nbclaude.APIError) as info,
    ):
        call(client(api.url), "stream")
    err = info.value
    assert not isinstance(err, nbclaude.StreamError)
    assert "HTML page" in str(err) and "Campus Wi-Fi: sign in" in str(err)
    assert "cut off" not in str(err) and "\n" not in str(err)
    assert_unreachable(err, KEY)


@pytest.mark.parametrize("method", ["create", "stream"])
def test_a_200_json_error_envelope_raises_its_error(method: str) -> None:
    with Hostile(respond(200, error_body())) as api:
        with pytest.raises(nbclaude.OverloadedError) as info:
            call(client(api.url), method)
        assert api.count == 1
    assert "Overloaded" in str(info.value) and "HTTP 200" in str(info.value)
    assert "cut off" not in str(info.value)


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        (b'{"hello": "world"}', "application/json", "not a Message"),
        (b"<html><title>Gateway</title></html>", "text/html", "HTML page"),
        (b"plain words", "text/plain", "not a Message"),
    ],
)
def test_create_never_returns_what_is_not_a_message(
    body: bytes, content_type: str, says: str
) -> None:
    with (
        Hostile(respond(200, body, content_type=content_type)) as api,
        pytest.raises(nbclaude.APIError, match=says),
    ):
        client(api.url).create(**BODY)


def test_a_redirect_that_echoes_the_key_in_a_header_keeps_it_nowhere() -> None:
    echo = respond(307, b"", headers=[("location", "http://127.0.0.1:9/x"), ("x-echo", KEY)])
    with Hostile(echo) as api, pytest.raises(nbclaude.APIStatusError) as info:
        client(api.url).create(**BODY)
    assert type(info.value).__name__ == "RedirectError"
    assert info.value.headers["x-echo"] == "<redacted>"
    assert_unreachable(info.value, KEY)
