"""The fake over raw httpx, in process and over loopback: replies, streams, errors, recording."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from nbclaude.testing import (
    SSE,
    FakeAnthropic,
    HTTPError,
    RawResponse,
    Text,
    load_recording,
)

HEADERS = {"x-api-key": "sk-ant-test-fake-0123456789", "anthropic-version": "2023-06-01"}
RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded" / "anthropic-sdk-python"


def body(text: str = "Hi", **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def events(raw: str) -> list[dict[str, Any]]:
    """Parse an SSE body strictly: `event:` equals data.type; every event ends blank-lined."""
    assert raw.endswith("\n\n")
    out = []
    for chunk in raw[:-2].split("\n\n"):
        lines = chunk.split("\n")
        assert lines[0].startswith("event: ") and lines[1].startswith("data: "), chunk
        data = json.loads(lines[1][6:])
        assert data["type"] == lines[0][7:]
        out.append(data)
    return out


def test_text_reply_json(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Text("Hello there!"))
    r = http.post("/v1/messages", json=body())
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    msg = r.json()
    assert msg["type"] == "message" and msg["role"] == "assistant"
    assert msg["content"] == [{"type": "text", "text": "Hello there!"}]
    assert msg["model"] == "claude-haiku-4-5-20251001"  # alias resolved, like the API
    assert msg["stop_reason"] == "end_turn" and msg["stop_sequence"] is None
    assert msg["id"].startswith("msg_")
    assert msg["usage"]["input_tokens"] > 0 and msg["usage"]["output_tokens"] > 0
    assert r.headers["request-id"].startswith("req_")


def test_text_reply_stream_events(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Text("Hello there, world!"))
    with http.stream("POST", "/v1/messages", json=body(stream=True)) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
        raw = r.read().decode()
    evs = events(raw)
    kinds = [e["type"] for e in evs]
    assert kinds[:3] == ["message_start", "content_block_start", "ping"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = [e["delta"]["text"] for e in evs if e["type"] == "content_block_delta"]
    assert "".join(deltas) == "Hello there, world!"
    assert deltas == ["Hello", " there,", " world!"]  # word-ish pieces by default
    start = evs[0]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["output_tokens"] == 1  # small placeholder
    final = evs[-2]
    assert final["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert final["usage"]["output_tokens"] > 1  # cumulative


def test_request_ids_are_deterministic_per_fake() -> None:
    ids = []
    for _ in range(2):
        fake = FakeAnthropic()
        with httpx.Client(transport=fake, base_url="https://x", headers=HEADERS) as c:
            ids.append([c.post("/v1/messages", json=body()).headers["request-id"] for _ in "ab"])
    assert ids[0] == ids[1]
    assert ids[0][0] != ids[0][1]


def test_http_error_envelope(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(
        HTTPError(429, headers={"retry-after": "3"}),
        HTTPError(400, "invalid_request_error", "nope"),
    )
    r = http.post("/v1/messages", json=body(stream=True))  # errors are JSON even for streams
    assert r.status_code == 429
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-should-retry"] == "true"
    assert r.headers["retry-after"] == "3"
    err = r.json()
    assert err["type"] == "error"
    assert err["error"]["type"] == "rate_limit_error"
    assert err["request_id"] == r.headers["request-id"]
    r = http.post("/v1/messages", json=body())
    assert r.status_code == 400 and r.headers["x-should-retry"] == "false"
    assert r.json()["error"] == {"type": "invalid_request_error", "message": "nope"}


@pytest.mark.parametrize(
    ("status", "retry", "kind"),
    [
        (408, "true", "timeout_error"),
        (409, "true", "conflict_error"),
        (500, "true", "api_error"),
        (503, "true", "api_error"),
        (529, "true", "overloaded_error"),
        (401, "false", "authentication_error"),
        (403, "false", "permission_error"),
        (404, "false", "not_found_error"),
        (413, "false", "request_too_large"),
    ],
)
def test_http_error_defaults(
    status: int, retry: str, kind: str, client: httpx.Client, fake: FakeAnthropic
) -> None:
    fake.add(HTTPError(status))
    r = client.post("/v1/messages", json=body())
    assert r.status_code == status
    assert r.headers["x-should-retry"] == retry
    assert r.json()["error"]["type"] == kind


def test_http_error_overrides(client: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(
        HTTPError(529, headers={"x-should-retry": "false"}),
        HTTPError(500, headers={"x-should-retry": None}),
        HTTPError(429, request_id=None),
        HTTPError(502, body="<html>bad gateway</html>", headers={"content-type": "text/html"}),
    )
    assert client.post("/v1/messages", json=body()).headers["x-should-retry"] == "false"
    assert "x-should-retry" not in client.post("/v1/messages", json=body()).headers
    assert client.post("/v1/messages", json=body()).json()["request_id"] is None
    r = client.post("/v1/messages", json=body())
    assert r.text == "<html>bad gateway</html>" and r.headers["content-type"] == "text/html"


def test_sse_replays_fixture_byte_for_byte(http: httpx.Client, fake: FakeAnthropic) -> None:
    raw = (RECORDED / "incomplete_partial_json_response.txt").read_bytes()
    fake.add(SSE(raw, chunk_size=7))
    with http.stream("POST", "/v1/messages", json=body(stream=True)) as r:
        got = r.read()
        assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert got == raw


def test_sse_chunks_arrive_separately_in_process(client: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(SSE(b"event: ping\ndata: {}\n\n", chunk_size=5))
    with client.stream("POST", "/v1/messages", json=body(stream=True)) as r:
        chunks = list(r.iter_raw())
    assert b"".join(chunks) == b"event: ping\ndata: {}\n\n"
    assert [len(c) for c in chunks] == [5, 5, 5, 5, 2]


@pytest.mark.parametrize("fake", [{"today": "2026-02-25"}], indirect=True)  # recorded then
def test_replay_recorded_retry_sequence(http: httpx.Client, fake: FakeAnthropic) -> None:
    path = RECORDED / "a8b7dbb8-2321-4624-abdb-7ba2136b5c38.json"
    fake.add(*load_recording(path))
    recorded = json.loads(path.read_text())
    for exchange in recorded:
        req = exchange["request"]["body"]
        resp = exchange["response"]
        r = http.post("/v1/messages", json=req)
        assert r.status_code == resp["status_code"]
        if isinstance(resp["body"], dict):
            assert r.json() == resp["body"]
            assert r.headers["x-should-retry"] == resp["headers"]["x-should-retry"]
        else:
            assert r.text == resp["body"]
            assert r.headers["content-type"] == "text/event-stream; charset=utf-8"


def test_raw_response_json(client: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(RawResponse(200, {"anything": [1, 2]}, headers={"x-custom": "yes"}))
    r = client.post("/v1/messages", json=body())
    assert r.json() == {"anything": [1, 2]}
    assert r.headers["x-custom"] == "yes"


def test_records_requests(http: httpx.Client, fake: FakeAnthropic) -> None:
    http.post("/v1/messages?beta=true", json=body("one"), headers={"anthropic-beta": "x-2025"})
    http.get("/v1/models", params={"limit": 2})
    assert [(r.method, r.path) for r in fake.requests] == [
        ("POST", "/v1/messages"),
        ("GET", "/v1/models"),
    ]
    first = fake.requests[0]
    assert first.query == {"beta": "true"}
    assert first.headers["anthropic-beta"] == "x-2025"
    assert first.headers["x-api-key"] == HEADERS["x-api-key"]
    assert first.json["messages"][0]["content"] == "one"
    assert json.loads(first.body) == first.json
    assert fake.requests[1].query == {"limit": "2"} and fake.requests[1].json is None
    assert HEADERS["x-api-key"] not in repr(first)
    fake.clear()
    assert fake.requests == []


def test_script_is_consumed_in_order_then_default(
    client: httpx.Client, fake: FakeAnthropic
) -> None:
    fake.add(Text("one"), Text("two"))
    texts = [
        client.post("/v1/messages", json=body()).json()["content"][0]["text"] for _ in range(3)
    ]
    assert texts[:2] == ["one", "two"]
    assert texts[2].startswith("*(offline fake — no model was called)*")
    assert fake.pending == []


def test_invalid_request_consumes_no_script_item(client: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Text("kept"))
    r = client.post("/v1/messages", json=body(" "))
    assert r.status_code == 400
    assert len(fake.pending) == 1
    assert client.post("/v1/messages", json=body()).json()["content"][0]["text"] == "kept"


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({"anthropic-version": "2023-06-01"}, 401, "x-api-key header is required"),
        ({"x-api-key": "", "anthropic-version": "2023-06-01"}, 401, "x-api-key header is required"),
        ({"x-api-key": "k"}, 400, "anthropic-version: header is required"),
    ],
)
def test_header_checks(
    headers: dict[str, str], status: int, message: str, fake: FakeAnthropic
) -> None:
    with httpx.Client(transport=fake, base_url="https://x") as c:
        r = c.post("/v1/messages", json=body(), headers=headers)
    assert r.status_code == status
    err = r.json()["error"]
    assert err["message"] == message
    assert err["type"] == ("authentication_error" if status == 401 else "invalid_request_error")


def test_both_versions_and_both_auth_headers(fake: FakeAnthropic) -> None:
    with httpx.Client(transport=fake, base_url="https://x") as c:
        for headers in (
            {"x-api-key": "k", "anthropic-version": "2023-06-01"},
            {"authorization": "Bearer k", "anthropic-version": "2026-10-21"},
        ):
            assert c.post("/v1/messages", json=body(), headers=headers).status_code == 200


def test_api_key_must_match() -> None:
    fake = FakeAnthropic(api_key="right")
    with httpx.Client(transport=fake, base_url="https://x") as c:
        v = {"anthropic-version": "2023-06-01"}
        assert (
            c.post("/v1/messages", json=body(), headers={**v, "x-api-key": "right"}).status_code
            == 200
        )
        r = c.post("/v1/messages", json=body(), headers={**v, "x-api-key": "wrong"})
        assert r.status_code == 401
        assert r.json()["error"] == {"type": "authentication_error", "message": "invalid x-api-key"}
        ok = c.post("/v1/messages", json=body(), headers={**v, "authorization": "Bearer right"})
        assert ok.status_code == 200
        bad = c.post("/v1/messages", json=body(), headers={**v, "authorization": "Bearer wrong"})
        assert bad.status_code == 401
        assert "wrong" not in bad.text and "right" not in bad.text


def test_unknown_path_and_method(client: httpx.Client) -> None:
    for r in (client.get("/v1/nothing"), client.delete("/v1/messages"), client.get("/v2/messages")):
        assert r.status_code == 404
        assert r.json()["error"]["type"] == "not_found_error"
        assert r.headers["request-id"].startswith("req_")


def test_beta_query_accepted_everywhere(client: httpx.Client) -> None:
    assert client.post("/v1/messages?beta=true", json=body()).status_code == 200
    assert (
        client.post(
            "/v1/messages/count_tokens?beta=true",
            json={"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "x"}]},
        ).status_code
        == 200
    )
    assert client.get("/v1/models?beta=true").status_code == 200
    assert client.get("/v1/models/claude-haiku-4-5?beta=true").status_code == 200


# -- bounded memory (issue #11 item 8) -------------------------------------------------------


def test_keep_requests_bounds_what_the_fake_remembers() -> None:
    """Failed before (no such option): a long-lived fake kept every request, each with the
    whole conversation, so memory grew with the square of the chat."""
    import tracemalloc

    def chat(keep: int | None, turns: int) -> tuple[FakeAnthropic, int]:
        fake = FakeAnthropic(keep_requests=keep)
        messages: list[dict[str, Any]] = []
        tracemalloc.start()
        try:
            with httpx.Client(transport=fake, base_url="https://x", headers=HEADERS) as c:
                for n in range(turns):
                    messages.append({"role": "user", "content": f"question {n} " * 5})
                    reply = c.post("/v1/messages", json=body(messages=messages)).json()
                    messages.append({"role": "assistant", "content": reply["content"]})
            return fake, tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()

    bounded, small = chat(1, 40)
    assert len(bounded.requests) == 1
    assert len(bounded.requests[-1].json["messages"]) == 2 * 40 - 1  # the last one is kept
    everything, big = chat(None, 40)
    assert len(everything.requests) == 40
    assert big > 3 * small, (big, small)  # every history kept, against only the last one
    none, _ = chat(0, 3)
    assert len(none.requests) == 0
    with pytest.raises(ValueError, match="keep_requests"):
        FakeAnthropic(keep_requests=-1)
