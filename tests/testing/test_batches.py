"""The fake's Message Batches endpoints: shapes, validation, simulated time, cancel, results,
and the official SDK (test-only) driving them over loopback."""

from __future__ import annotations

import doctest
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import nbclaude.testing._batch_request as batch_request
import nbclaude.testing._batches as fake_batches
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

HEADERS = {"x-api-key": "sk-ant-test-fake-0123456789", "anthropic-version": "2023-06-01"}
FIXTURES = Path(__file__).parent.parent / "fixtures" / "recorded"
BATCH_KEYS = {
    "id",
    "type",
    "processing_status",
    "request_counts",
    "created_at",
    "expires_at",
    "ended_at",
    "cancel_initiated_at",
    "archived_at",
    "results_url",
}


def params(text: str = "Hello", **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def requests_of(*texts: str) -> list[dict[str, Any]]:
    return [{"custom_id": f"r{i}", "params": params(t)} for i, t in enumerate(texts)]


@pytest.fixture
def http(fake: FakeAnthropic) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=fake, base_url="https://api.anthropic.com", headers=HEADERS
    ) as client:
        yield client


def create(http: httpx.Client, requests: list[dict[str, Any]]) -> dict[str, Any]:
    r = http.post("/v1/messages/batches", json={"requests": requests})
    assert r.status_code == 200, r.text
    return dict(r.json())


def poll(http: httpx.Client, batch_id: str) -> dict[str, Any]:
    r = http.get(f"/v1/messages/batches/{batch_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def results(http: httpx.Client, batch_id: str) -> list[dict[str, Any]]:
    r = http.get(f"/v1/messages/batches/{batch_id}/results")
    assert r.status_code == 200, r.text
    assert r.text.endswith("\n")
    return [json.loads(line) for line in r.text.splitlines()]


def by_id(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {line["custom_id"]: line["result"] for line in lines}


def error_of(r: httpx.Response) -> tuple[int, str, str]:
    body = r.json()
    return r.status_code, body["error"]["type"], body["error"]["message"]


def parse_time(text: str) -> datetime:
    assert text.endswith("Z")
    return datetime.fromisoformat(text[:-1] + "+00:00")


# -- shapes ------------------------------------------------------------------------------------


def test_create_answers_a_message_batch_in_progress(http: httpx.Client) -> None:
    batch = create(http, requests_of("a", "b", "c"))
    assert set(batch) == BATCH_KEYS
    assert batch["id"].startswith("msgbatch_") and batch["type"] == "message_batch"
    assert batch["processing_status"] == "in_progress"
    assert batch["request_counts"] == {
        "processing": 3,
        "succeeded": 0,
        "errored": 0,
        "canceled": 0,
        "expired": 0,
    }
    assert batch["results_url"] is None and batch["ended_at"] is None
    assert batch["cancel_initiated_at"] is None and batch["archived_at"] is None
    created, expires = parse_time(batch["created_at"]), parse_time(batch["expires_at"])
    assert expires - created == timedelta(hours=24)


def test_by_default_a_batch_ends_at_its_first_poll(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Text("one"), Text("two"))
    batch = create(http, requests_of("a", "b"))
    ended = poll(http, batch["id"])
    assert ended["processing_status"] == "ended"
    assert ended["request_counts"]["succeeded"] == 2 and ended["request_counts"]["processing"] == 0
    assert parse_time(ended["ended_at"]) >= parse_time(ended["created_at"])
    assert ended["results_url"] == (
        f"https://api.anthropic.com/v1/messages/batches/{batch['id']}/results"
    )
    got = by_id(results(http, batch["id"]))
    assert [got[c]["message"]["content"][0]["text"] for c in ("r0", "r1")] == ["one", "two"]
    msg = got["r0"]["message"]
    assert msg["type"] == "message" and msg["id"].startswith("msg_")
    assert msg["model"] == "claude-haiku-4-5-20251001" and msg["stop_reason"] == "end_turn"
    assert msg["usage"]["service_tier"] == "batch"


def test_default_reply_answers_when_the_script_is_empty(http: httpx.Client) -> None:
    batch = create(http, requests_of("What is 2+2?"))
    poll(http, batch["id"])
    text = results(http, batch["id"])[0]["result"]["message"]["content"][0]["text"]
    assert text.startswith("*(offline fake") and "What is 2+2?" in text


def test_results_are_shuffled_deterministically_and_complete(
    http: httpx.Client, fake: FakeAnthropic
) -> None:
    for n in (2, 3, 10):
        batch = create(http, requests_of(*[f"q{i}" for i in range(n)]))
        poll(http, batch["id"])
        first = [line["custom_id"] for line in results(http, batch["id"])]
        again = [line["custom_id"] for line in results(http, batch["id"])]
        assert first == again  # deterministic
        assert sorted(first) == sorted(f"r{i}" for i in range(n))
        assert first != [f"r{i}" for i in range(n)]  # never the input order


def test_results_content_type_and_request_ids(http: httpx.Client) -> None:
    batch = create(http, requests_of("a"))
    poll(http, batch["id"])
    r = http.get(f"/v1/messages/batches/{batch['id']}/results")
    assert r.headers["content-type"] == "application/binary"
    assert r.headers["request-id"].startswith("req_")


# -- time --------------------------------------------------------------------------------------


def test_per_poll_finishes_requests_in_input_order(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=2)
    fake.add(*(Text(f"reply {i}") for i in range(5)))
    batch = create(http, requests_of("a", "b", "c", "d", "e"))
    seen = []
    for _ in range(3):
        counts = poll(http, batch["id"])["request_counts"]
        seen.append((counts["succeeded"], counts["processing"]))
    assert seen == [(2, 3), (4, 1), (5, 0)]
    assert fake.batches[batch["id"]]["processing_status"] == "ended"
    got = by_id(results(http, batch["id"]))
    assert [got[f"r{i}"]["message"]["content"][0]["text"] for i in range(5)] == [
        f"reply {i}" for i in range(5)
    ]


def test_list_and_results_do_not_count_as_polls(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=1)
    batch = create(http, requests_of("a", "b"))
    for _ in range(3):
        assert (
            http.get("/v1/messages/batches").json()["data"][0]["request_counts"]["processing"] == 2
        )
        assert http.get(f"/v1/messages/batches/{batch['id']}/results").status_code == 404
    assert fake.batches[batch["id"]]["request_counts"]["processing"] == 2


def test_per_poll_zero_waits_for_advance(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=0)
    batch = create(http, requests_of("a", "b", "c"))
    for _ in range(5):
        assert poll(http, batch["id"])["request_counts"]["processing"] == 3
    fake.batches.advance(batch["id"], 1)
    assert fake.batches[batch["id"]]["request_counts"]["succeeded"] == 1
    fake.batches.advance()
    assert poll(http, batch["id"])["processing_status"] == "ended"


def test_per_second_uses_the_wall_clock(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_second=40)
    batch = create(http, requests_of(*"abcdefgh"))
    assert http.get("/v1/messages/batches").json()["data"][0]["request_counts"]["processing"] == 8
    time.sleep(0.1)  # 4 requests' worth
    counts = http.get("/v1/messages/batches").json()["data"][0]["request_counts"]
    assert 1 <= counts["succeeded"] < 8
    time.sleep(0.25)
    assert poll(http, batch["id"])["processing_status"] == "ended"


def test_documented_counts_stay_zero_until_the_end(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=1, live_counts=False)
    batch = create(http, requests_of("a", "b", "c"))
    assert poll(http, batch["id"])["request_counts"]["processing"] == 3
    assert poll(http, batch["id"])["request_counts"] == {
        "processing": 3,
        "succeeded": 0,
        "errored": 0,
        "canceled": 0,
        "expired": 0,
    }
    assert poll(http, batch["id"])["request_counts"]["succeeded"] == 3


def test_expire_marks_unfinished_requests(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=1)
    batch = create(http, requests_of("a", "b", "c"))
    poll(http, batch["id"])
    fake.batches.expire(batch["id"])
    ended = poll(http, batch["id"])
    assert ended["processing_status"] == "ended"
    assert ended["request_counts"]["succeeded"] == 1 and ended["request_counts"]["expired"] == 2
    got = by_id(results(http, batch["id"]))
    assert got["r1"] == {"type": "expired"} and got["r2"] == {"type": "expired"}


def test_pace_and_advance_reject_nonsense(fake: FakeAnthropic) -> None:
    with pytest.raises(ValueError, match="per_poll"):
        fake.batches.pace(per_poll=-1)
    with pytest.raises(ValueError, match="per_second"):
        fake.batches.pace(per_second=0)
    with pytest.raises(ValueError, match="cancel_polls"):
        fake.batches.pace(cancel_polls=0)
    with pytest.raises(ValueError, match="n must"):
        fake.batches.advance(n=-2)
    with pytest.raises(KeyError):
        fake.batches.advance("msgbatch_nope")


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
    reqs = [{"custom_id": "b", "params": params(speed="fast")}]
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


# -- cancel, delete, results before the end, unknown ids ----------------------------------------


def test_cancel_keeps_finished_requests_and_cancels_the_rest(
    http: httpx.Client, fake: FakeAnthropic
) -> None:
    fake.batches.pace(per_poll=1)
    batch = create(http, requests_of("a", "b", "c"))
    poll(http, batch["id"])
    r = http.post(f"/v1/messages/batches/{batch['id']}/cancel")
    canceling = r.json()
    assert canceling["processing_status"] == "canceling"
    assert canceling["cancel_initiated_at"] is not None and canceling["results_url"] is None
    again = http.post(f"/v1/messages/batches/{batch['id']}/cancel").json()
    assert again["processing_status"] == "canceling"  # idempotent while canceling
    assert again["cancel_initiated_at"] == canceling["cancel_initiated_at"]
    ended = poll(http, batch["id"])
    assert ended["processing_status"] == "ended"
    assert ended["request_counts"] == {
        "processing": 0,
        "succeeded": 1,
        "errored": 0,
        "canceled": 2,
        "expired": 0,
    }
    got = by_id(results(http, batch["id"]))
    assert got["r0"]["type"] == "succeeded"
    assert got["r1"] == got["r2"] == {"type": "canceled"}
    r = http.post(f"/v1/messages/batches/{batch['id']}/cancel")
    status, etype, message = error_of(r)
    assert (status, etype) == (400, "invalid_request_error") and "already ended" in message


def test_canceling_can_last_several_polls(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=0, cancel_polls=3)
    batch = create(http, requests_of("a", "b"))
    http.post(f"/v1/messages/batches/{batch['id']}/cancel")
    statuses = [poll(http, batch["id"])["processing_status"] for _ in range(3)]
    assert statuses == ["canceling", "canceling", "ended"]


def test_advance_ends_a_canceling_batch(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=0, cancel_polls=100)
    batch = create(http, requests_of("a"))
    http.post(f"/v1/messages/batches/{batch['id']}/cancel")
    fake.batches.advance(batch["id"])
    assert fake.batches[batch["id"]]["request_counts"]["canceled"] == 1


def test_delete_only_once_ended(http: httpx.Client, fake: FakeAnthropic) -> None:
    batch = create(http, requests_of("a"))
    r = http.delete(f"/v1/messages/batches/{batch['id']}")
    status, _, message = error_of(r)
    assert status == 400 and "cancel it first" in message
    poll(http, batch["id"])
    r = http.delete(f"/v1/messages/batches/{batch['id']}")
    assert r.json() == {"id": batch["id"], "type": "message_batch_deleted"}
    assert len(fake.batches) == 0
    r = http.get(f"/v1/messages/batches/{batch['id']}")
    assert error_of(r)[:2] == (404, "not_found_error")


def test_results_before_the_end_and_unknown_ids(http: httpx.Client) -> None:
    batch = create(http, requests_of("a"))
    r = http.get(f"/v1/messages/batches/{batch['id']}/results")
    status, etype, message = error_of(r)
    assert (status, etype) == (404, "not_found_error") and "not finished processing" in message
    for method, path in [
        ("GET", "/v1/messages/batches/msgbatch_nope"),
        ("GET", "/v1/messages/batches/msgbatch_nope/results"),
        ("POST", "/v1/messages/batches/msgbatch_nope/cancel"),
        ("DELETE", "/v1/messages/batches/msgbatch_nope"),
    ]:
        r = http.request(method, path)
        assert error_of(r) == (
            404,
            "not_found_error",
            "Message Batch msgbatch_nope was not found.",
        ), path
    assert http.post("/v1/messages/batches/x/results").status_code == 404


# -- list -------------------------------------------------------------------------------------


def test_list_is_newest_first_and_paginated(http: httpx.Client) -> None:
    ids = [create(http, requests_of("a"))["id"] for _ in range(5)]
    page = http.get("/v1/messages/batches", params={"limit": 2}).json()
    assert set(page) == {"data", "has_more", "first_id", "last_id"}
    assert [b["id"] for b in page["data"]] == ids[::-1][:2] and page["has_more"]
    assert page["first_id"] == ids[4] and page["last_id"] == ids[3]
    nxt = http.get("/v1/messages/batches", params={"limit": 2, "after_id": ids[3]}).json()
    assert [b["id"] for b in nxt["data"]] == [ids[2], ids[1]] and nxt["has_more"]
    last = http.get("/v1/messages/batches", params={"after_id": ids[1]}).json()
    assert [b["id"] for b in last["data"]] == [ids[0]] and not last["has_more"]
    back = http.get("/v1/messages/batches", params={"limit": 2, "before_id": ids[1]}).json()
    assert [b["id"] for b in back["data"]] == [ids[3], ids[2]] and back["has_more"]
    r = http.get("/v1/messages/batches", params={"limit": 0})
    assert error_of(r)[0] == 400


# -- over loopback, and the official SDK -----------------------------------------------------------


def test_results_url_points_at_the_loopback_server(fake: FakeAnthropic) -> None:
    with fake.serve() as server, httpx.Client(base_url=server.url, headers=HEADERS) as c:
        batch = c.post("/v1/messages/batches", json={"requests": requests_of("a")}).json()
        ended = c.get(f"/v1/messages/batches/{batch['id']}").json()
        assert ended["results_url"] == f"{server.url}/v1/messages/batches/{batch['id']}/results"
        r = c.get(ended["results_url"])
        assert r.status_code == 200 and json.loads(r.text)["custom_id"] == "r0"


def test_the_official_sdk_drives_every_batch_endpoint(fake: FakeAnthropic) -> None:
    anthropic = pytest.importorskip("anthropic")
    fake.batches.pace(per_poll=1)
    fake.add(Text("Paris"), HTTPError(529), Text("Rome"))
    bad = {**params(), "messages": [{"role": "user", "content": ""}]}
    with fake.serve() as server:
        sdk = anthropic.Anthropic(base_url=server.url, api_key=HEADERS["x-api-key"], max_retries=0)
        try:
            batch = sdk.messages.batches.create(
                requests=[
                    {"custom_id": "france", "params": params("Capital of France?")},
                    {"custom_id": "broken", "params": bad},
                    {"custom_id": "busy", "params": params("x")},
                    {"custom_id": "italy", "params": params("Capital of Italy?")},
                ]
            )
            assert batch.processing_status == "in_progress"
            assert batch.request_counts.processing == 4 and batch.results_url is None
            seen = []
            while batch.processing_status != "ended":
                batch = sdk.messages.batches.retrieve(batch.id)
                seen.append(batch.request_counts.succeeded + batch.request_counts.errored)
            assert seen == [1, 2, 3, 4]
            assert batch.ended_at is not None and batch.ended_at >= batch.created_at
            lines = list(sdk.messages.batches.results(batch.id))
            got = {line.custom_id: line.result for line in lines}
            assert [line.custom_id for line in lines] != ["france", "broken", "busy", "italy"]
            assert got["france"].type == "succeeded"
            assert got["france"].message.content[0].text == "Paris"
            assert got["france"].message.usage.service_tier == "batch"
            assert got["italy"].message.content[0].text == "Rome"
            assert got["broken"].type == "errored"
            assert got["broken"].error.error.type == "invalid_request_error"
            assert got["busy"].error.error.type == "overloaded_error"
            listed = list(sdk.messages.batches.list(limit=1))
            assert [b.id for b in listed] == [batch.id]

            second = sdk.messages.batches.create(
                requests=[{"custom_id": f"q{i}", "params": params()} for i in range(3)]
            )
            with pytest.raises(anthropic.BadRequestError):
                sdk.messages.batches.delete(second.id)
            canceling = sdk.messages.batches.cancel(second.id)
            assert canceling.processing_status == "canceling"
            assert canceling.cancel_initiated_at is not None
            ended = sdk.messages.batches.retrieve(second.id)
            assert ended.request_counts.canceled == 3
            assert {r.result.type for r in sdk.messages.batches.results(second.id)} == {"canceled"}
            deleted = sdk.messages.batches.delete(second.id)
            assert deleted.type == "message_batch_deleted" and deleted.id == second.id
            with pytest.raises(anthropic.NotFoundError):
                sdk.messages.batches.retrieve(second.id)
        finally:
            sdk.close()


def test_the_modules_examples_run() -> None:
    failures, tried = doctest.testmod(fake_batches)
    assert tried > 0 and failures == 0
