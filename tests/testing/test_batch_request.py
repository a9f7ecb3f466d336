"""One Message Batch request in the fake (``_batch_request.py``): each request validated and
answered like ``POST /v1/messages``; the batch itself validated at creation."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

import nbclaude.testing._batch_request as batch_request
from nbclaude.testing import (
    SSE,
    Cut,
    Delay,
    FakeAnthropic,
    HTTPError,
    Message,
    RawResponse,
    StreamErrorEvent,
    Text,
)

from .batch_calls import (
    FIXTURES,
    HEADERS,
    by_id,
    create,
    error_of,
    params,
    poll,
    requests_of,
    results,
)


@pytest.fixture
def http(client: httpx.Client) -> httpx.Client:
    """Raw httpx on the fake, in process only (conftest's ``http`` adds a loopback twin)."""
    return client


# -- each request: validated and answered like POST /v1/messages --------------------------------


def test_an_invalid_request_errors_alone_and_consumes_nothing(
    http: httpx.Client, fake: FakeAnthropic
) -> None:
    fake.add(Text("first"), Text("second"))
    bad_block = {"type": "text", "text": ""}
    reqs = [
        {"custom_id": "ok1", "params": params("a")},
        {
            "custom_id": "bad",
            "params": {**params(), "messages": [{"role": "user", "content": [bad_block]}]},
        },
        {"custom_id": "ok2", "params": params("b")},
    ]
    batch = create(http, reqs)
    assert poll(http, batch["id"])["request_counts"]["errored"] == 1
    got = by_id(results(http, batch["id"]))
    assert got["bad"] == {
        "type": "errored",
        "error": {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "messages: text content blocks must be non-empty",
            },
        },
    }
    assert got["ok1"]["message"]["content"][0]["text"] == "first"
    assert got["ok2"]["message"]["content"][0]["text"] == "second"
    assert fake.pending == []


def test_params_errors_match_the_messages_endpoint(http: httpx.Client) -> None:
    cases = {
        "model": params(model="claude-nope"),
        "tokens": params(max_tokens=10**6),
        "extra": params(bogus=1),
        "missing": {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "x"}]},
    }
    batch = create(http, [{"custom_id": k, "params": v} for k, v in cases.items()])
    poll(http, batch["id"])
    got = by_id(results(http, batch["id"]))
    for custom_id, body in cases.items():
        direct = http.post("/v1/messages", json=body)
        _, etype, message = error_of(direct)
        assert got[custom_id]["error"]["error"] == {"type": etype, "message": message}
    assert got["model"]["error"]["error"]["type"] == "not_found_error"


def test_batch_only_rules_stream_and_max_tokens_zero(http: httpx.Client) -> None:
    batch = create(
        http,
        [
            {"custom_id": "s", "params": params(stream=True)},
            {"custom_id": "s0", "params": params(stream=False)},
            {"custom_id": "z", "params": params(max_tokens=0)},
        ],
    )
    poll(http, batch["id"])
    got = by_id(results(http, batch["id"]))
    assert got["s"]["error"]["error"]["message"] == "stream: Input should be False"
    assert got["s0"]["type"] == "succeeded"
    assert got["z"]["error"]["error"]["message"] == (
        "max_tokens: Input should be greater than or equal to 1"
    )


def test_script_items_in_a_batch(http: httpx.Client, fake: FakeAnthropic) -> None:
    sse = (FIXTURES / "anthropic-sdk-python" / "basic_response.txt").read_text()
    fake.add(
        HTTPError(529),
        StreamErrorEvent("api_error", "Internal server error"),
        Cut(),
        Delay(30, Text("after a delay")),
        Message({"content": [{"type": "text", "text": "verbatim"}], "stop_reason": "max_tokens"}),
        SSE(sse.rstrip("\n") + "\n\n"),
        RawResponse(200, {"type": "message", "id": "msg_raw", "content": []}),
        RawResponse(429, {"type": "error", "error": {"type": "rate_limit_error", "message": "x"}}),
        HTTPError(400, message="custom text"),
    )
    batch = create(http, requests_of(*"abcdefghi"))
    start = time.monotonic()
    poll(http, batch["id"])
    assert time.monotonic() - start < 5  # a Delay does not wait inside a batch
    got = by_id(results(http, batch["id"]))

    def err(cid: str) -> dict[str, Any]:
        return dict(got[cid]["error"]["error"])

    assert err("r0") == {"type": "overloaded_error", "message": "Overloaded"}
    assert err("r1") == {"type": "api_error", "message": "Internal server error"}
    assert err("r2")["type"] == "api_error"
    assert got["r3"]["message"]["content"][0]["text"] == "after a delay"
    assert got["r4"]["message"]["stop_reason"] == "max_tokens"
    assert got["r4"]["message"]["content"][0]["text"] == "verbatim"
    assert "".join(b["text"] for b in got["r5"]["message"]["content"]) == "Hello there!"
    assert got["r6"]["message"]["id"] == "msg_raw"
    assert err("r7") == {"type": "rate_limit_error", "message": "x"}
    assert err("r8") == {"type": "invalid_request_error", "message": "custom text"}


def test_beta_params_need_the_beta_flag(http: httpx.Client) -> None:
    reqs = [{"custom_id": "b", "params": params(context_management={"edits": []})}]
    plain = create(http, reqs)
    r = http.post("/v1/messages/batches?beta=true", json={"requests": reqs})
    beta = r.json()
    for batch in (plain, beta):
        poll(http, batch["id"])
    assert results(http, plain["id"])[0]["result"]["type"] == "errored"
    assert results(http, beta["id"])[0]["result"]["type"] == "succeeded"


# -- the batch itself: validated at creation ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "requests: Field required"),
        ({"requests": {}}, "requests: Input should be a valid list"),
        ({"requests": []}, "requests: List should have at least 1 item after validation, not 0"),
        ({"requests": [], "x": 1}, "x: Extra inputs are not permitted"),
        ({"requests": ["x"]}, "requests.0: Input should be a valid dictionary"),
        ({"requests": [{"params": params()}]}, "requests.0.custom_id: Field required"),
        (
            {"requests": [{"custom_id": "a" * 65, "params": params()}]},
            "requests.0.custom_id: String should have at most 64 characters",
        ),
        (
            {"requests": [{"custom_id": "", "params": params()}]},
            "requests.0.custom_id: String should have at least 1 character",
        ),
        (
            {"requests": [{"custom_id": "has space", "params": params()}]},
            "requests.0.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'",
        ),
        (
            {"requests": [{"custom_id": 7, "params": params()}]},
            "requests.0.custom_id: Input should be a valid string",
        ),
        ({"requests": [{"custom_id": "a"}]}, "requests.0.params: Field required"),
        (
            {"requests": [{"custom_id": "a", "params": []}]},
            "requests.0.params: Input should be a valid dictionary",
        ),
        (
            {"requests": [{"custom_id": "a", "params": {}, "x": 1}]},
            "requests.0.x: Extra inputs are not permitted",
        ),
    ],
)
def test_a_bad_batch_is_a_400(http: httpx.Client, body: Any, message: str) -> None:
    r = http.post("/v1/messages/batches", json=body)
    assert error_of(r) == (400, "invalid_request_error", message)
    assert r.headers["x-should-retry"] == "false"


def test_duplicate_custom_ids_and_too_many_requests(http: httpx.Client) -> None:
    r = http.post(
        "/v1/messages/batches",
        json={"requests": [{"custom_id": "a", "params": {}}, {"custom_id": "a", "params": {}}]},
    )
    status, _, message = error_of(r)
    assert status == 400 and message.startswith("requests.1.custom_id: Duplicate custom_id 'a'")
    many = [{"custom_id": f"c{i}", "params": {}} for i in range(100_001)]
    r = http.post("/v1/messages/batches", json={"requests": many})
    assert error_of(r) == (
        400,
        "invalid_request_error",
        "requests: List should have at most 100000 items after validation, not 100001",
    )


def test_a_batch_over_256_mb_is_a_413(http: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_request, "MAX_BATCH_BYTES", 1000)
    r = http.post("/v1/messages/batches", json={"requests": requests_of("x" * 1000)})
    assert r.status_code == 413 and r.json()["error"]["type"] == "request_too_large"


def test_invalid_json_and_missing_key(fake: FakeAnthropic) -> None:
    with httpx.Client(transport=fake, base_url="https://x") as c:
        r = c.post("/v1/messages/batches", json={"requests": []})
        assert r.status_code == 401
        r = c.post("/v1/messages/batches", content=b"{", headers=HEADERS)
        assert r.status_code == 400
        assert r.json()["error"]["message"].startswith("The request body is not valid JSON")
